"""The data-use ledger (学籍使用台账): every export or outside use of registry data, newest first.

Opened from the board's ``g`` menu. ``n`` records a use (who, what data, why, approved by whom,
given to whom); the approver is required: data leaves the registry only with a named approver.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.errors import DomainError
from models.i18n import t
from models.profiles import display_name
from models.timeparse import fmt_local, parse_time
from screens._follow import FollowsOtherSessions
from tui.palette import BindingCommands
from tui.role_keys import RoleKeys
from tui.widgets.form_modal import FormField, FormModal
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "ledger.tcss"


class LedgerScreen(RoleKeys, FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    GUIDE_SECTION = "prevention"
    # The role each key's action needs (the service refuses it without); ? marks it (screens/help.py).
    ACTION_ROLES = {"add": "officer"}
    BINDINGS = [
        Binding("n", "add", t("ledger_screen.key.add"), id="ledger.add"),
        Binding("escape", "back", t("stats.key.back"), id="ledger.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(t("ledger_screen.title"), id="list-title")
        yield DataTable(id="list-table", cursor_type="row")
        yield Static("", id="list-detail")
        yield Static("", id="list-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        table = self.query_one("#list-table", DataTable)
        for key, width in (("at", 16), ("who", 8), ("data", 18), ("purpose", 14), ("approved_by", 8)):
            table.add_column(t(f"field.ledger_{key}"), key=key, width=width)
        self.reload()
        self.follow_other_sessions("ledger-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        table.focus()

    def reload(self) -> None:
        from models.ledger import list_uses
        table = self.query_one("#list-table", DataTable)
        if self.app.locked:
            table.clear()
            return
        ctx = self.app.ctx
        try:
            with ctx.store.read():
                self._rows = list_uses()
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        table.clear()
        for r in self._rows:
            table.add_row(Text(fmt_local(r.at, ctx.zone, with_zone=False)), Text(r.who), Text(r.data),
                          Text(r.purpose), Text(r.approved_by), key=str(r.id))
        self._status(t("ledger_screen.count", n=len(self._rows)))
        self._detail()

    def _detail(self) -> None:
        table = self.query_one("#list-table", DataTable)
        detail = self.query_one("#list-detail", Static)
        if not table.row_count:
            detail.update(t("ledger_screen.none"))
            return
        rid = int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
        r = next((x for x in self._rows if x.id == rid), None)
        if r is not None:
            detail.update(Text(t("ledger_screen.detail", recipient=r.recipient or "—", by=display_name(r.recorded_by) or "—")))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _status(self, message: str, error: bool = False) -> None:
        self.query_one("#list-status", Static).update(Text(message, style="bold reverse" if error else ""))

    def action_add(self) -> None:
        from models.ledger import UseInput, add_use

        def save(v: dict) -> str:
            ctx = self.app.ctx
            at = parse_time(v["ledger_at"] or "now", now=ctx.now(), zone=ctx.zone, field="ledger_at")
            add_use(ctx, UseInput(who=v["ledger_who"], data=v["ledger_data"], purpose=v["ledger_purpose"],
                                  approved_by=v["ledger_approved_by"], recipient=v["ledger_recipient"], at=at))
            return t("ledger_screen.added")

        fields = [FormField(name, t(f"field.{name}")) for name in
                  ("ledger_who", "ledger_data", "ledger_purpose", "ledger_approved_by", "ledger_recipient")]
        fields.append(FormField("ledger_at", t("field.ledger_at"), placeholder=t("ledger_screen.at_hint")))
        self.app.push_screen(FormModal(t("ledger_screen.add_title"), fields, save,
                                       intro=t("ledger_screen.add_intro")), self._done)

    def _done(self, result) -> None:
        self.reload()
        if result:
            self._status(result)

    def action_back(self) -> None:
        self.app.pop_screen()


SCREEN = LedgerScreen
