"""The contact panel: who to phone, in what order, with the number big enough to read across a desk.

Opened from the board (``c``) with or without an incident. With one, the
call tree's next contact is highlighted and selected, and the status column
says who was already reached; logging a reached call to the bureau submits
the oral report. Names and numbers disappear while the app is idle-locked.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Digits, Footer, Header, Static

from models.calls import counts_as_oral
from models.calltree import DEFAULT_SITUATION, incident_progress, situation_for, situation_name, situations
from models.contacts import (display_name, grouped, in_quiet_hours, is_placeholder, list_contacts, role_label,
                             seed_if_possible)
from models.errors import DomainError
from models.i18n import t
from models.incidents import get_incident
from models.tables import CallLog, Contact, Incident
from models.timeparse import fmt_local, fmt_when
from tui.palette import BindingCommands
from tui.role_keys import RoleKeys
from tui.widgets.notice_room import NoticeRoom

ASSETS = Path(__file__).resolve().parent.parent / "assets"
BIG_CHARS = set(" 0123456789+-()")
MASK = "••••"
SYNC_EVERY_S = 1.0


def big_number(number: str) -> tuple[str, str]:
    """(what the big digits can show, the rest such as an extension): 13900000001 → 139 0000 0001."""
    text = (number or "").strip()
    main, rest = text, ""
    m = re.search(r"\s*(转|ext\.?|x)\s*(\d+)$", text, re.IGNORECASE)
    if m:
        main, rest = text[:m.start()], t("contacts.extension", ext=m.group(2))
    main = "".join(ch for ch in main if ch in BIG_CHARS).strip()
    if re.fullmatch(r"1\d{10}", main):
        main = f"{main[:3]} {main[3:7]} {main[7:]}"
    return main, rest


class ContactsScreen(RoleKeys, Screen):
    CSS_PATH = [ASSETS / "tcss" / "contacts.tcss"]
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("escape", "back", t("contacts.key.back")),
        Binding("l", "log_call", t("contacts.key.log")),
        Binding("c", "copy", t("contacts.key.copy")),
        Binding("m", "toggle_number", t("contacts.key.number"), show=False),
        Binding("n", "goto_next", t("contacts.key.next")),
        Binding("t", "switch_tree", t("contacts.key.tree"), show=False),   # the panel opens on the fitting tree (issue 15 item 8)
        Binding("h", "history", t("contacts.key.history")),
        # Editing is in help and the palette: with an incident the call keys fill 80 columns.
        Binding("e", "edit", t("contacts.key.edit"), show=False),
        Binding("question_mark", "app.help", t("board.key.help"), id="contacts.help"),
        Binding("a", "add", t("contacts.key.add"), show=False),
        Binding("delete", "remove", t("contacts.key.remove"), show=False),
        Binding("o", "edit_tree", t("contacts.key.edit_tree"), show=False),
    ]

    def __init__(self, incident_id: Any = None, situation: str | None = None) -> None:
        """Without ``situation`` the panel opens on the tree that fits the incident
        (``calltree.situation_for``: suspected crime, grade III or above, else a new incident)."""
        super().__init__()
        self.incident_ref = incident_id
        self.incident = None
        self.situation = situation or DEFAULT_SITUATION
        self._situation_given = situation is not None
        self.use_office = False
        self.contacts: dict[int, Contact] = {}
        self.progress = None

    # ------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="contacts-bar")
        yield DataTable(id="contacts-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="contacts-detail")
        yield Digits("", id="contacts-number")
        yield Static("", id="contacts-number-label")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, width in (("role", 16), ("name", 10), ("mobile", 13), ("office", 14), ("state", 14)):
            table.add_column(t(f"contacts.col.{key}"), key=key, width=width)
        ctx = self.app.ctx
        seed_if_possible(ctx)
        if self.incident_ref not in (None, ""):
            try:
                self.incident = get_incident(self.incident_ref)
                if not self._situation_given:
                    with ctx.store.read():
                        self.situation = situation_for(self.incident)
            except DomainError as exc:
                self.notify(exc.message, severity="error")
        self.watch(self.app, "locked", self._locked_changed, init=False)
        self._version = self._data_version()
        self.reload(select_next=True)
        self.set_interval(SYNC_EVERY_S, self.sync, name="contacts-sync")
        table.focus()


    # ------------------------------------------------------------ the other session's changes

    def _data_version(self) -> tuple | None:
        """The store's change feed: moves after any commit, this session's own included."""
        return self.app.store.feed.token()

    def sync(self) -> bool:
        """Re-read when anything was committed since the last look; keeps the selected row."""
        version = self._data_version()
        if version is None or version == self._version:
            return False
        self._version = version
        try:
            self.reload()
        except DomainError:
            self._version = None   # busy: try again on the next beat
            return False
        return True

    def reload(self, select_next: bool = False, keep: str | None = None) -> None:
        ctx = self.app.ctx
        with ctx.store.read():
            rows = list_contacts()
            self.contacts = {c.id: c for c in rows}
            if self.incident is not None:
                self.incident = Incident.get_or_none(Incident.id == self.incident.id) or self.incident
            inc_id = self.incident.id if self.incident else None
            self.progress = incident_progress(inc_id, self.situation)
            calls = list(CallLog.select().where(CallLog.incident == inc_id)) if inc_id else []
        table = self.query_one(DataTable)
        current = keep or self._selected_key()
        table.clear()
        locked = self.app.locked
        next_c = self.progress.next_contact if self.incident else None
        now = ctx.now()
        for spec, people in grouped(rows):
            role_cell = Text(("↑ " if spec.upstream else "") + spec.name,
                             style="bold" if not spec.upstream else "bold italic")
            if not people:
                table.add_row(role_cell, Text(t("contacts.none_for_role"), style="dim"), "", "", "",
                              key=f"r:{spec.id}")
                continue
            for i, c in enumerate(people):
                name = MASK if locked else (c.name or t("contacts.unnamed"))
                mobile = MASK if locked and c.mobile else c.mobile
                office = MASK if locked and c.office else c.office
                state = self._state_cell(c, calls, next_c, now)
                table.add_row(role_cell if i == 0 else "",
                              Text(name, style="dim" if not c.name or not c.active else ""),
                              Text(mobile), Text(office), state, key=f"c:{c.id}")
        self._update_bar()
        target = None
        if select_next and next_c is not None:
            target = f"c:{next_c.id}"
        elif current:
            target = current
        if target:
            try:
                table.move_cursor(row=table.get_row_index(target))
            except Exception:  # the row is gone (removed by the other session)
                pass
        self._update_detail()

    def _state_cell(self, c: Contact, calls: list[CallLog], next_c: Contact | None, now) -> Text:
        mine = [x for x in calls if x.contact_id == c.id]
        reached = [x for x in mine if x.outcome == "reached"]
        zone = self.app.ctx.zone
        if reached:
            return Text("✓ " + t("contacts.state.reached", at=fmt_when(reached[0].at, zone, now)),
                        style="green")
        if next_c is not None and c.id == next_c.id:
            tried = f" ×{len(mine)}" if mine else ""
            return Text("▶ " + t("contacts.state.next") + tried, style="bold reverse")
        if mine:
            return Text("✗ " + t("call_outcome." + mine[-1].outcome) + f" ×{len(mine)}", style="yellow")
        if not c.active:
            return Text(t("contacts.state.inactive"), style="dim")
        if in_quiet_hours(c.quiet_hours, now, zone):
            return Text(t("contacts.state.quiet"), style="magenta")
        return Text("")

    def _update_bar(self) -> None:
        bar = self.query_one("#contacts-bar", Static)
        marks = {"reached": "✓", "tried": "✗", "pending": "", "empty": "∅"}
        parts = []
        nxt = self.progress.next_step if self.progress else None
        for s in self.progress.steps if self.progress else []:
            # A step naming one person carries their name: only the role shows while locked.
            label = marks[s.state] + (role_label(s.role) if self.app.locked else s.label)
            parts.append(Text("▶" + label, style="bold reverse") if (self.incident and s is nxt) else Text(label))
        head = Text()
        if self.incident is not None:
            title = MASK if self.app.locked else self.incident.title
            head.append(f"{self.incident.code} ", style="bold")
            head.append(title + "  ")
        head.append(t("contacts.tree_title", name=situation_name(self.situation)) + " ", style="bold")
        head.append(Text(" → ").join(parts) if parts else Text(t("contacts.tree_empty")))
        bar.update(head)

    # ------------------------------------------------------------ selection and number

    def _selected_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except Exception:
            return None

    def selected_contact(self) -> Contact | None:
        key = self._selected_key()
        if key and key.startswith("c:"):
            return self.contacts.get(int(key[2:]))
        return None

    def selected_role(self) -> str | None:
        key = self._selected_key()
        if key and key.startswith("r:"):
            return key[2:]
        c = self.selected_contact()
        return c.role if c else None

    def current_number(self) -> tuple[str, str]:
        """(number, which) for the selected contact: the office line when asked or when there is no mobile."""
        c = self.selected_contact()
        if c is None:
            return "", ""
        if (self.use_office and c.office) or not c.mobile:
            return c.office, "office"
        return c.mobile, "mobile"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_log_call()

    def _update_detail(self) -> None:
        detail = self.query_one("#contacts-detail", Static)
        digits = self.query_one("#contacts-number", Digits)
        label = self.query_one("#contacts-number-label", Static)
        c = self.selected_contact()
        if self.app.locked:
            detail.update(Text(t("contacts.locked"), style="bold"))
            digits.update("")
            label.update("")
            return
        if c is None:
            role = self.selected_role()
            detail.update(Text(t("contacts.no_contact_for_role", role=role_label(role)) if role else ""))
            digits.update("")
            label.update("")
            return
        line = Text()
        line.append(role_label(c.role), style="bold")
        line.append("  " + (c.name or t("contacts.unnamed")))
        if c.department:
            line.append("  · " + c.department)
        ctx = self.app.ctx
        if c.quiet_hours:
            quiet = in_quiet_hours(c.quiet_hours, ctx.now(), ctx.zone)
            line.append("  · " + t("contacts.quiet_now" if quiet else "contacts.quiet", hours=c.quiet_hours),
                        style="magenta" if quiet else "")
        if self.incident is not None and counts_as_oral(ctx, c):
            line.append("  · " + t("contacts.counts_as_oral"), style="bold green")
        if c.notes:
            line.append("\n" + c.notes, style="italic")
        detail.update(line)
        number, which = self.current_number()
        if not number:
            digits.update("")
            label.update(Text(t("contacts.no_number"), style="bold red"))
            return
        big, rest = big_number(number)
        digits.update(big)
        other = c.mobile if which == "office" else c.office
        hint = t(f"contacts.number_label.{which}")
        if rest:
            hint += "  " + rest
        if other:
            hint += "  · " + t("contacts.other_number", number=other)
        label.update(Text(hint))

    def _locked_changed(self, locked: bool) -> None:
        self.reload()

    # ------------------------------------------------------------ actions

    # The role each key's action needs. Here a key without it is left out (not dimmed: the panel's
    # footer and ? help stay the officer's own); pressed, it says the role (tui/role_keys.RoleKeys).
    ACTION_ROLES = {"edit": "admin", "add": "admin", "remove": "admin", "edit_tree": "admin", "log_call": "officer"}

    def check_action(self, action: str, parameters) -> bool | None:
        if self.lacks_role(action):
            return False
        if action in ("goto_next", "history"):
            return True if self.incident is not None else False
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_number(self) -> None:
        self.use_office = not self.use_office
        self._update_detail()

    def action_copy(self) -> None:
        if self.app.locked:
            self.notify(t("contacts.locked"), severity="warning")
            return
        number, _ = self.current_number()
        if not number:
            self.notify(t("contacts.no_number"), severity="warning")
            return
        self.app.copy_to_clipboard(number)
        self.notify(t("contacts.copied", number=number))

    def action_goto_next(self) -> None:
        nxt = self.progress.next_contact if self.progress else None
        if nxt is None:
            self.notify(t("contacts.tree_done"))
            return
        table = self.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(f"c:{nxt.id}"))

    def action_switch_tree(self) -> None:
        names = situations()
        if not names:
            return
        i = names.index(self.situation) if self.situation in names else -1
        self.situation = names[(i + 1) % len(names)]
        self.reload(select_next=True)
        self.notify(t("contacts.tree_title", name=situation_name(self.situation)))

    def action_log_call(self) -> None:
        if self.app.locked:
            return
        c = self.selected_contact()
        if c is None:
            self.notify(t("contacts.pick_contact"), severity="warning")
            return
        if is_placeholder(c):
            self.notify(t("contacts.no_number"), severity="warning")
        from screens.contacts_forms import LogCallForm
        number, _ = self.current_number()
        self.app.push_screen(LogCallForm(c, self.incident, number), self._after_log)

    def _after_log(self, result: Any) -> None:
        if not result:
            return
        self.reload(select_next=True)
        msg = t("contacts.logged", who=display_name(result.call.contact) if result.call.contact else result.call.contact_name,
                outcome=t("call_outcome." + result.call.outcome))
        for r in result.oral_reports:
            msg += "\n" + t("contacts.oral_met", stage=self.app.ctx.policy.stage(r.regime, r.stage).name)
        self.notify(msg, timeout=8)

    def action_history(self) -> None:
        if self.app.locked or self.incident is None:
            return
        from screens.contacts_forms import CallHistory
        self.app.push_screen(CallHistory(self.incident))

    def action_edit(self) -> None:
        c = self.selected_contact()
        if c is None:
            self.action_add()
            return
        from screens.contacts_forms import ContactForm
        self.app.push_screen(ContactForm(c), lambda saved: saved and self.reload(keep=f"c:{saved.id}"))

    def action_add(self) -> None:
        from screens.contacts_forms import ContactForm
        self.app.push_screen(ContactForm(None, role=self.selected_role()),
                             lambda saved: saved and self.reload(keep=f"c:{saved.id}"))

    def action_remove(self) -> None:
        c = self.selected_contact()
        if c is None:
            return
        from screens.contacts_forms import ConfirmRemove
        self.app.push_screen(ConfirmRemove(c), lambda done: done and self.reload())

    def action_edit_tree(self) -> None:
        from screens.contacts_forms import TreeForm
        self.app.push_screen(TreeForm(self.situation), lambda saved: saved and self.reload(select_next=True))


SCREEN = ContactsScreen
