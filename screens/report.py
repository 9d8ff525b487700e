"""One report stage: the form, its autosave, check, submit and correction.

The draft is the ``Report`` row itself, so what the officer types is in the
database within a few seconds (``AUTOSAVE_IDLE_S`` after the last keystroke,
at most ``AUTOSAVE_MAX_S`` after the first unsaved one): a crash or a dropped
SSH connection loses nothing older than that. When the colleague's session
saved first, the conflict screen shows both versions and nothing is lost.
When nothing is being typed here, the form follows the other session's saves.
"""
from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static, TextArea

from models.county.receipts import receipt_status
from models.documents import export, file_stem, flagged_characters
from models.messaging import plain_text, short_text
from models.errors import ConflictError, DomainError, ValidationError
from screens._account_form import FieldsInOrder
from models.i18n import t
from models.roles import can
from models.profiles import display_name, display_names
from models.reports import (CHANNELS, Submission, check, due_at, form_fields, get_report, is_late,
                            open_report, save_draft, stage_title, start_correction, stash_conflict,
                            drop_stash, submit)
from models.timeparse import fmt_duration, fmt_local, fmt_when, parse_time
from screens._presence import ShowsPresence

ASSETS = Path(__file__).resolve().parent.parent / "assets"
AUTOSAVE_IDLE_S = 1.5   # save this long after the last keystroke …
AUTOSAVE_MAX_S = 4.0    # … and never later than this after the first unsaved one
TICK_S = 0.5


