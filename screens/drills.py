"""Drills held: each with its date, state and how its reports went; Enter opens its summary.

Opened from the board's ``g`` menu; the summary is ``screens/drill.py`` (end the drill, save
the GB/T 9704 summary there).
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
from models.timeparse import fmt_local
from screens._follow import FollowsOtherSessions
from tui.palette import BindingCommands
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "drills.tcss"


class DrillsScreen(FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    GUIDE_SECTION = "drills"
    BINDINGS = [
        Binding("enter", "open", t("drills_screen.key.open"), id="drills.open", priority=True),
        Binding("escape", "back", t("stats.key.back"), id="drills.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(t("drills_screen.title"), id="list-title")
        yield DataTable(id="list-table", cursor_type="row")
        yield Static("", id="list-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        table = self.query_one("#list-table", DataTable)
        for key, width in (("code", 9), ("date", 16), ("state", 6), ("stages", 12), ("title", 30)):
            table.add_column(t(f"drills_screen.col.{key}"), key=key, width=width)
        self.reload()
        self.follow_other_sessions("drills-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        table.focus()

    def reload(self) -> None:
        from models.drills import summarize
        from models.tables import Incident
        table = self.query_one("#list-table", DataTable)
        if self.app.locked:
            table.clear()
            return
        ctx = self.app.ctx
        rows = []
        try:
            with ctx.store.read():
                for inc in Incident.select().where(Incident.is_drill == True).order_by(  # noqa: E712
                        Incident.occurred_at.desc()):
                    s = summarize(ctx, inc.id)
                    on_time = sum(1 for st in s.stages if st.state == "met")
                    rows.append((inc, on_time, len(s.stages)))
        except DomainError as exc:
            self.query_one("#list-status", Static).update(Text(exc.message, style="bold reverse"))
            return
        table.clear()
        for inc, on_time, total in rows:
            state = t("drills_screen.ended") if inc.status == "closed" else t("drills_screen.running")
            table.add_row(Text(inc.code), Text(fmt_local(inc.occurred_at, ctx.zone, with_zone=False)), Text(state),
                          Text(t("drills_screen.stages_value", on_time=on_time, total=total)), Text(inc.title),
                          key=str(inc.id))
        self.query_one("#list-status", Static).update(t("drills_screen.count", n=len(rows)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#list-table", DataTable)
        if table.row_count:
            self.app.open_screen("drill", int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value))

    def action_back(self) -> None:
        self.app.pop_screen()


SCREEN = DrillsScreen
