"""History: closed, withdrawn and drill incidents, searched by code, title, category, grade, dates.

Opened from the board's ``g`` menu. The search line takes words and marked words
(``类别:恶意程序 级别:III 从:2026-03-01 到:2026-03-31 演练``, see ``models.history``); results
follow as one types. Enter opens the incident read-only (its reports, timeline, evidence and
documents: ``screens/incident.py`` with ``read_only``); ``d`` opens a drill's summary.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from models.errors import DomainError
from models.i18n import t
from models.timeparse import fmt_local
from screens._follow import FollowsOtherSessions
from tui.palette import BindingCommands
from tui.widgets.columns import fit_columns
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "history.tcss"


class HistoryScreen(FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    GUIDE_SECTION = "incident"
    BINDINGS = [
        Binding("slash", "search", t("history.key.search"), id="history.search"),
        Binding("enter", "open", t("history.key.open"), id="history.open", priority=True),
        Binding("d", "drill", t("history.key.drill"), id="history.drill"),
        Binding("escape", "back", t("stats.key.back"), id="history.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ids: list[int] = []
        self._drill: dict[int, bool] = {}

    def compose(self) -> ComposeResult:
        yield Static(t("history.title"), id="history-title")
        yield Input(placeholder=t("history.placeholder"), id="history-search")
        yield Static(Text(t("history.hint"), style="dim"), id="history-hint")
        yield DataTable(id="history-table", cursor_type="row")
        yield Static("", id="history-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        table = self.query_one("#history-table", DataTable)
        self._fit_columns()
        self.reload()
        self.follow_other_sessions("history-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        table.focus()

    def _fit_columns(self) -> None:
        """Every heading fits at 80 columns; the title takes the rest of the width."""
        from rich.cells import cell_len
        kind = max(cell_len(t(f"history.kind.{k}")) for k in ("closed", "withdrawn", "drill", "open", "handled"))
        spec = [(key, t(f"history.col.{key}"), width)
                for key, width in (("code", 8), ("date", 10), ("kind", kind), ("grade", 4), ("category", 12),
                                   ("title", 16))]
        fit_columns(self.query_one("#history-table", DataTable), spec, "title", self.size.width or self.app.size.width)

    def on_resize(self) -> None:
        self._fit_columns()

    def reload(self) -> None:
        from models import history
        from models.annual_report import category_name
        table = self.query_one("#history-table", DataTable)
        status = self.query_one("#history-status", Static)
        if self.app.locked:
            table.clear()
            status.update(t("stats.screen.locked"))
            return
        ctx = self.app.ctx
        text = self.query_one("#history-search", Input).value
        try:
            q = history.parse_query(text, ctx.now().astimezone(ctx.zone).date())
            with ctx.store.read():
                hits = history.search(ctx, q)
        except DomainError as exc:
            status.update(Text(exc.message, style="bold reverse"))
            return
        table.clear()
        self._ids = [r.id for r in hits.rows]
        self._drill = {r.id: r.is_drill for r in hits.rows}
        for r in hits.rows:
            table.add_row(Text(r.code), Text(fmt_local(r.occurred_at, ctx.zone, with_zone=False)[:10]),
                          Text(t(f"history.kind.{r.kind}"), style="reverse" if r.is_drill else ""),
                          Text(r.grade or "—"), Text(category_name(r.category)), Text(r.title), key=str(r.id))
        if hits.total > len(hits.rows):
            status.update(t("history.count_more", n=hits.total, shown=len(hits.rows)))
        else:
            status.update(t("history.count", n=hits.total))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.reload()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#history-table", DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def _selected(self) -> int | None:
        table = self.query_one("#history-table", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def action_search(self) -> None:
        self.query_one("#history-search", Input).focus()

    def action_open(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#history-table", DataTable).focus()
            return
        iid = self._selected()
        if iid is not None:
            self.app.open_screen("incident", iid, read_only=True)

    def action_drill(self) -> None:
        iid = self._selected()
        if iid is None:
            return
        if not self._drill.get(iid):
            self.query_one("#history-status", Static).update(Text(t("history.not_drill"), style="bold reverse"))
            return
        self.app.open_screen("drill", iid)

    def action_back(self) -> None:
        if isinstance(self.focused, Input):
            self.query_one("#history-table", DataTable).focus()
            return
        self.app.pop_screen()


SCREEN = HistoryScreen