class ReportScreen(ShowsPresence, FieldsInOrder):
    CSS_PATH = [ASSETS / "tcss" / "report.tcss"]
    # Enter in a one-line field moves to the next field before the next key is read; the
    # report is saved by itself and submitted with F5.
    LAST_SUBMITS = False

    def field_order(self) -> list[str]:
        return [w.id for w in self.query(".field-input, .field-text") if w.id]

    BINDINGS = [
        Binding("escape", "leave", t("report.key.leave"), id="report.leave"),
        Binding("f2,ctrl+s", "save", t("report.key.save"), id="report.save", priority=True),
        Binding("f3", "check", t("report.key.check"), id="report.check", priority=True),
        Binding("f5", "submit", t("report.key.submit"), id="report.submit", priority=True),
        Binding("f6", "export", t("report.key.export"), id="report.export", priority=True),
        Binding("f7", "correct", t("report.key.correct"), id="report.correct", priority=True),
        # f8/f9 are listed in help (f1) and the palette: the footer keeps room for f1 帮助 at 80
        # columns. ? cannot open help here: typed into a field it is a character of the report.
        Binding("f8", "copy_short", t("report.key.copy_short"), id="report.copy_short", priority=True,
                show=False),
        Binding("f9", "copy_plain", t("report.key.copy_plain"), id="report.copy_plain", priority=True,
                show=False),
        Binding("f1", "app.help", t("board.key.help"), id="report.help", priority=True),
    ]

    def __init__(self, incident_id, regime: str = "school_plan", stage: str = "first",
                 seq: int | None = None) -> None:
        super().__init__()
        self.incident_ref = incident_id
        self.regime = regime
        self.stage = stage
        self.seq = seq
        self.report = None
        # The county's receipt (已签收) for this stage, when one came back, and what it says of this
        # report: ("signed", r) for this very revision, ("earlier", r) signed before this correction.
        self.receipt: tuple = (None, None)
        self.version = 0
        self.dirty = False
        self.first_dirty = 0.0
        self.last_change = 0.0
        self.paused = False        # a dialog is open: no autosave, no reload
        self._loading = False
        self.error: str = ""

    # ------------------------------------------------------------ building

    @property
    def ctx(self):
        return self.app.ctx

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="report-title")
        yield VerticalScroll(id="report-form")
        yield Static("", id="report-status")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p still opens it; room for ? 帮助

    async def on_mount(self) -> None:
        try:
            with self.ctx.store.read():
                self.report = open_report(self.ctx, self.incident_ref, self.regime, self.stage, self.seq)
                self.receipt = receipt_status(self.report)
        except DomainError as exc:
            self.query_one("#report-title", Static).update(Text(exc.message))
            self.error = exc.message
            self.notify(exc.message, severity="error")
            return
        self.seq = self.report.seq
        self.version = self.report.version
        self.app.store.feed.follow(self)
        await self._build_form()
        self.start_presence()
        self.call_after_refresh(self._offer_stash)
        self.set_interval(TICK_S, self._tick)
        if hasattr(self.app, "locked"):
            self.watch(self.app, "locked", self._locked_changed, init=True)

    def _locked_changed(self, locked: bool) -> None:
        self.set_class(bool(locked), "-locked")

    @property
    def frozen(self) -> bool:
        """Submitted, or this user may only read: the form shows text, not inputs."""
        if self.report is None:
            return False
        return self.report.status != "draft" or not can(self.app.actor.role, "officer")

    async def _build_form(self) -> None:
        form = self.query_one("#report-form", VerticalScroll)
        await form.remove_children()
        r = self.report
        values = r.fields or {}
        widgets = []
        if r.status != "draft":
            widgets.append(Static(self._submitted_text(), classes="report-submitted"))
        for spec in form_fields(self.ctx, r.regime, r.stage):
            label = Text(spec.label)
            if spec.required:
                label.append(" *", style="bold")
            widgets.append(Label(label, id=f"label-{spec.id}", classes="field-label"))
            if spec.help:
                widgets.append(Static(Text(spec.help), classes="field-help"))
            value = str(values.get(spec.id, "") or "")
            if self.frozen:
                widgets.append(Static(Text(value or "—"), classes="field-value"))
            elif spec.multiline:
                ta = TextArea(value, id=f"field-{spec.id}", classes="field-text", soft_wrap=True,
                              tab_behavior="focus", show_line_numbers=False)
                widgets.append(ta)
            else:
                widgets.append(Input(value, id=f"field-{spec.id}", classes="field-input"))
        self._loading = True
        await form.mount_all(widgets)
        self.call_after_refresh(self._loaded)
        self._update_title()
        self._set_status(t("report.status_line.saved", at=fmt_when(r.updated_at, self.ctx.zone, self.ctx.now(),
                                                                   seconds=True))
                         if r.status == "draft" else t("report.status_line.frozen"))
        if not self.frozen:
            self.call_after_refresh(self._focus_first)
        else:
            self.call_after_refresh(form.focus)

    def _loaded(self) -> None:
        self._loading = False
        # Tabbing into a prefilled text lands at its end, ready to add to it.
        for ta in self.query(TextArea):
            ta.move_cursor(ta.document.end)

    def _focus_first(self) -> None:
        for w in self.query(".field-input, .field-text"):
            w.focus()
            break

    def _submitted_text(self) -> Text:
        r = self.report
        text = Text()
        if r.status == "superseded":
            text.append(t("report.superseded_note") + "\n", style="bold")
        text.append(t("cli.report.submitted_line", at=fmt_local(r.submitted_at, self.ctx.zone),
                      by=display_name(r.submitted_by), channel=t(f"report.channel.{r.channel or 'phone'}"),
                      recipient=r.recipient or ""))
        if r.receipt_confirmed_by:
            text.append("\n" + t("field.submit_confirmed_by") + ": " + r.receipt_confirmed_by)
        state, receipt = self.receipt
        if state == "signed":
            text.append("\n" + t("county.receipt.line", by=receipt.signed_by,
                                  at=fmt_when(receipt.signed_at, self.ctx.zone, self.ctx.now())),
                        style="bold green")
        elif state == "earlier":
            # The bureau signed the version before this correction: it has not seen this one.
            text.append("\n" + t("county2.receipt.earlier", revision=receipt.revision or 1, by=receipt.signed_by,
                                  at=fmt_when(receipt.signed_at, self.ctx.zone, self.ctx.now())),
                        style="bold yellow")
        if r.late_reason:
            text.append("\n" + t("field.submit_late_reason") + ": " + r.late_reason)
        if r.correction_reason:
            text.append("\n" + t("field.correction_reason") + ": " + r.correction_reason)
        return text

    def _update_title(self) -> None:
        r = self.report
        inc = r.incident
        title = Text()
        if inc.is_drill:
            title.append(t("report.drill") + " ", style="bold")
        title.append(f"{inc.code} ")
        title.append(inc.title)
        title.append(" · " + stage_title(self.ctx, r.regime, r.stage, r.seq), style="bold")
        title.append(" · " + t(f"report.status.{r.status}"))
        if r.revision > 1:
            title.append(" " + t("cli.report.revision", n=r.revision))
        if r.status == "draft":
            now = self.ctx.now()
            due = due_at(self.ctx, inc, r.regime, r.stage, r.seq, now) if r.revision == 1 else None
            if due is not None:
                left = (due - now).total_seconds()
                title.append(" · " + t("report.due", at=fmt_when(due, self.ctx.zone, now)))
                if left >= 0:
                    title.append(" " + t("report.left", left=fmt_duration(left)))
                else:
                    title.append(" " + t("report.overdue_by", left=fmt_duration(-left)), style="bold red")
        self.query_one("#report-title", Static).update(title)
        self.sub_title = stage_title(self.ctx, r.regime, r.stage, r.seq)

    def _set_status(self, text: str | Text) -> None:
        self.query_one("#report-status", Static).update(text if isinstance(text, Text) else Text(text))

    # ------------------------------------------------------------ values

    def form_values(self) -> dict[str, str]:
        out = {}
        for w in self.query(".field-input, .field-text"):
            fid = (w.id or "").removeprefix("field-")
            out[fid] = w.text if isinstance(w, TextArea) else w.value
        return out

    def load_values(self, values: dict) -> None:
        self._loading = True
        for w in self.query(".field-input, .field-text"):
            fid = (w.id or "").removeprefix("field-")
            value = str(values.get(fid, "") or "")
            if isinstance(w, TextArea):
                if w.text != value:
                    w.load_text(value)
            elif w.value != value:
                w.value = value
        self.call_after_refresh(self._loaded)

    def _baseline(self) -> dict[str, str]:
        stored = self.report.fields or {} if self.report else {}
        return {k: str(stored.get(k, "") or "") for k in self.form_values()}

    def _changed(self) -> None:
        if self.frozen or self.report is None:
            return
        if self.form_values() == self._baseline():
            return   # a reload or an undo: nothing new to save
        now = time.monotonic()
        if not self.dirty:
            self.dirty = True
            self.first_dirty = now
            self._set_status(t("report.status_line.unsaved"))
        self.last_change = now

    def on_input_changed(self, event: Input.Changed) -> None:
        if "field-input" in event.input.classes:
            self._changed()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if "field-text" in event.text_area.classes:
            self._changed()

    # ------------------------------------------------------------ autosave and following the other session

    def _tick(self) -> None:
        if self.report is None or self.paused:
            return
        now = time.monotonic()
        if self.dirty:
            if now - self.last_change >= AUTOSAVE_IDLE_S or now - self.first_dirty >= AUTOSAVE_MAX_S:
                self.save()
            return
        self._follow_other_session()

    def _follow_other_session(self) -> None:
        """Nothing typed here: show what the other session saved (or submitted)."""
        if not self.app.store.feed.changed(self):
            self._update_title()
            return
        try:
            with self.ctx.store.read():
                fresh = get_report(self.report.id)
                latest = open_report(self.ctx, self.report.incident_id, self.report.regime,
                                     self.report.stage, self.report.seq)
                receipt = receipt_status(latest)
        except DomainError:
            return
        if receipt != self.receipt:
            # The county signed for it (the link wrote the receipt): shown without reopening.
            self.receipt = receipt
            for w in self.query(".report-submitted"):
                w.update(self._submitted_text())
        if latest.id != self.report.id:
            self.report, self.version = latest, latest.version
            self.call_later(self._build_form)
            return
        if fresh.version != self.version:
            was_frozen = self.frozen
            self.report, self.version = fresh, fresh.version
            if fresh.status != "draft" or was_frozen:
                self.call_later(self._build_form)
            else:
                self.load_values(fresh.fields or {})
                self._set_status(t("report.status_line.reloaded"))
        else:
            self._update_title()

    def save(self, quiet: bool = True) -> bool:
        """Write the fields changed on screen; True when the database holds what is on screen.

        Only fields that differ from what was loaded (the base) are sent, with that base:
        the service keeps what the other session saved in fields not touched here.
        """
        if self.report is None or self.frozen:
            return True
        values = self.form_values()
        baseline = self._baseline()
        changed = {k: v for k, v in values.items() if v != baseline.get(k, "")}
        if not changed:
            self.dirty = False
            return True
        try:
            r = save_draft(self.ctx, self.report.id, self.version, changed,
                           base={k: baseline.get(k, "") for k in changed})
        except ConflictError as exc:
            self._conflict(values, exc)
            return False
        except ValidationError as exc:
            fresh = get_report(self.report.id)
            if fresh.status != "draft":   # the other session submitted it meanwhile
                self._conflict(values, None, fresh)
                return False
            self._show_errors(exc)
            self.notify(exc.message, severity="error")
            return False
        except DomainError as exc:
            self._set_status(exc.message)   # e.g. database busy: the text stays on screen
            self.notify(exc.message, severity="error")
            return False
        self.report, self.version = r, r.version
        self.dirty = False
        # Fields the other session saved meanwhile (merged in) now show here too.
        self.load_values({**(r.fields or {}), **changed})
        self._set_status(t("report.status_line.saved", at=fmt_local(self.ctx.now(), self.ctx.zone,
                                                                    date=False, seconds=True)))
        if not quiet:
            self.notify(t("report.saved"))
        return True

    def _conflict(self, mine: dict, exc: ConflictError | None, fresh=None) -> None:
        """Fields both changed (the rest is merged and saved): base, theirs and mine, per field."""
        from screens.conflict import ConflictScreen
        self.paused = True
        stash_conflict(self.ctx, self.report.id, mine)   # kept in the database until decided
        theirs_row = fresh or get_report(self.report.id)
        labels = {f.id: f.label for f in form_fields(self.ctx, self.report.regime, self.report.stage)}
        conflicts = None
        who = ""
        if exc is not None and exc.conflicts:
            conflicts = [c.as_dict() for c in exc.conflicts]
            who = display_names((c.by for c in exc.conflicts), t("merge.joiner"))
            if theirs_row.status == "draft":
                # The merged fields are saved: the form follows the stored row except where you decide.
                self.report, self.version = theirs_row, theirs_row.version
                self.load_values({**(theirs_row.fields or {}),
                                  **{c.field: mine.get(c.field, "") for c in exc.conflicts}})
        screen = ConflictScreen(labels=labels, mine=mine, theirs=dict(theirs_row.fields or {}),
                                their_version=theirs_row.version, their_status=theirs_row.status,
                                their_when=fmt_when(theirs_row.updated_at, self.ctx.zone, self.ctx.now(),
                                                    seconds=True),
                                conflicts=conflicts, who=who, what=stage_title(self.ctx, theirs_row.regime,
                                                                               theirs_row.stage, theirs_row.seq))
        self.app.push_screen(screen, lambda result: self._resolve(result, mine, theirs_row))

    def _resolve(self, result, mine: dict, theirs_row) -> None:
        self.paused = False
        choice, chosen = result if isinstance(result, tuple) else (result, {})
        theirs = dict(theirs_row.fields or {})
        if theirs_row.status != "draft":
            # Submitted meanwhile: theirs is frozen; mine can become a correction.
            self.report, self.version, self.dirty = theirs_row, theirs_row.version, False
            if choice == "mine":
                draft = start_correction(self.ctx, theirs_row.id)
                draft = save_draft(self.ctx, draft.id, draft.version, mine)
                self.report, self.version = draft, draft.version
            elif choice == "copy":
                self.app.copy_to_clipboard(_as_text(mine))
            self.call_later(self._build_form)
            if choice != "copy":
                drop_stash(self.ctx, theirs_row.id)
            return
        self.report, self.version = theirs_row, theirs_row.version
        if choice in ("mine", "merge"):
            # Saved from the version shown, over theirs as shown: if theirs moved again since,
            # the view comes back with the fresh values (never a blind overwrite, never a loop).
            changed = {k: v for k, v in chosen.items() if v != str(theirs.get(k, "") or "")}
            self.load_values({**theirs, **chosen})
            if not changed:
                self.dirty = False
                drop_stash(self.ctx, theirs_row.id)
                return
            try:
                r = save_draft(self.ctx, theirs_row.id, theirs_row.version, changed,
                               base={k: theirs.get(k, "") for k in changed}, resolved=set(changed))
            except ConflictError as exc:
                self._conflict({**self.form_values(), **chosen}, exc)
                return
            except DomainError as exc:
                self.dirty = True
                self.notify(exc.message, severity="error")
                return
            self.report, self.version, self.dirty = r, r.version, False
            self.load_values(r.fields or {})
            drop_stash(self.ctx, theirs_row.id)
            self.notify(t("report.conflict.kept_mine"))
            self._set_status(t("report.status_line.saved", at=fmt_local(self.ctx.now(), self.ctx.zone,
                                                                        date=False, seconds=True)))
            return
        self.dirty = False
        self.load_values(theirs)
        if choice == "copy":
            self.app.copy_to_clipboard(_as_text(mine))
            self.notify(t("report.conflict.copied"))
        else:
            drop_stash(self.ctx, theirs_row.id)
            self.notify(t("report.conflict.took_theirs"))
        self._set_status(t("report.status_line.reloaded"))

    def _show_errors(self, exc: ValidationError) -> None:
        for lbl in self.query(".field-label"):
            lbl.remove_class("-missing")
        for fid in exc.fields:
            for lbl in self.query(f"#label-{fid}"):
                lbl.add_class("-missing")

    # ------------------------------------------------------------ actions

    def action_save(self) -> None:
        if self.frozen:
            self.notify(t("error.report.frozen"), severity="warning")
            return
        self.save(quiet=False)

    def action_check(self) -> None:
        if self.report is None:
            return
        if not self.frozen and not self.save():
            return
        missing = check(self.ctx, self.report)
        for lbl in self.query(".field-label"):
            lbl.set_class(any(lbl.id == f"label-{m.field}" for m in missing), "-missing")
        if not missing:
            self._set_status(t("report.check.ok"))
            self.notify(t("report.check.ok"))
            return
        text = t("cli.report.missing", fields="、".join(m.label for m in missing))
        self._set_status(text)
        self.notify(text, severity="warning", timeout=8)
        for w in self.query(f"#field-{missing[0].field}"):
            w.focus()
            w.scroll_visible()

    def action_submit(self) -> None:
        if self.report is None:
            return
        if self.frozen:
            self.notify(t("error.report.frozen"), severity="warning")
            return
        if not self.save():
            return
        missing = check(self.ctx, self.report)
        if missing:
            self.action_check()
            return
        now = self.ctx.now()
        late = is_late(self.ctx, self.report, now)
        fields = self.report.fields or {}
        recipient = fields.get("recipient") or (self.ctx.settings.bureau if self.report.stage != "oral" else "")
        self.paused = True
        self.app.push_screen(SubmitDialog(self.report, late=late, recipient=self.report.recipient or recipient or ""),
                             self._submitted)

    def _submitted(self, report) -> None:
        self.paused = False
        if report is None:
            return
        self.report, self.version, self.dirty = report, report.version, False
        self.call_later(self._build_form)
        self.notify(t("report.submitted_ok"))

    def action_export(self) -> None:
        if self.report is None:
            return
        if not self.frozen:
            self.save()
        r = self.report
        folder = self.ctx.store.path.parent / f"{self.ctx.store.path.stem}-documents"
        base = file_stem(self.ctx, r)
        try:
            paths = [export(self.ctx, r, fmt, folder / f"{base}.{fmt}") for fmt in ("docx", "txt")]
        except DomainError as exc:
            self.notify(exc.message, severity="error")
            return
        self.notify(t("report.exported", path=str(paths[0]), md=paths[1].name), timeout=10)
        self._warn_unprintable()

    # ------------------------------------------------------------ messaging (OSC 52 clipboard)

    def _warn_unprintable(self) -> None:
        chars = flagged_characters(self.ctx, self.report)
        if chars:
            self.notify(t("report.flagged", chars=" ".join(chars)), severity="warning", timeout=10)

    def _copy(self, short: bool) -> None:
        if self.report is None:
            return
        if not self.frozen:
            self.save()
        try:
            text = short_text(self.ctx, self.report) if short else plain_text(self.ctx, self.report)
        except DomainError as exc:
            self.notify(exc.message, severity="error")
            return
        self.app.copy_to_clipboard(text)
        self.notify(t("report.copied_short" if short else "report.copied_plain", n=len(text)))
        self._warn_unprintable()

    def action_copy_short(self) -> None:
        self._copy(short=True)

    def action_copy_plain(self) -> None:
        self._copy(short=False)

    def action_correct(self) -> None:
        if self.report is None:
            return
        if self.report.status == "draft":
            self.notify(t("error.report.correct_needs_submitted"), severity="warning")
            return
        try:
            r = start_correction(self.ctx, self._in_force_id())
        except DomainError as exc:
            self.notify(exc.message, severity="error")
            return
        self.report, self.version, self.dirty = r, r.version, False
        self.call_later(self._build_form)
        self.notify(t("report.correction_started"))

    def _in_force_id(self) -> int:
        from models.reports import in_force
        r = in_force(self.report.incident, self.report.regime, self.report.stage, self.report.seq)
        return r.id if r else self.report.id

    def action_leave(self) -> None:
        if self.dirty and not self.save():
            return   # the conflict screen or an error message is up; nothing left behind
        self.app.pop_screen()

    def presence_target(self):
        r = self.report
        if r is None:
            return None
        return ("report", str(r.id), r.incident_id, stage_title(self.ctx, r.regime, r.stage, r.seq))

    def _offer_stash(self) -> None:
        """Text kept from an earlier session's conflict (a hang-up mid-conflict): decide it now."""
        from models.reports import stashed_conflict
        r = self.report
        if r is None or r.status != "draft" or self.frozen:
            return
        try:
            stash = stashed_conflict(self.ctx, r.id)
        except DomainError:
            return
        if not stash:
            return
        stored = r.fields or {}
        if all(str(v or "") == str(stored.get(k, "") or "") for k, v in stash.items()):
            drop_stash(self.ctx, r.id)
            return
        self._conflict(dict(stash), None, fresh=r)

    def replaced_scope(self):
        r = self.report
        return ("report", r.id, stage_title(self.ctx, r.regime, r.stage, r.seq)) if r is not None else None

    def field_name(self, name: str) -> str:
        from models.reports import field_labels
        return field_labels(self.ctx, self.report).get(name, name) if self.report is not None else name

    def presence_scope(self) -> dict:
        return {"kind": "report", "key": str(self.report.id)} if self.report is not None else {}

    def presence_typing(self) -> bool:
        return self.dirty or (self.last_change and time.monotonic() - self.last_change < 5.0)

    def flush_draft(self) -> None:
        """The terminal is going (SIGHUP): write the changed fields now, no dialog.

        A conflict leaves the merged fields saved and mine stashed in the database,
        so the conflict view shows on the next start; nothing typed is lost.
        """
        if self.report is None or self.frozen:
            return
        values = self.form_values()
        baseline = self._baseline()
        changed = {k: v for k, v in values.items() if v != baseline.get(k, "")}
        if not changed:
            return
        try:
            r = save_draft(self.ctx, self.report.id, self.version, changed,
                           base={k: baseline.get(k, "") for k in changed})
            self.report, self.version, self.dirty = r, r.version, False
        except DomainError:
            stash_conflict(self.ctx, self.report.id, values)
            self.dirty = False

    def on_unmount(self) -> None:
        # Leaving by any way (ctrl+q included): write what is on screen.
        if self.dirty and not self.paused:
            try:
                self.save()
            except Exception:  # noqa: BLE001 - the app is closing; the last autosave stands
                pass
        self.app.store.feed.forget(self)


