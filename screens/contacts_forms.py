"""The contact panel's dialogs: log a call, edit a contact, remove one, reorder a call tree.

Each dialog keeps what was typed when a save is refused (a mistake, a
conflict with the other session, a busy database) and says why beside it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, ListItem, ListView, RadioButton, RadioSet, Select, Static, TextArea
from tui.literal import choices
from tui.widgets.ticks import TickBox as Checkbox   # [x]/[ ]: readable without colour
from tui.widgets.ticks import TickRadio

from models.calls import OUTCOMES, call_label, calls_for, counts_as_oral, drop_call_draft, load_call_draft, log_call, save_call_draft
from models.calltree import set_tree, situation_name, step_label, steps, tree_version
from models.contacts import (add_contact, display_name, edit_contact, load_defaults, list_contacts, remove_contact,
                             role_label)
from models.errors import ConflictError, DomainError, ValidationError
from models.i18n import t
from models.tables import Contact
from models.timeparse import fmt_local, fmt_when, parse_time
from screens._presence import ShowsPresence

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DRAFT_EVERY_S = 2.0


def _error_text(exc: DomainError) -> Text:
    if isinstance(exc, ValidationError) and exc.fields:
        return Text("\n".join(f"{t('field.' + n, default=n)}: {m}" for n, m in exc.field_messages().items()),
                    style="bold red")
    if isinstance(exc, ConflictError):
        return Text(exc.message, style="bold red")
    return Text(exc.message, style="bold red")


def oral_script(ctx, incident) -> str:
    """What to say on the phone, from the incident's facts; the officer edits it to what was said."""
    if incident is None:
        return ""
    return t("contacts.script", title=incident.title,
             occurred=fmt_local(incident.occurred_at, ctx.zone), discovered=fmt_local(incident.discovered_at, ctx.zone),
             description=incident.description or "—")


def _field_label(name: str) -> str:
    return t(f"field.contact.{name}", default=name)


class LockAware(ModalScreen):
    """A dialog that hides everything it shows while the session is idle-locked; typed text is kept."""

    def compose_lock_note(self) -> Static:
        note = Static(Text(t("contacts.locked"), style="bold"), id="lock-note", classes="dialog")
        note.display = False
        return note

    def on_mount(self) -> None:
        self.watch(self.app, "locked", self._apply_lock, init=True)

    def _apply_lock(self, locked: bool) -> None:
        for dialog in self.query(".dialog"):
            dialog.display = (not locked) if dialog.id != "lock-note" else locked

    def refuse_if_locked(self) -> bool:
        return bool(getattr(self.app, "locked", False))


