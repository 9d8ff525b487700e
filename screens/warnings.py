"""Warnings from above: the active ones, each department's response actions, lifting.

Opened from the board with ``w``. The upper table lists warnings (active
first, most severe first); the lower one the selected warning's actions per
department, ticked with space. ``n`` records a new warning, ``l`` lifts the
selected one (who and when are recorded). Follows the other session's
writes through ``PRAGMA data_version``.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Label, Select, Static, TextArea

from screens._follow import FollowsOtherSessions
from models.errors import DomainError
from models.i18n import t
from models.profiles import display_name
from models.timeparse import fmt_local, fmt_when, parse_time
from tui.palette import BindingCommands
from tui.role_keys import RoleKeys
from tui.widgets.notice_room import NoticeRoom
from models.warnings import (LEVELS, actions_of, add_warning, default_actions, parse_actions, get_warning, level_words, lift_warning,
                             list_warnings, progress, set_action_done, status_of)

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "warnings.tcss"
LEVEL_STYLE = {"red": "bold reverse red", "orange": "bold #ff8700", "yellow": "bold yellow", "blue": "bold blue"}


class WarningsScreen(RoleKeys, FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    # The role each key's action needs (the services refuse it without); ? marks them (screens/help.py).
    ACTION_ROLES = {"toggle_action": "officer", "new_warning": "officer", "lift": "officer"}
    BINDINGS = [
        Binding("space", "toggle_action", t("prevention.key.tick"), id="warnings.tick"),
        Binding("n", "new_warning", t("prevention.key.new_warning"), id="warnings.new"),
        Binding("l", "lift", t("prevention.key.lift"), id="warnings.lift"),
        Binding("a", "toggle_all", t("prevention.key.all_warnings"), id="warnings.all"),
        Binding("tab", "switch", t("prevention.key.switch"), id="warnings.switch", show=False),
        Binding("escape", "back", t("prevention.key.back"), id="warnings.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self._version: int | None = None
        self._warning_ids: list[int] = []

    def compose(self) -> ComposeResult:
        yield Static(t("prevention.warnings.title"), id="warnings-title")
        yield DataTable(id="warnings-table", cursor_type="row")
        yield Static("", id="warnings-detail")
        yield DataTable(id="actions-table", cursor_type="row")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        wt = self.query_one("#warnings-table", DataTable)
        for key, width in (("level", 16), ("status", 6), ("source", 10), ("content", 26), ("progress", 6)):
            wt.add_column(t(f"prevention.wcol.{key}"), key=key, width=width)
        at = self.query_one("#actions-table", DataTable)
        for key, width in (("done", 1), ("department", 10), ("action", 47), ("who", 12)):
            at.add_column(t(f"prevention.acol.{key}"), key=key, width=width)
        self.reload()
        self.follow_other_sessions("warnings-poll")
        self.watch(self.app, "locked", self._locked_changed, init=True)
        wt.focus()

    def _locked_changed(self, locked: bool) -> None:
        """While the session is idle-locked, no warning or department is on screen."""
        for selector in ("#warnings-table", "#actions-table"):
            self.query_one(selector).display = not locked
        if locked:
            self.query_one("#warnings-detail", Static).update(t("prevention.locked"))
        else:
            self.reload()


    def _selected_warning_id(self) -> int | None:
        table = self.query_one("#warnings-table", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def reload(self) -> None:
        if self.app.locked:
            return
        ctx = self.app.ctx
        now = self.app.clock.now()
        try:
            with ctx.store.read():
                rows = list_warnings(now, include_inactive=self.show_all)
                prog = {w.id: progress(w) for w in rows}
        except DomainError as exc:
            self.notify(exc.message, severity="error")
            return
        table = self.query_one("#warnings-table", DataTable)
        keep = self._selected_warning_id()
        table.clear()
        for w in rows:
            status = status_of(w, now)
            style = LEVEL_STYLE.get(w.level, "") if status == "active" else "dim"
            p = prog[w.id]
            table.add_row(Text(level_words(w.level), style=style),
                          Text(t(f"prevention.warning.status.{status}")), Text(w.source),
                          Text(w.content.splitlines()[0] if w.content else ""), Text(f"{p.done}/{p.total}"),
                          key=str(w.id))
        self._warning_ids = [w.id for w in rows]
        if keep in self._warning_ids:
            table.move_cursor(row=self._warning_ids.index(keep))
        self._show_actions()

    def _show_actions(self) -> None:
        ctx = self.app.ctx
        wid = self._selected_warning_id()
        detail = self.query_one("#warnings-detail", Static)
        table = self.query_one("#actions-table", DataTable)
        keep = None
        if table.row_count:
            keep = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        table.clear()
        if wid is None:
            detail.update(t("prevention.cli.warning.none"))
            return
        with ctx.store.read():
            w = get_warning(wid)
            acts = actions_of(w)
        until = fmt_local(w.valid_until, ctx.zone) if w.valid_until else t("prevention.warning.until_lifted")
        text = Text(t("prevention.warnings.detail", received=fmt_local(w.received_at, ctx.zone), until=until))
        if w.lifted_at:
            text.append("  " + t("prevention.warnings.lifted", by=display_name(w.lifted_by),
                                 at=fmt_local(w.lifted_at, ctx.zone)), style="dim")
        text.append("\n" + w.content)
        detail.update(text)
        for a in acts:
            who = f"{display_name(a.done_by)} {fmt_when(a.done_at, ctx.zone, ctx.now(), with_zone=False)}" if a.done_at else ""
            table.add_row(Text("✓" if a.done_at else "·", style="green" if a.done_at else ""),
                          Text(a.department), Text(a.action), Text(who), key=str(a.id))
        if keep is not None and keep in {str(a.id) for a in acts}:
            table.move_cursor(row=[str(a.id) for a in acts].index(keep))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "warnings-table":
            self._show_actions()

    def action_switch(self) -> None:
        wt = self.query_one("#warnings-table", DataTable)
        at = self.query_one("#actions-table", DataTable)
        (at if wt.has_focus else wt).focus()

    def action_toggle_action(self) -> None:
        if self.app.locked:
            return
        table = self.query_one("#actions-table", DataTable)
        if not table.has_focus:
            table.focus()
            return
        if not table.row_count:
            return
        aid = int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)
        done = str(table.get_row_at(table.cursor_row)[0]) != "✓"
        try:
            set_action_done(self.app.ctx, aid, done)
        except DomainError as exc:
            self.notify(exc.message, severity="error")
        self.reload()

    def action_new_warning(self) -> None:
        if not self.app.locked:
            self.app.push_screen(NewWarningScreen(), lambda _: self.reload())

    def action_lift(self) -> None:
        wid = self._selected_warning_id()
        if wid is None or self.app.locked:
            return
        self.app.push_screen(LiftWarningScreen(wid), lambda _: self.reload())

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()


class NewWarningScreen(Screen):
    """Record a warning as received: level, issuer, content, validity."""

    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("ctrl+s", "save", t("prevention.key.save"), id="new_warning.save", priority=True),
        Binding("escape", "cancel", t("prevention.key.cancel"), id="new_warning.cancel"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(t("prevention.key.new_warning"), id="warnings-title")
        with VerticalScroll(id="new-warning-body"):
            with Horizontal(classes="nw-row"):
                yield Select([(level_words(lv), lv) for lv in LEVELS], id="nw-level", value="yellow",
                             allow_blank=False)
                yield Input(value=t("prevention.warnings.default_source", bureau=self.app.settings.bureau),
                            id="nw-source")
            yield Label(t("field.warning_content"))
            yield TextArea(id="nw-content", soft_wrap=True)
            with Horizontal(classes="nw-row"):
                yield Label(t("field.warning_received_at"), classes="nw-label")
                yield Input(value="now", id="nw-received")
                yield Label(t("field.warning_valid_until"), classes="nw-label")
                yield Input(placeholder=t("prevention.warning.until_lifted"), id="nw-until")
            yield Label(t("prevention.warnings.actions_label"))
            yield TextArea("\n".join(f"{d}：{a}" for d, a in default_actions(self.app.ctx)), id="nw-actions",
                           soft_wrap=True)
        yield Static("", id="nw-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#nw-content").focus()

    def action_save(self) -> None:
        ctx = self.app.ctx
        now = ctx.now()
        try:
            received = parse_time(self.query_one("#nw-received", Input).value, now=now, zone=ctx.zone,
                                  field="warning_received_at")
            until_text = self.query_one("#nw-until", Input).value.strip()
            until = parse_time(until_text, now=now, zone=ctx.zone, field="warning_valid_until") if until_text else None
            w = add_warning(ctx, self.query_one("#nw-level", Select).value,
                            source=self.query_one("#nw-source", Input).value,
                            content=self.query_one("#nw-content", TextArea).text,
                            received_at=received, valid_until=until,
                            actions=parse_actions(self.query_one("#nw-actions", TextArea).text))
        except DomainError as exc:
            self.query_one("#nw-error", Static).update(Text(exc.message, style="bold red"))
            return
        self.app.notify(t("prevention.cli.warning.added", id=w.id, level=level_words(w.level)), severity="warning")
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class LiftWarningScreen(ModalScreen):
    """Lift a warning: who and when are recorded; a reason is optional."""

    CSS_PATH = TCSS
    BINDINGS = [
        Binding("escape", "cancel", t("prevention.key.cancel"), id="lift.cancel"),
    ]

    def __init__(self, warning_id: int) -> None:
        super().__init__()
        self.warning_id = warning_id

    def compose(self) -> ComposeResult:
        w = get_warning(self.warning_id)
        with VerticalScroll(id="lift-box"):
            yield Static(Text(t("prevention.warnings.lift_confirm", level=level_words(w.level), source=w.source)))
            yield Input(placeholder=t("prevention.warnings.lift_reason"), id="lift-reason")
            yield Static("", id="lift-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#lift-reason").focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        w = get_warning(self.warning_id)
        try:
            lift_warning(self.app.ctx, self.warning_id, event.value, expected_version=w.version)
        except DomainError as exc:
            self.query_one("#lift-error", Static).update(Text(exc.message, style="bold red"))
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


SCREEN = WarningsScreen