def _as_text(values: dict) -> str:
    return "\n\n".join(f"{k}:\n{v}" for k, v in values.items() if v)


class SubmitDialog(ModalScreen, FieldsInOrder):
    """How it went and to whom: channel, recipient, who confirmed, and why late (when late).

    Enter moves to the next field (before the next key is read) and confirms on the last one."""

    def field_order(self) -> list[str]:
        return [w.id for w in self.query(Input) if w.id]     # as laid out; hidden parts skipped

    CSS_PATH = [ASSETS / "tcss" / "report.tcss"]
    BINDINGS = [Binding("escape", "cancel", t("report.key.cancel"), id="report.submit_cancel"),
                Binding("ctrl+s", "confirm", t("report.key.confirm"), id="report.submit_confirm",
                        priority=True)]

    def __init__(self, report, late: bool, recipient: str) -> None:
        super().__init__()
        self.report = report
        self.late = late
        self.recipient = recipient

    def compose(self) -> ComposeResult:
        with Vertical(id="submit-dialog"):
            yield Static(Text(t("report.submit.title")), id="submit-title")
            yield Label(t("field.submit_channel"))
            yield Select([(t(f"report.channel.{c}"), c) for c in CHANNELS], id="submit-channel",
                         value="phone" if self.report.stage == "oral" else "fax", allow_blank=False)
            yield Label(t("field.submit_recipient") + " *")
            yield Input(self.recipient, id="submit-recipient")
            yield Static("", id="err-submit_recipient", classes="field-error")
            yield Label(t("field.submit_confirmed_by"))
            yield Input("", id="submit-confirmed")
            yield Label(t("field.submit_at"))
            yield Input("", id="submit-at", placeholder=t("report.submit.at_placeholder"))
            yield Static("", id="err-submit_at", classes="field-error")
            with Vertical(id="submit-late-part"):
                yield Label(Text(t("report.submit.late_label")), classes="late")
                yield Input("", id="submit-late")
                yield Static("", id="err-submit_late_reason", classes="field-error")
            with Vertical(id="submit-oral-part"):
                yield Label(Text(t("report.submit.before_oral_label")), classes="late")
                yield Input("", id="submit-before-oral")
                yield Static("", id="err-submit_before_oral_reason", classes="field-error")
            if self.report.revision > 1:
                yield Label(t("field.correction_reason") + " *")
                yield Input("", id="submit-correction")
                yield Static("", id="err-correction_reason", classes="field-error")
            yield Static("", id="submit-errors", classes="field-error")
            with Horizontal(id="submit-buttons"):
                yield Button(t("report.key.confirm"), id="submit-ok", variant="primary")
                yield Button(t("report.key.cancel"), id="submit-cancel")

    def on_mount(self) -> None:
        self.query_one("#submit-late-part").display = self.late
        from models.reports import before_oral_needed
        self.query_one("#submit-oral-part").display = before_oral_needed(self.app.ctx, self.report)
        self.query_one("#submit-recipient", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "submit-ok":
            self.action_confirm()
        else:
            self.action_cancel()

    def submit_fields(self) -> None:
        self.action_confirm()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _value(self, wid: str) -> str:
        found = self.query(f"#{wid}")
        return found.first().value if found else ""

    def action_confirm(self) -> None:
        ctx = self.app.ctx
        for w in self.query(".field-error"):
            w.update("")
        try:
            at_text = self._value("submit-at").strip()
            at = parse_time(at_text, now=ctx.now(), zone=ctx.zone, field="submit_at") if at_text else None
            channel = self.query_one("#submit-channel", Select).value
            r = submit(ctx, self.report.id, self.report.version, Submission(
                channel=channel if isinstance(channel, str) else "", recipient=self._value("submit-recipient"),
                confirmed_by=self._value("submit-confirmed"), late_reason=self._value("submit-late"),
                correction_reason=self._value("submit-correction"), at=at,
                before_oral_reason=self._value("submit-before-oral")))
        except ValidationError as exc:
            rest = []
            for fid, msg in exc.field_messages().items():
                spot = self.query(f"#err-{fid}")
                if fid == "submit_late_reason" and not self.late:
                    # the deadline passed while the dialog was open: ask for the reason now
                    self.late = True
                    self.query_one("#submit-late-part").display = True
                    self.query_one("#submit-late", Input).focus()
                if fid == "submit_before_oral_reason":
                    self.query_one("#submit-oral-part").display = True
                if spot:
                    spot.first().update(Text(msg))
                else:
                    rest.append(msg)
            self.query_one("#submit-errors", Static).update(Text("\n".join(rest)))
            return
        except ConflictError:
            self._reload_after_conflict()
            return
        except DomainError as exc:
            self.query_one("#submit-errors", Static).update(Text(exc.message))
            return
        self.dismiss(r)

    def _reload_after_conflict(self) -> None:
        """Saved by someone else since this dialog opened: reload, say what changed, ask again."""
        from models.merge import last_writer
        from models.reports import field_labels, report_label
        ctx = self.app.ctx
        fresh = get_report(self.report.id)
        what = report_label(ctx, fresh)
        if fresh.status != "draft":
            msg = t("merge.conflict.submitted_meanwhile", what=what, who=display_name(fresh.submitted_by or ""))
            self.query_one("#submit-errors", Static).update(Text(msg))
            return
        labels = field_labels(ctx, fresh)
        old, new = self.report.fields or {}, fresh.fields or {}
        changed = [k for k in {**old, **new} if str(old.get(k) or "") != str(new.get(k) or "")]
        who = display_names((last_writer("report", fresh.id, k, "fields") for k in changed),
                            t("merge.joiner")) or t("error.conflict_someone")
        lines = [t("merge.conflict.changed_meanwhile", what=what, who=who,
                   fields=t("merge.joiner").join(labels.get(k, k) for k in changed) or "—")]
        for k in changed:
            lines.append(f"{labels.get(k, k)}: {str(old.get(k) or '—')} → {str(new.get(k) or '—')}")
        self.report = fresh
        self.changed_meanwhile = fresh
        self.query_one("#submit-errors", Static).update(Text("\n".join(lines)))


SCREEN = ReportScreen