class LogCallForm(LockAware):
    CSS_PATH = [ASSETS / "tcss" / "contacts.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", t("contacts.key.save"), priority=True),
        Binding("escape", "cancel", t("contacts.key.cancel")),
        Binding("1", "outcome(0)", t("call_outcome.reached"), show=False),
        Binding("2", "outcome(1)", t("call_outcome.no_answer"), show=False),
        Binding("3", "outcome(2)", t("call_outcome.busy"), show=False),
        Binding("4", "outcome(3)", t("call_outcome.message"), show=False),
    ]

    def __init__(self, contact: Contact, incident, number: str) -> None:
        super().__init__()
        self.contact = contact
        self.incident = incident
        self.number = number
        self.script = ""

    def compose(self) -> ComposeResult:
        ctx = self.app.ctx
        oral = self.incident is not None and counts_as_oral(ctx, self.contact)
        self.script = oral_script(ctx, self.incident) if oral else ""
        with Vertical(id="call-dialog", classes="dialog"):
            who = f"{role_label(self.contact.role)} {self.contact.name}".strip()
            head = t("contacts.log_title", who=who, number=self.number or "—")
            if self.incident is not None:
                head += f"  [{self.incident.code}]"
            yield Static(Text(head, style="bold"), id="call-title")
            if oral:
                yield Static(Text(t("contacts.log_oral_hint"), style="green"), id="call-oral")
            with RadioSet(id="call-outcome"):
                for i, o in enumerate(OUTCOMES):
                    yield TickRadio(f"{i + 1} {t('call_outcome.' + o)}", id=f"outcome-{o}")   # chosen without colour
            with Horizontal(id="call-row"):
                at = Input(placeholder=t("contacts.at_placeholder"), id="call-at")
                at.border_title = t("field.call.at")
                yield at
                number = Input(value=self.number, id="call-number")
                number.border_title = t("field.call.number")
                yield number
                late = Input(id="call-late")
                late.border_title = t("field.call.late_reason")
                yield late
            said = TextArea(self.script, id="call-said", soft_wrap=True)
            said.border_title = t("field.call.said")
            yield said
            instructions = TextArea("", id="call-instructions", soft_wrap=True)
            instructions.border_title = t("field.call.instructions")
            yield instructions
            yield Static("", id="call-errors")
        yield self.compose_lock_note()
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._dirty = False
        self._restore_draft()
        self.query_one("#call-outcome", RadioSet).focus()
        self.set_interval(DRAFT_EVERY_S, self.flush_draft, name="call-draft")

    # Drafts: what was typed survives a crash or a dropped SSH connection.

    def _keys(self) -> tuple[int | None, int]:
        return (self.incident.id if self.incident else None), self.contact.id

    def draft_payload(self) -> dict[str, Any]:
        return {"outcome": self.chosen_outcome(), "at": self.query_one("#call-at", Input).value,
                "number": self.query_one("#call-number", Input).value,
                "said": self.query_one("#call-said", TextArea).text,
                "instructions": self.query_one("#call-instructions", TextArea).text}

    def _restore_draft(self) -> None:
        try:
            draft = load_call_draft(self.app.ctx, *self._keys())
        except DomainError:
            return
        if not draft:
            return
        if draft.get("outcome") in OUTCOMES:
            self.query_one(f"#outcome-{draft['outcome']}", RadioButton).value = True
        self.query_one("#call-at", Input).value = draft.get("at") or ""
        self.query_one("#call-number", Input).value = draft.get("number") or self.number
        self.query_one("#call-said", TextArea).text = draft.get("said") or ""
        self.query_one("#call-instructions", TextArea).text = draft.get("instructions") or ""
        self._dirty = False
        self.notify(t("contacts.draft_restored"))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._dirty = True

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._dirty = True

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self._dirty = True

    def flush_draft(self) -> None:
        if not self._dirty:
            return
        try:
            save_call_draft(self.app.ctx, *self._keys(), self.draft_payload())
            self._dirty = False
        except DomainError:
            pass   # a busy database: try again on the next beat, the text is still on screen

    def action_outcome(self, index: int) -> None:
        self.query_one(f"#outcome-{OUTCOMES[index]}", RadioButton).value = True

    def chosen_outcome(self) -> str | None:
        pressed = self.query_one("#call-outcome", RadioSet).pressed_button
        return pressed.id.removeprefix("outcome-") if pressed else None

    def action_cancel(self) -> None:
        """Esc closes without logging; what was typed stays as a draft for the next time."""
        typed = self.draft_payload()
        if typed["said"].strip() not in ("", self.script.strip()) or typed["instructions"].strip():
            self._dirty = True
            self.flush_draft()
            self.app.notify(t("contacts.draft_kept"))
        else:
            try:
                drop_call_draft(self.app.ctx, *self._keys())
            except DomainError:
                pass
        self.dismiss(None)

    def action_save(self) -> None:
        if self.refuse_if_locked():
            return
        ctx = self.app.ctx
        errors = self.query_one("#call-errors", Static)
        outcome = self.chosen_outcome()
        if outcome is None:
            errors.update(Text(t("contacts.pick_outcome"), style="bold red"))
            self.query_one("#call-outcome", RadioSet).focus()
            return
        said = self.query_one("#call-said", TextArea).text
        if outcome != "reached" and said.strip() == self.script.strip():
            said = ""   # the untouched script was never said
        try:
            at_text = self.query_one("#call-at", Input).value.strip()
            at = parse_time(at_text, now=ctx.now(), zone=ctx.zone, field="call.at") if at_text else None
            result = log_call(ctx, self.incident.id if self.incident else None, self.contact.id, outcome,
                              said=said, instructions=self.query_one("#call-instructions", TextArea).text,
                              number=self.query_one("#call-number", Input).value, at=at,
                              late_reason=self.query_one("#call-late", Input).value)
        except DomainError as exc:
            errors.update(_error_text(exc))
            self._dirty = True
            self.flush_draft()
            return
        try:
            drop_call_draft(ctx, *self._keys())
        except DomainError:
            pass
        self.dismiss(result)


