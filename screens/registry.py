"""Registry accounts (学籍系统账号): who holds each login of the national system, and what is due.

Opened from the board's ``g`` menu (the board's banner points here). Flags as the CLI shows them:
password due, handed over without a new password, idle (to be sealed). ``n`` adds an account
(leader), ``p`` records a password change (the date only, never the password), ``u`` a use,
``h`` a hand-over (leader), ``x`` retires it (leader), ``a`` shows retired ones too.
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
from tui.widgets.form_modal import FormField, FormModal
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "registry.tcss"


class RegistryScreen(FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    GUIDE_SECTION = "prevention"
    BINDINGS = [
        Binding("n", "add", t("registry_screen.key.add"), id="registry.add"),
        Binding("p", "password", t("registry_screen.key.password"), id="registry.password"),
        Binding("u", "used", t("registry_screen.key.used"), id="registry.used"),
        Binding("h", "handover", t("registry_screen.key.handover"), id="registry.handover"),
        Binding("x", "retire", t("registry_screen.key.retire"), id="registry.retire"),
        Binding("a", "toggle_all", t("registry_screen.key.all"), id="registry.all"),
        Binding("escape", "back", t("stats.key.back"), id="registry.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False

    def compose(self) -> ComposeResult:
        yield Static(t("registry_screen.title"), id="list-title")
        yield DataTable(id="list-table", cursor_type="row")
        yield Static("", id="list-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        table = self.query_one("#list-table", DataTable)
        for key, width in (("login", 12), ("holder", 8), ("role", 8), ("password", 10), ("used", 10),
                           ("flags", 22)):
            table.add_column(t(f"registry_screen.col.{key}"), key=key, width=width)
        self.reload()
        self.follow_other_sessions("registry-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        table.focus()

    def reload(self) -> None:
        from models.registry_accounts import list_accounts
        table = self.query_one("#list-table", DataTable)
        if self.app.locked:
            table.clear()
            return
        ctx = self.app.ctx
        try:
            with ctx.store.read():
                views = list_accounts(ctx, include_retired=self.show_all)
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        keep = self._selected()
        table.clear()
        ids = []
        for v in views:
            r = v.row
            flags = "；".join(t(f"prevention.account.flag.{f}") for f in v.flags)
            if v.retired:
                flags = t("registry_screen.retired")
            table.add_row(Text(r.login), Text(r.holder), Text(r.role or ""),
                          Text(fmt_local(r.password_changed_at, ctx.zone, with_zone=False)[:10]),
                          Text(fmt_local(r.last_used_at, ctx.zone, with_zone=False)[:10]),
                          Text(("⚠ " + flags) if v.flags else flags, style="bold" if v.flags else "dim"),
                          key=str(r.id))
            ids.append(r.id)
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        self._count = t("registry_screen.count", n=len(views), flagged=sum(1 for v in views if v.flags))
        self._status("")

    def _selected(self) -> int | None:
        table = self.query_one("#list-table", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    def _status(self, message: str, error: bool = False) -> None:
        """The last action's outcome, then the counts (what needs attention stays in view)."""
        line = Text(message, style="bold reverse" if error else "bold")
        count = getattr(self, "_count", "")
        if count:
            line.append(("　" if message else "") + count)
        self.query_one("#list-status", Static).update(line)

    def _done(self, result) -> None:
        self.reload()
        if result:
            self._status(result)

    def _call(self, fn, *args, message: str) -> None:
        try:
            fn(self.app.ctx, *args)
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        self.reload()
        self._status(message)

    def action_add(self) -> None:
        from models.registry_accounts import add_account

        def save(v: dict) -> str:
            row = add_account(self.app.ctx, v["account_login"], v["account_holder"], v["account_role"],
                              notes=v["notes"])
            return t("registry_screen.added", login=row.login)

        fields = [FormField("account_login", t("field.account_login")),
                  FormField("account_holder", t("field.account_holder")),
                  FormField("account_role", t("field.account_role")),
                  FormField("notes", t("registry_screen.field.notes"))]
        self.app.push_screen(FormModal(t("registry_screen.add_title"), fields, save,
                                       intro=t("registry_screen.add_intro")), self._done)

    def action_password(self) -> None:
        from models.registry_accounts import password_changed
        rid = self._selected()
        if rid is not None:
            self._call(password_changed, rid, message=t("registry_screen.password_done"))

    def action_used(self) -> None:
        from models.registry_accounts import record_use
        rid = self._selected()
        if rid is not None:
            self._call(record_use, rid, message=t("registry_screen.used_done"))

    def action_handover(self) -> None:
        from models.registry_accounts import hand_over
        rid = self._selected()
        if rid is None:
            return

        def save(v: dict) -> str:
            hand_over(self.app.ctx, rid, v["account_holder"])
            return t("registry_screen.handover_done", holder=v["account_holder"].strip())

        self.app.push_screen(FormModal(t("registry_screen.handover_title"),
                                       [FormField("account_holder", t("field.account_holder"))], save,
                                       intro=t("registry_screen.handover_intro")), self._done)

    def action_retire(self) -> None:
        from models.registry_accounts import retire
        rid = self._selected()
        if rid is None:
            return

        def save(v: dict) -> str:
            retire(self.app.ctx, rid, v["reason"])
            return t("registry_screen.retire_done")

        self.app.push_screen(FormModal(t("registry_screen.retire_title"),
                                       [FormField("reason", t("registry_screen.field.reason"))], save), self._done)

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.reload()

    def action_back(self) -> None:
        self.app.pop_screen()


SCREEN = RegistryScreen
