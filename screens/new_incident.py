"""New incident: the intake form, keyboard only, with a draft that survives a killed session.

Everything typed is written to a draft (``Draft``, kind ``new_incident``) about
once a second while the form is open, and restored when the form is opened
again. Esc leaves and keeps the draft; a successful save discards it. Times go
through ``parse_time`` and are echoed back as the instant they were read as, so
"-40m" is visibly "10:20" before the officer saves.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Input, Label, Static, TextArea

from models.deadlines import IncidentFacts, needs_delay_reason
from models.drafts import discard_draft, draft_saved_at, load_draft, save_draft
from models.errors import DomainError, ValidationError
from models.i18n import t
from models.incidents import IncidentInput, create_incident
from models.taxonomy import load_taxonomy
from models.timeparse import fmt_local, fmt_when, parse_time, time_examples
from screens._account_form import FieldsInOrder, keys_delivered
from screens._presence import ShowsPresence
from screens._incident_fields import (category_choices, category_shown, grade_choices,
                                      resolve_category, subcategory_choices_for)
from tui.app import ASSETS
from tui.palette import BindingCommands
from tui.widgets.safe_input import SafeInput, SafeTextArea
from tui.widgets.picker import Picker, PickerInput
from tui.widgets.ticks import Answer

DRAFT_KIND = "new_incident"
AUTOSAVE_S = 1.0
TEXT_FIELDS = ("title", "occurred_at", "discovered_at", "delay_reason", "location", "asset", "reported_by",
               "reason")
PICKERS = ("category", "subcategory", "grade")
TIME_FIELDS = ("occurred_at", "discovered_at")
# Where each validation key is shown, in form order (the first with an error gets focus).
ORDER = ("title", "occurred_at", "discovered_at", "delay_reason", "location", "asset", "category",
         "subcategory", "grade", "personal_info", "reported_by", "description")


PI_ANSWERS = {"yes": True, "no": False, "unsure": None}


def pi_answer_widget() -> Answer:
    """是 / 否 / 不确定, none chosen at intake: the officer must answer (y / n / u)."""
    return Answer([(k, t(f"incident.pi.{k}")) for k in PI_ANSWERS], keys={"yes": "y", "no": "n", "unsure": "u"},
                  id="personal_info")


def _local_text(dt: datetime, zone) -> str:
    return fmt_local(dt, zone, with_zone=False)


class ConfirmRecord(ModalScreen[bool]):
    """One line to read before a new incident is recorded: Enter (or ctrl+s, y) records, Esc goes back."""

    CSS_PATH = [ASSETS / "tcss" / "new_incident.tcss"]
    BINDINGS = [
        Binding("enter,ctrl+s,y", "answer(True)", t("incident.confirm.record"), priority=True,
                id="new_incident.confirm"),
        Binding("escape,n", "answer(False)", t("incident.confirm.back"), priority=True, id="new_incident.back"),
    ]

    def __init__(self, summary: str) -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        yield Static(Text(self.summary), id="confirm-summary")
        yield Static(Text(t("incident.confirm.keys"), style="bold"), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class NewIncidentScreen(ShowsPresence, FieldsInOrder):
    COMMANDS = {BindingCommands}   # ctrl+p lists this screen's keys too
    CSS_PATH = [ASSETS / "tcss" / "new_incident.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", t("incident.record"), priority=True, id="new_incident.save"),
        Binding("escape", "leave", t("incident.leave_keep_draft"), id="new_incident.leave"),
        Binding("ctrl+d", "discard_draft", t("merge.draft.discard_key"), id="new_incident.discard", show=False,
                priority=True),   # before the focused Input (its ctrl+d deletes to the right; Delete still does)
    ]

    FIELDS = ORDER
    # Enter moves to the next field (before the next key is read); recording takes ctrl+s and
    # a one-line summary to confirm: Enter in the title no longer records a half-typed incident.
    LAST_SUBMITS = False
    CONFIRM = True
    KEYS_HINT = "incident.keys_hint_new"
    draft_kind = DRAFT_KIND
    draft_key = ""

    def field_order(self) -> list[str]:
        return [f"{n}-input" if n in PICKERS else n for n in self.FIELDS if n != "reason"] + \
            (["reason"] if "reason" in self.FIELDS else [])

    def enter_moves(self, widget) -> bool:
        return isinstance(widget, (Input, Answer))

    def move_to_next_field(self) -> None:
        focused = self.focused
        if isinstance(focused, PickerInput):
            picker = focused.parent
            picker.pick_highlighted()       # synchronously: the next key goes to the next field
            if picker.id == "category" and isinstance(picker.value, tuple) and picker.value[1]:
                super().move_to_next_field()          # the subcategory came with the pick
                if self.focused is not None and self.focused.id == "subcategory-input":
                    super().move_to_next_field()
                return
        super().move_to_next_field()

    def __init__(self) -> None:
        super().__init__()
        self._dirty = False
        self._loading = False
        # When each time field was last typed in: a relative time ("-40m", "1.5h ago") means that
        # long before the typing, not before the autosave or the Ctrl+S minutes later (the
        # occurrence is the 3-hour report's anchor).
        self._typed_at: dict[str, datetime] = {}
        self._pristine: dict[str, Any] = {}
        self._saved = False
        self.confirm_pending = False

    # ---- layout -------------------------------------------------------------------------------
    def _row(self, name: str, widget, label_key: str | None = None):
        row = Horizontal(Label(t(label_key or "field." + name), classes="label"), widget,
                         classes="row", id=f"row-{name}")
        return row

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Static("", id="conflict")
            for name in self.FIELDS:
                if name in TEXT_FIELDS:
                    widget = SafeInput(id=name, placeholder=time_examples() if name in TIME_FIELDS
                                       else t(f"incident.ph.{name}"))
                elif name == "category":
                    widget = Picker(category_choices, id="category", placeholder=t("incident.ph.category"))
                elif name == "subcategory":
                    widget = Picker(self._sub_source, id="subcategory", placeholder=t("incident.ph.subcategory"))
                elif name == "grade":
                    widget = Picker(grade_choices, id="grade", placeholder=t("incident.ph.grade"))
                elif name == "personal_info":
                    widget = pi_answer_widget()
                else:
                    widget = SafeTextArea(id="description", soft_wrap=True, tab_behavior="focus")
                label = "incident.grade_preliminary" if name == "grade" else None
                yield self._row(name, widget, label)
                yield Static("", id=f"msg-{name}", classes="msg")
        yield Static(t("incident.locked_hidden"), id="locked-msg")
        yield Static("", id="status")
        yield Footer()

    def _sub_source(self, text: str):
        cat = self._category_id()
        return subcategory_choices_for(cat)(text)

    def _category_id(self) -> str | None:
        picker = self.query_one("#category", Picker)
        if picker.value is not None:
            return picker.value[0]
        cat = resolve_category(picker.text)
        return cat.id if cat else None

    # ---- lifecycle ----------------------------------------------------------------------------
    def prefill(self) -> None:
        """Defaults of a new incident: it happened and was found just now; grade undecided."""
        self.title = t("incident.new_title")
        ctx = self.app.ctx
        now_text = _local_text(ctx.now(), ctx.zone)
        self.query_one("#occurred_at", Input).value = now_text
        self.query_one("#discovered_at", Input).value = now_text
        self.query_one("#grade", Picker).set_value("", t("incident.grade_undecided"))

    def on_mount(self) -> None:
        ctx = self.app.ctx
        self._loading = True
        self.prefill()
        self._set_pristine()
        draft = None
        self._draft_at = None
        try:
            draft = load_draft(ctx, self.draft_kind, self.draft_key)
            self._draft_at = draft_saved_at(ctx, self.draft_kind, self.draft_key) if draft else None
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
        if draft:
            self.restore(draft)
        self._loading = False
        self.call_after_refresh(self._after_load, bool(draft))
        self.set_interval(AUTOSAVE_S, self.autosave)
        self.start_presence()
        self.watch(self.app, "locked", self._locked_changed)
        self.query_one("#title", Input).focus()

    def _after_load(self, restored: bool) -> None:
        self._loading = False
        self._dirty = False
        for name in TIME_FIELDS:
            self._time_hint(name)
        self._update_delay_row()
        self._update_category_note()
        if restored and self._draft_at is not None:
            # Say whose typing this is and when, and how to start afresh (ctrl+d).
            ctx = self.app.ctx
            at = fmt_local(self._draft_at, ctx.zone, date=self._draft_at.astimezone(ctx.zone).date()
                           != ctx.now().astimezone(ctx.zone).date(), with_zone=False)
            self._status(t("merge.draft.restored", at=at))
        else:
            self._status(t("incident.draft_restored") if restored else t(self.KEYS_HINT))

    def _set_pristine(self) -> None:
        self._pristine = {}
        self._pristine = self.payload()
        self._pristine = self.payload()     # with the "now" defaults marked, as later payloads are

    def flush_draft(self) -> None:
        """The terminal is going (SIGHUP): write the draft now, whatever the autosave timer says."""
        if self._saved:
            return
        payload = self.payload()
        if payload != self._pristine:
            save_draft(self.app.ctx, self.draft_kind, payload, self.draft_key)
            self._dirty = False

    def action_discard_draft(self) -> None:
        """ctrl+d: throw the restored draft away and start from the defaults (now, undecided)."""
        try:
            discard_draft(self.app.ctx, self.draft_kind, self.draft_key)
        except DomainError as exc:
            self.domain_error(exc)
            return
        self._loading = True
        for name in self._present(TEXT_FIELDS):
            self.query_one(f"#{name}", Input).value = ""
        for name in self._present(PICKERS):
            self.query_one(f"#{name}", Picker).set_text("")
        self.query_one("#personal_info", Answer).value = None
        self.query_one("#description", TextArea).text = ""
        self.prefill()
        self._set_pristine()
        self._draft_at = None
        self.call_after_refresh(self._after_load, False)
        self.notify(t("merge.draft.discarded"))

    def _locked_changed(self, locked: bool) -> None:
        self.set_class(bool(locked), "-locked")

    # ---- draft --------------------------------------------------------------------------------
    def payload(self) -> dict[str, Any]:
        ctx = self.app.ctx
        data: dict[str, Any] = {}
        for name in self._present(TEXT_FIELDS):
            value = self.query_one(f"#{name}", Input).value
            if name in TIME_FIELDS:
                # A relative time ("-40m", "now") would mean something else when the draft is
                # reopened later: keep the instant it was read as.
                try:
                    value = _local_text(parse_time(value, now=self._typed_now(name), zone=ctx.zone), ctx.zone)
                except ValidationError:
                    pass
            data[name] = value
        for name in self._present(PICKERS):
            picker = self.query_one(f"#{name}", Picker)
            data[name] = {"value": list(picker.value) if isinstance(picker.value, tuple) else picker.value,
                          "text": picker.text}
        data["personal_info"] = self.query_one("#personal_info", Answer).value
        data["description"] = self.query_one("#description", TextArea).text
        pristine = getattr(self, "_pristine", None) or {}
        # Times still at their "now" default are refreshed when the draft is restored later.
        untouched = [n for n in self._present(TIME_FIELDS) if pristine.get(n) == data.get(n)]
        if untouched and pristine:
            data["_now_defaults"] = untouched
        return data

    def restore(self, data: dict[str, Any]) -> None:
        fresh = set(data.get("_now_defaults") or ())
        for name in self._present(TEXT_FIELDS):
            if name in fresh:
                continue          # a "now" default: the prefill's now, not the draft's
            if isinstance(data.get(name), str):
                self.query_one(f"#{name}", Input).value = data[name]
        for name in self._present(PICKERS):
            entry = data.get(name) or {}
            picker = self.query_one(f"#{name}", Picker)
            value = entry.get("value")
            if isinstance(value, list):
                value = tuple(value)
            if value is not None:
                # The draft keeps the value; its label is the current language's, not the draft's.
                picker.set_value(value, _picker_label(name, value, entry.get("text", "")))
            else:
                picker.set_text(entry.get("text", ""))
        answer = data.get("personal_info")
        if answer is True:             # a draft written before 不确定 existed
            answer = "yes"
        self.query_one("#personal_info", Answer).value = answer if answer in PI_ANSWERS else None
        self.query_one("#description", TextArea).text = data.get("description", "")

    def _present(self, names) -> list[str]:
        return [n for n in names if n in self.FIELDS]

    def _changed(self) -> None:
        if not self._loading:
            self._dirty = True
            self._last_change = time.monotonic()   # presence: typing for a while, past the autosave

    def autosave(self) -> None:
        if not self._dirty or self._saved:
            return
        try:
            payload = self.payload()
            if payload == self._pristine:
                discard_draft(self.app.ctx, self.draft_kind, self.draft_key)
            else:
                save_draft(self.app.ctx, self.draft_kind, payload, self.draft_key)
        except DomainError as exc:  # the other session holds the lock: try again next tick
            self._status(exc.message, error=True)
            return
        self._dirty = False
        self._status(t("incident.draft_saved", at=fmt_local(self.app.clock.now(), self.app.ctx.zone,
                                                             seconds=True, with_zone=False)))

    # ---- reactions ----------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        name = event.input.id
        if name in TIME_FIELDS:
            if not self._loading:
                self._typed_at[name] = self.app.ctx.now()
            self._time_hint(name)
            self._update_delay_row()
        elif name in self.FIELDS:
            self._message(name, None)
        self._changed()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._message("description", None)
        self._changed()

    def on_answer_changed(self, event: Answer.Changed) -> None:
        self._message("personal_info", None)
        self._changed()

    def on_picker_edited(self, event: Picker.Edited) -> None:
        self._message(event.picker.id, None)
        if event.picker.id == "category":
            self._update_category_note()
        self._changed()

    def on_picker_picked(self, event: Picker.Picked) -> None:
        if event.picker.id == "category":
            cat_id, sub_id = event.value
            tax = load_taxonomy()
            cat = tax.category(cat_id)
            sub_picker = self.query_one("#subcategory", Picker)
            if sub_id:
                sub_picker.set_value(sub_id, cat.sub(sub_id).name)
                event.picker.set_value((cat_id, sub_id), category_shown(cat))
            elif sub_picker.value is not None and cat.sub(sub_picker.value) is None:
                sub_picker.set_text("")
            event.picker.set_value((cat_id, None), category_shown(cat))
            self._message("subcategory", None)
            self._update_category_note()
        self._message(event.picker.id, None)
        self._changed()
        if self.focused is event.picker.input:     # picked with the mouse: Enter moved already
            moved_to = self.focus_next()
            if event.picker.id == "category" and event.value[1] and moved_to is not None \
                    and moved_to.id == "subcategory-input":
                self.focus_next()   # the subcategory came with the pick: nothing to do there

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()        # Enter moves to the next field (action_next_field); ctrl+s records

    def _typed_now(self, name: str) -> datetime:
        """The "now" a time field's relative text is read against: when it was typed."""
        return self._typed_at.get(name) or self.app.ctx.now()

    def _time_hint(self, name: str) -> None:
        ctx = self.app.ctx
        text = self.query_one(f"#{name}", Input).value
        try:
            at = parse_time(text, now=self._typed_now(name), zone=ctx.zone, field=name)
        except ValidationError as exc:
            self._message(name, exc.field_messages().get(name, exc.message))
            return
        if at > ctx.now() + timedelta(minutes=1):
            self._message(name, t("error.time_future"))
            return
        same = _local_text(at, ctx.zone) == text.strip()
        self._message(name, None if same else t("incident.time_read_as", at=fmt_local(at, ctx.zone)), hint=True)

    def _times(self) -> tuple[datetime | None, datetime | None]:
        ctx = self.app.ctx
        out = []
        for name in TIME_FIELDS:
            try:
                out.append(parse_time(self.query_one(f"#{name}", Input).value, now=self._typed_now(name),
                                      zone=ctx.zone))
            except ValidationError:
                out.append(None)
        return out[0], out[1]

    def _update_delay_row(self) -> None:
        occurred, discovered = self._times()
        needed = bool(occurred and discovered and needs_delay_reason(
            IncidentFacts(id=0, code="", occurred_at=occurred, discovered_at=discovered), self.app.ctx.policy))
        has_text = bool(self.query_one("#delay_reason", Input).value.strip())
        show = needed or has_text
        self.query_one("#row-delay_reason").display = show
        if needed and not self.query_one("#msg-delay_reason").has_class("-error"):
            self._message("delay_reason", t("incident.delay_reason_hint"), hint=True)
        elif not show:
            self._message("delay_reason", None)

    def _update_category_note(self) -> None:
        picker = self.query_one("#category", Picker)
        cat = load_taxonomy().category(picker.value[0]) if picker.value else resolve_category(picker.text)
        if cat is not None and not cat.in_plan:
            self._message("category", t("incident.category_not_in_plan"), hint=True)
        elif not self.query_one("#msg-category").has_class("-error"):
            self._message("category", None)

    def _message(self, name: str, text: str | None, *, hint: bool = False) -> None:
        try:
            msg = self.query_one(f"#msg-{name}", Static)
        except Exception:
            return
        msg.update(Text(text or ""))
        msg.set_class(bool(text), "-show")
        msg.set_class(bool(text) and not hint, "-error")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_class(error, "-error")

    # ---- actions ------------------------------------------------------------------------------
    def collect(self) -> IncidentInput:
        """Read the form; time fields that cannot be read raise with every other field checked too."""
        ctx = self.app.ctx
        errors: dict = {}
        times: dict[str, datetime] = {}
        for name in TIME_FIELDS:
            try:
                times[name] = parse_time(self.query_one(f"#{name}", Input).value, now=self._typed_now(name),
                                         zone=ctx.zone, field=name)
            except ValidationError as exc:
                errors.update(exc.fields)
                times[name] = ctx.now()

        def picked(name: str, index: int | None = None):
            picker = self.query_one(f"#{name}", Picker)
            value = picker.choice()
            if index is not None and isinstance(value, tuple):
                return value[index]
            return value

        data = IncidentInput(
            title=self.query_one("#title", Input).value, category=picked("category", 0),
            subcategory=picked("subcategory") or None,
            grade=(picked("grade") or None) if "grade" in self.FIELDS else None,
            occurred_at=times["occurred_at"], discovered_at=times["discovered_at"],
            location=self.query_one("#location", Input).value, asset=self.query_one("#asset", Input).value,
            personal_info=PI_ANSWERS.get(self.query_one("#personal_info", Answer).value, False),
            reported_by=self.query_one("#reported_by", Input).value,
            description=self.query_one("#description", TextArea).text,
            delay_reason=self.query_one("#delay_reason", Input).value or None)
        if self.query_one("#personal_info", Answer).value is None:
            errors["personal_info"] = ("error.personal_info_unanswered", {})
        if errors:
            from models.incidents import validate_input
            try:
                validate_input(ctx, data)
            except ValidationError as exc:
                # A time that could not be read was replaced by "now" just to check the rest:
                # only messages about the times that were read are real.
                real = {k: v for k, v in exc.fields.items() if k not in errors
                        and not (k == "discovered_at" and v[0] == "error.discovered_before_occurred")}
                errors = {**real, **errors}
            raise ValidationError(errors)
        return data

    def show_errors(self, exc: ValidationError) -> None:
        messages = exc.field_messages()
        first = None
        for name in self.FIELDS:
            if name in messages:
                if name == "delay_reason":
                    self.query_one("#row-delay_reason").display = True
                self._message(name, messages[name])
                first = first or name
        other = {k: v for k, v in messages.items() if k not in self.FIELDS}
        if other:
            self._status("; ".join(other.values()), error=True)
        else:
            self._status(t("incident.fix_fields", n=len(messages)), error=True)
        if first:
            widget = self.query_one(f"#{first}")
            target = widget.input if isinstance(widget, Picker) else widget
            target.focus()
            self.query_one("#form").scroll_to_widget(self.query_one(f"#row-{first}"))

    async def action_save(self) -> None:
        await keys_delivered(self)          # keys typed before ctrl+s are in their fields first
        try:
            data = self.collect()
            if self.CONFIRM:
                from models.incidents import validate_input
                validate_input(self.app.ctx, data)     # every message now, before the summary
        except ValidationError as exc:
            self.show_errors(exc)
            return
        except DomainError as exc:
            self.domain_error(exc)
            return
        if not self.CONFIRM:
            self._submit(data)
            return
        self.confirm_pending = True
        self.app.push_screen(ConfirmRecord(self.summary(data)), lambda yes: self._confirmed(yes, data))

    def _confirmed(self, yes: bool, data: IncidentInput) -> None:
        self.confirm_pending = False
        if yes:
            self._submit(data)
        else:
            self._status(t("incident.confirm.not_recorded"))

    def _submit(self, data: IncidentInput) -> None:
        try:
            self.submit(data)
        except ValidationError as exc:
            self.show_errors(exc)
        except DomainError as exc:
            self.domain_error(exc)

    def summary(self, data: IncidentInput) -> str:
        """登记：标题 · 类别 · 初判等级 · 个人信息 · 发生 / 发现: what ctrl+s is about to record."""
        ctx = self.app.ctx
        tax = load_taxonomy()
        cat = tax.category(data.category)
        grade = tax.grade(data.grade) if data.grade else None
        pi = {True: "yes", False: "no", None: "unsure"}[data.personal_info]
        title = data.title.strip()
        if len(title) > 12:
            title = title[:11] + "…"

        def when(at: datetime) -> str:
            return fmt_when(at, ctx.zone, ctx.now(), with_zone=False)
        from rich.cells import cell_len
        room = max(40, (self.app.size.width or 80) - 2)      # one line, as the officer reads it
        while True:
            text = t("incident.confirm.summary", title=title, category=cat.name,
                     grade=grade.id if grade else t("incident.grade_undecided"),
                     pi=t(f"incident.pi.{pi}"), occurred=when(data.occurred_at))
            if cell_len(text) <= room or len(title) <= 4:
                break
            title = title[:-2] + "…"
        if abs((data.discovered_at - ctx.now()).total_seconds()) >= 60:
            more = t("incident.confirm.discovered", discovered=when(data.discovered_at))
            if cell_len(text + more) <= room:
                text += more
        return text

    def domain_error(self, exc: DomainError) -> None:
        self._status(exc.message, error=True)
        self.notify(exc.message, severity="error", markup=False)

    def _finish(self) -> None:
        self._saved = True
        try:
            discard_draft(self.app.ctx, self.draft_kind, self.draft_key)
        except DomainError:
            pass

    def submit(self, data: IncidentInput) -> None:
        inc = create_incident(self.app.ctx, data)
        self._finish()
        self.notify(t("cli.incident.created", code=inc.code, title=inc.title), markup=False)
        self.app.pop_screen()
        self.app.open_screen("incident", inc.id)

    def action_leave(self) -> None:
        payload = self.payload()
        try:
            if payload == self._pristine:
                discard_draft(self.app.ctx, self.draft_kind, self.draft_key)
            else:
                save_draft(self.app.ctx, self.draft_kind, payload, self.draft_key)
                self.notify(t("incident.draft_kept"))
        except DomainError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return
        self._saved = True
        self.app.pop_screen()


def _picker_label(name: str, value: Any, fallback: str) -> str:
    from models.taxonomy import load_taxonomy
    tax = load_taxonomy()
    try:
        if name == "category":
            return tax.category(value[0] if isinstance(value, (tuple, list)) else value).name
        if name == "grade":
            g = tax.grade(value) if value else None
            return g.name if g else t("incident.grade_undecided")
        if name == "subcategory":
            for cat in tax.categories:
                sub = cat.sub(value)
                if sub:
                    return sub.name
    except Exception:  # noqa: BLE001 - an old draft's value no longer known: keep its text
        pass
    return fallback


SCREEN = NewIncidentScreen