class ContactForm(ShowsPresence, LockAware):
    """Add or edit one contact (admins)."""

    CSS_PATH = [ASSETS / "tcss" / "contacts.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", t("contacts.key.save"), priority=True),
        Binding("escape", "cancel", t("contacts.key.cancel")),
    ]
    FIELDS = ("name", "department", "mobile", "office", "quiet_hours", "notes")

    def __init__(self, contact: Contact | None, role: str | None = None) -> None:
        super().__init__()
        self.contact = contact
        self.role = contact.role if contact else (role or "class_teacher")
        self.version = contact.version if contact else 0
        self.base: dict[str, Any] = self._shown(contact) if contact else {}
        self.resolving: set[str] = set()

    def _shown(self, c: Contact) -> dict[str, Any]:
        return {**{f: getattr(c, f) or "" for f in self.FIELDS}, "role": c.role, "active": c.active}

    def compose(self) -> ComposeResult:
        c = self.contact
        with Vertical(id="contact-dialog", classes="dialog"):
            title = t("contacts.edit_title" if c else "contacts.add_title")
            yield Static(Text(title, style="bold"))
            roles = [(r.name, r.id) for r in load_defaults().roles]
            if self.role not in {r for _, r in roles}:
                roles.append((self.role, self.role))
            with Horizontal(classes="form-row"):
                yield Label(t("field.contact.role"), classes="form-label")
                yield Select(choices(roles), value=self.role, allow_blank=False, compact=True, id="f-role")
            for f in self.FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(t(f"field.contact.{f}"), classes="form-label")
                    yield Input(value=getattr(c, f) if c else "", compact=True,
                                placeholder=t("contacts.quiet_placeholder") if f == "quiet_hours" else "",
                                id=f"f-{f}")
            yield Checkbox(t("field.contact.active"), value=c.active if c else True, id="f-active")
            yield Static("", id="contact-errors")
        yield self.compose_lock_note()
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#f-name", Input).focus()
        if self.contact is not None:
            self.start_presence()

    def presence_target(self):
        c = self.contact
        return ("contact", str(c.id), None, display_name(c)) if c is not None else None

    def presence_typing(self) -> bool:
        try:
            return any(v != self.base.get(k) for k, v in self.values().items())
        except Exception:  # noqa: BLE001 - not composed yet
            return False

    def values(self) -> dict[str, Any]:
        data = {f: self.query_one(f"#f-{f}", Input).value for f in self.FIELDS}
        data["role"] = self.query_one("#f-role", Select).value
        data["active"] = self.query_one("#f-active", Checkbox).value
        return data

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self.refuse_if_locked():
            return
        ctx = self.app.ctx
        data = self.values()
        try:
            if self.contact is None:
                saved = add_contact(ctx, data)
            else:
                # Only what was changed in the form, merged with what others saved meanwhile.
                changed = {k: v for k, v in data.items() if k in self.resolving or v != self.base.get(k)}
                saved = edit_contact(ctx, self.contact.id, changed, expected_version=self.version,
                                     base={k: self.base.get(k) for k in changed},
                                     resolved=self.resolving & set(changed))
        except ConflictError as exc:
            # Only the fields both changed; the rest was saved. The next ctrl+s keeps the form's value.
            detail = "; ".join(f"{_field_label(c.field)}: {t('incident.conflict_theirs')} {c.theirs or '—'}"
                               f"  {t('incident.conflict_yours')} {c.mine or '—'}" for c in exc.conflicts)
            self.version = exc.current_version
            self.base = {**{f: exc.current.get(f) or "" for f in self.FIELDS},
                         "role": exc.current.get("role"), "active": exc.current.get("active")}
            self.resolving = {c.field for c in exc.conflicts}
            for f in self.FIELDS:        # the form now shows the stored values, except where you decide
                if f not in self.resolving:
                    self.query_one(f"#f-{f}", Input).value = str(self.base.get(f) or "")
            if "active" not in self.resolving:
                self.query_one("#f-active", Checkbox).value = bool(self.base.get("active"))
            if "role" not in self.resolving and self.base.get("role"):
                self.query_one("#f-role", Select).value = self.base["role"]
            self.query_one("#contact-errors", Static).update(
                Text(exc.message + "\n" + detail, style="bold red"))
            return
        except DomainError as exc:
            self.query_one("#contact-errors", Static).update(_error_text(exc))
            return
        self.dismiss(saved)


