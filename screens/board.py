"""A plain first board: open incidents with their next deadline.

The live-board issue replaces this with countdowns, escalation, alarms and
cross-session sync; this keeps the app useful from day one.
"""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from models.deadlines import next_obligation
from models.i18n import t
from models.incidents import list_incidents, open_obligations
from tui.present import stage_name, state_text
from models.timeparse import fmt_duration, fmt_local


class BoardScreen(Screen):
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="board-empty")
        yield DataTable(id="board-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("code", "title", "next", "due", "left", "state"):
            table.add_column(t("col." + key), key=key)
        self.reload()

    def reload(self) -> None:
        app = self.app
        ctx = app.ctx
        with ctx.store.read():
            incidents = list_incidents()
            pairs = open_obligations(ctx, incidents=incidents)
        table = self.query_one(DataTable)
        table.clear()
        seen = set()
        for inc, ob in pairs:
            if inc.id in seen or not ob.is_open:
                continue
            seen.add(inc.id)
            left = "" if ob.seconds_left is None or ob.seconds_left < 0 else fmt_duration(ob.seconds_left)
            table.add_row(Text(inc.code), Text(inc.title), Text(stage_name(ctx, ob)),
                          Text(fmt_local(ob.due_at, ctx.zone, date=False)), Text(left),
                          Text(state_text(ob)), key=str(inc.id))
        self.query_one("#board-empty", Static).update("" if seen else t("app.no_incidents"))


SCREEN = BoardScreen
