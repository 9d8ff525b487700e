"""The desk's own accounts (admins): list, add, reset a password, disable, unlock, role, profile.

Opened from the board's ``g`` menu (``app.open_screen("accounts")``); only an admin gets in
(``REQUIRED_ROLE``), and every service checks the role again. The profile (name, title, phone)
is what the reports take as 联系人 / 联系电话 / 签发人.
"""
from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models.errors import DomainError, ValidationError
from models.i18n import t
from models.roles import ROLES
from models.timeparse import fmt_local, fmt_when
from screens._follow import FollowsOtherSessions
from tui.palette import BindingCommands
from tui.widgets.form_modal import FormField, FormModal
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "accounts.tcss"


def role_from_text(text: str) -> str:
    """``officer`` or its name in either language (值班员); a clear message otherwise."""
    needle = (text or "").strip().lower()
    for role in ROLES:
        if needle in (role, t("role." + role).lower(), t("role." + role, lang="zh"), t("role." + role, lang="en")):
            return role
    names = "、".join(f"{t('role.' + r)}（{r}）" for r in ROLES)
    raise ValidationError({"role": ("accounts_screen.error.role", {"value": text, "roles": names})})


class PasswordForm(FormModal):
    """A FormModal whose password fields hide what is typed."""

    def __init__(self, *args, secret: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.secret = secret

    def on_mount(self) -> None:
        for name in self.secret:
            self.query_one(f"#f-{name}").password = True
        super().on_mount()


TITLE_W, STATE_W = 12, 14


class AccountsScreen(FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    REQUIRED_ROLE = "admin"
    GUIDE_SECTION = "accounts"
    BINDINGS = [
        Binding("n", "add", t("accounts_screen.key.add"), id="accounts.add"),
        Binding("e", "profile", t("accounts_screen.key.profile"), id="accounts.profile"),
        Binding("p", "password", t("accounts_screen.key.password"), id="accounts.password"),
        Binding("d", "disable", t("accounts_screen.key.disable"), id="accounts.disable"),
        Binding("u", "unlock", t("accounts_screen.key.unlock"), id="accounts.unlock"),
        Binding("r", "role", t("accounts_screen.key.role"), id="accounts.role"),
        Binding("escape", "back", t("stats.key.back"), id="accounts.back"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(t("accounts_screen.title"), id="accounts-title")
        yield DataTable(id="accounts-table", cursor_type="row")
        yield Static("", id="accounts-detail")
        yield Static("", id="accounts-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        table = self.query_one("#accounts-table", DataTable)
        for key, width in (("username", 12), ("name", 10), ("title", TITLE_W), ("phone", 13), ("role", 6),
                           ("state", STATE_W)):
            table.add_column(t(f"accounts_screen.col.{key}"), key=key, width=width)
        self.reload()
        self.follow_other_sessions("accounts-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        table.focus()

    def _fit_state(self, widest: int) -> None:
        """A lock until another day reads 锁定至 11-26 01:00 whole: the title column gives the room."""
        table = self.query_one("#accounts-table", DataTable)
        extra = max(0, widest - STATE_W)
        for key, column in table.columns.items():
            width = {"state": STATE_W + extra, "title": max(TITLE_W - extra, 5)}.get(str(key.value))
            if width is not None and column.width != width:
                column.width, column.auto_width = width, False
                table._require_update_dimensions = True

    def reload(self) -> None:
        from models.accounts import list_users
        from models.profiles import profile_of
        table = self.query_one("#accounts-table", DataTable)
        if self.app.locked:
            table.clear()
            return
        ctx = self.app.ctx
        now = ctx.now()
        keep = self.selected()
        try:
            with ctx.store.read():
                users = list_users()
                profiles = {u.username: profile_of(u.username) for u in users}
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        table.clear()
        self._users = {u.username: u for u in users}
        states = {}
        for u in users:
            locked = bool(u.locked_until and u.locked_until > now)
            if u.disabled:
                states[u.username] = t("accounts_screen.state.disabled"), True
            elif locked:
                states[u.username] = t("accounts_screen.state.locked", until=fmt_when(u.locked_until, ctx.zone, now)), True
            else:
                states[u.username] = t("accounts_screen.state.active"), False
        self._fit_state(max([cell_len(text) for text, _ in states.values()], default=0))
        for u in users:
            prof = profiles[u.username]
            state, marked = states[u.username]
            table.add_row(Text(u.username), Text(u.display_name), Text(prof.title if prof else ""),
                          Text(prof.phone if prof else ""), Text(t("role." + u.role)),
                          Text(state, style="bold reverse" if marked else ""), key=u.username)
        names = list(self._users)
        if keep in names:
            table.move_cursor(row=names.index(keep))
        self._detail()

    def _detail(self) -> None:
        name = self.selected()
        u = getattr(self, "_users", {}).get(name)
        detail = self.query_one("#accounts-detail", Static)
        if u is None:
            detail.update("")
            return
        ctx = self.app.ctx
        detail.update(Text(t("accounts_screen.detail", user=u.username,
                             changed=fmt_local(u.password_changed_at, ctx.zone) if u.password_changed_at else "—",
                             logins=u.remembered_logins)))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def selected(self) -> str | None:
        table = self.query_one("#accounts-table", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    def _status(self, message: str, error: bool = False) -> None:
        self.query_one("#accounts-status", Static).update(Text(message, style="bold reverse" if error else "bold"))

    def _done(self, result) -> None:
        if result:
            self._status(result)
        self.reload()

    # ------------------------------------------------------------------ actions

    # Like the CLI (``user add`` asks for the acting admin's password), every change to an
    # account asks for the admin's own password: a remembered login on a terminal left
    # unattended must not be enough to create an account, reset a password or change a role.
    def _admin_field(self) -> FormField:
        return FormField("admin_password", t("accounts_screen.field.admin_password"),
                         placeholder=t("accounts_screen.field.admin_password_hint",
                                       user=self.app.actor.username))

    def _confirm_admin(self, v: dict) -> None:
        from models.accounts import AuthenticationFailed, authenticate
        try:
            authenticate(self.app.ctx, self.app.actor.username, v.get("admin_password") or "",
                         purpose="cli", record_success=False)
        except AuthenticationFailed:
            raise ValidationError({"admin_password": ("accounts_screen.error.admin_password", {})}) from None

    def _confirmed(self, title: str, fn, *args, message: str) -> None:
        """A one-key change (disable, unlock) behind the admin's password."""
        def save(v: dict) -> str:
            self._confirm_admin(v)
            fn(self.app.ctx, *args)
            return message
        self.app.push_screen(PasswordForm(title, [self._admin_field()], save,
                                          intro=t("accounts_screen.confirm_intro"),
                                          secret=("admin_password",)), self._done)

    def action_add(self) -> None:
        from models.accounts import create_user
        from models.profiles import set_profile

        def save(v: dict) -> str:
            role = role_from_text(v["role"])
            if v["password"] != v["password2"]:
                raise ValidationError({"password2": ("error.password_mismatch", {})})
            ctx = self.app.ctx
            self._confirm_admin(v)
            from models.profiles import validate_phone
            validate_phone(v["phone"])            # refused before the account exists
            user = create_user(ctx, v["username"], role, v["name"], v["password"])
            if v["title"] or v["phone"]:
                set_profile(ctx, user.username, title=v["title"], phone=v["phone"])
            return t("accounts_screen.added", user=user.username, role=t("role." + role))

        fields = [FormField("username", t("accounts_screen.col.username")),
                  FormField("name", t("accounts_screen.col.name")),
                  FormField("role", t("accounts_screen.col.role"), value=t("role.officer"),
                            placeholder=t("accounts_screen.role_hint")),
                  FormField("title", t("accounts_screen.col.title")),
                  FormField("phone", t("accounts_screen.col.phone"), placeholder="13987654321 / 0874-3123456"),
                  FormField("password", t("accounts_screen.field.password")),
                  FormField("password2", t("accounts_screen.field.password2")),
                  self._admin_field()]
        self.app.push_screen(PasswordForm(t("accounts_screen.add_title"), fields, save,
                                          intro=t("accounts_screen.roles_intro"),
                                          secret=("password", "password2", "admin_password")), self._done)

    def action_profile(self) -> None:
        from models.profiles import profile_of, set_profile
        name = self.selected()
        if name is None:
            return
        with self.app.ctx.store.read():
            prof = profile_of(name)

        def save(v: dict) -> str:
            set_profile(self.app.ctx, name, name=v["name"], title=v["title"], phone=v["phone"])
            return t("accounts_screen.profile_saved", user=name)

        fields = [FormField("name", t("accounts_screen.col.name"), value=prof.name if prof else ""),
                  FormField("title", t("accounts_screen.col.title"), value=prof.title if prof else ""),
                  FormField("phone", t("accounts_screen.col.phone"), value=prof.phone if prof else "",
                            placeholder="13987654321 / 0874-3123456")]
        self.app.push_screen(FormModal(t("accounts_screen.profile_title", user=name), fields, save,
                                       intro=t("accounts_screen.profile_intro")), self._done)

    def action_password(self) -> None:
        from models.accounts import change_password
        name = self.selected()
        if name is None:
            return
        if name == self.app.actor.username:
            self._status(t("accounts_screen.own_password"), error=True)
            return

        def save(v: dict) -> str:
            if v["password"] != v["password2"]:
                raise ValidationError({"password2": ("error.password_mismatch", {})})
            self._confirm_admin(v)
            change_password(self.app.ctx, name, v["password"])
            return t("accounts_screen.password_reset", user=name)

        fields = [FormField("password", t("accounts_screen.field.password")),
                  FormField("password2", t("accounts_screen.field.password2")),
                  self._admin_field()]
        self.app.push_screen(PasswordForm(t("accounts_screen.password_title", user=name), fields, save,
                                          intro=t("accounts_screen.password_intro"),
                                          secret=("password", "password2", "admin_password")), self._done)

    def action_disable(self) -> None:
        from models.accounts import set_disabled
        name = self.selected()
        u = getattr(self, "_users", {}).get(name)
        if u is None:
            return
        self._confirmed(t("accounts_screen.enable_title" if u.disabled else "accounts_screen.disable_title", user=name),
                        set_disabled, name, not u.disabled,
                        message=t("accounts_screen.enabled" if u.disabled else "accounts_screen.disabled", user=name))

    def action_unlock(self) -> None:
        from models.accounts import unlock_user
        name = self.selected()
        if name is not None:
            self._confirmed(t("accounts_screen.unlock_title", user=name), unlock_user, name,
                            message=t("accounts_screen.unlocked", user=name))

    def action_role(self) -> None:
        from models.accounts import set_role
        name = self.selected()
        u = getattr(self, "_users", {}).get(name)
        if u is None:
            return

        def save(v: dict) -> str:
            role = role_from_text(v["role"])
            self._confirm_admin(v)
            set_role(self.app.ctx, name, role)
            return t("accounts_screen.role_set", user=name, role=t("role." + role))

        fields = [FormField("role", t("accounts_screen.col.role"), value=t("role." + u.role),
                            placeholder=t("accounts_screen.role_hint")),
                  self._admin_field()]
        self.app.push_screen(PasswordForm(t("accounts_screen.role_title", user=name), fields, save,
                                          intro=t("accounts_screen.roles_intro"),
                                          secret=("admin_password",)), self._done)

    def action_back(self) -> None:
        self.app.pop_screen()


SCREEN = AccountsScreen