class ConfirmRemove(LockAware):
    CSS_PATH = [ASSETS / "tcss" / "contacts.tcss"]
    BINDINGS = [
        Binding("y", "confirm", t("contacts.key.confirm")),
        Binding("n,escape", "cancel", t("contacts.key.cancel")),
    ]

    def __init__(self, contact: Contact) -> None:
        super().__init__()
        self.contact = contact

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-dialog", classes="dialog"):
            who = f"{role_label(self.contact.role)} {display_name(self.contact)}"
            yield Static(Text(t("contacts.remove_confirm", who=who), style="bold"))
            yield Static("", id="remove-errors")
        yield self.compose_lock_note()
        yield Footer()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_confirm(self) -> None:
        if self.refuse_if_locked():
            return
        try:
            remove_contact(self.app.ctx, self.contact.id, expected_version=self.contact.version)
        except DomainError as exc:
            self.query_one("#remove-errors", Static).update(_error_text(exc))
            return
        self.dismiss(True)


class TreeForm(LockAware):
    """Reorder one situation's call list: move with shift+↑/↓, add from the list below, x to drop."""

    CSS_PATH = [ASSETS / "tcss" / "contacts.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", t("contacts.key.save"), priority=True),
        Binding("escape", "cancel", t("contacts.key.cancel")),
        Binding("shift+up,u", "move(-1)", t("contacts.key.move_up")),
        Binding("shift+down,j", "move(1)", t("contacts.key.move_down")),
        Binding("x,delete", "drop", t("contacts.key.drop")),
        Binding("a", "append", t("contacts.key.append")),
    ]

    def __init__(self, situation: str) -> None:
        super().__init__()
        self.situation = situation
        self.version = 0
        self.entries: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="tree-dialog", classes="dialog"):
            yield Static(Text(t("contacts.tree_edit_title", name=situation_name(self.situation)), style="bold"))
            yield ListView(id="tree-steps")
            options = [(r.name, r.id) for r in load_defaults().roles]
            options += [(f"#{c.id} {role_label(c.role)} {c.name}", f"#{c.id}") for c in list_contacts() if c.name]
            yield Select(choices(options), prompt=t("contacts.tree_pick"), compact=True, id="tree-pick")
            yield Static("", id="tree-errors")
        yield self.compose_lock_note()
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.version = tree_version(self.situation)
        for s in steps(self.situation):
            self.entries.append({"role": s.role if s.contact_id is None else None, "contact": s.contact_id,
                                 "label": step_label(s)})
        self._render_list(0)
        self.query_one("#tree-steps", ListView).focus()

    def _render_list(self, index: int) -> None:
        lv = self.query_one("#tree-steps", ListView)
        lv.clear()
        for i, e in enumerate(self.entries, start=1):
            lv.append(ListItem(Label(Text(f"{i}. {e['label']}"))))
        if self.entries:
            lv.index = max(0, min(index, len(self.entries) - 1))

    def action_move(self, delta: int) -> None:
        lv = self.query_one("#tree-steps", ListView)
        i = lv.index
        if i is None or not (0 <= i + delta < len(self.entries)):
            return
        self.entries[i], self.entries[i + delta] = self.entries[i + delta], self.entries[i]
        self._render_list(i + delta)

    def action_drop(self) -> None:
        lv = self.query_one("#tree-steps", ListView)
        if lv.index is None or not self.entries:
            return
        i = lv.index
        del self.entries[i]
        self._render_list(i)

    def action_append(self) -> None:
        pick = self.query_one("#tree-pick", Select)
        if pick.value is Select.BLANK or pick.value is None:
            pick.focus()
            self.query_one("#tree-errors", Static).update(Text(t("contacts.tree_pick_first"), style="yellow"))
            return
        value = str(pick.value)
        if value.startswith("#"):
            c = Contact.get_or_none(Contact.id == int(value[1:]))
            if c is None:
                return
            self.entries.append({"role": None, "contact": c.id, "label": f"{role_label(c.role)} {c.name}"})
        else:
            self.entries.append({"role": value, "contact": None, "label": role_label(value)})
        self._render_list(len(self.entries) - 1)
        self.query_one("#tree-steps", ListView).focus()

    def action_cancel(self) -> None:
        self.dismiss(False)

    def action_save(self) -> None:
        if self.refuse_if_locked():
            return
        try:
            set_tree(self.app.ctx, self.situation,
                     [{"role": e["role"], "contact": e["contact"]} for e in self.entries],
                     expected_version=self.version)
        except DomainError as exc:
            self.query_one("#tree-errors", Static).update(_error_text(exc))
            return
        self.dismiss(True)


class CallHistory(LockAware):
    """The incident's calls, oldest first: who, when, which number, the outcome, what was said and asked."""

    CSS_PATH = [ASSETS / "tcss" / "contacts.tcss"]
    BINDINGS = [Binding("escape,h", "close", t("contacts.key.back"))]

    def __init__(self, incident) -> None:
        super().__init__()
        self.incident = incident
        self.calls = []

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog", classes="dialog"):
            yield Static(Text(t("contacts.history_title", code=self.incident.code), style="bold"))
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="history-detail")
        yield self.compose_lock_note()
        yield Footer()

    def on_mount(self) -> None:
        super().on_mount()
        ctx = self.app.ctx
        table = self.query_one("#history-table", DataTable)
        for key, width in (("at", 11), ("who", 18), ("number", 17), ("outcome", 8), ("by", 8)):
            table.add_column(t(f"contacts.history.{key}"), key=key, width=width)
        from models.profiles import display_name_map
        with ctx.store.read():
            self.calls = calls_for(self.incident.id)
            names = display_name_map(c.logged_by for c in self.calls)
        for c in self.calls:
            table.add_row(fmt_when(c.at, ctx.zone, ctx.now(), with_zone=False), Text(call_label(c)),
                          Text(c.number or "—"), t(f"call_outcome.{c.outcome}"),
                          Text(names.get(c.logged_by, c.logged_by or "")), key=str(c.id))
        if not self.calls:
            self.query_one("#history-detail", Static).update(t("contacts.no_calls"))
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        call = next((c for c in self.calls if str(c.id) == event.row_key.value), None)
        if call is None:
            return
        text = Text()
        text.append(t("field.call.said") + "：", style="bold")
        text.append(call.said or "—")
        text.append("\n" + t("field.call.instructions") + "：", style="bold")
        text.append(call.instructions or "—")
        self.query_one("#history-detail", Static).update(text)

    def action_close(self) -> None:
        self.dismiss(None)
