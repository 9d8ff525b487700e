"""The login screen: user name and password, checked against the shared database.

On mount it asks the OS keyring (on its own thread, at most 3 s) for this terminal's
remembered login; a valid one goes straight to the board. Without a secure keyring
it says so in one line and the password is the way in; the form is usable the
whole time, even while a hung keyring is being waited for.
"""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from rich.text import Text
from textual.content import Content
from textual.widgets import Footer, Input, Label, Static
from tui.widgets.ticks import TickBox as Checkbox   # [x]/[ ]: readable without colour

from models import accounts, secrets
from models.context import Context
from models.errors import DomainError
from models.i18n import t
from screens._account_form import FieldsInOrder, clear_error, field_input, keyring_line, show_error
from tui.session import anonymous, in_thread

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FIELDS = {"username": "login-username", "password": "login-password"}
KEYRING_DELAY_S = 0.25


def _anon_ctx(app) -> Context:
    return Context(store=app.store, actor=anonymous(), clock=app.clock, settings=app.settings)


async def remember_login(app, actor) -> str | None:
    """Issue a token, put it in the keyring; if the keyring refuses, revoke it and say so in one line."""
    import platform     # here: its import compiles regexes the login screen's first paint can do without
    ctx = Context(store=app.store, actor=actor, clock=app.clock, settings=app.settings)
    token = accounts.issue_token(ctx, actor.username, f"{platform.node()} · {actor.origin}")
    try:
        await secrets.arun(secrets.remember, app.store.identity, token)
    except secrets.KeyringUnavailable as exc:
        accounts.revoke_token(ctx, token)
        app.notify(t("keyring.cannot_remember", reason=t(exc.reason)), severity="warning", timeout=10)
        return None
    return token


class LoginScreen(FieldsInOrder):
    CSS_PATH = [ASSETS / "tcss" / "login.tcss"]
    FIELD_ORDER = ("login-username", "login-password")

    def compose(self) -> ComposeResult:
        s = self.app.settings
        with Vertical(id="login-box"):
            yield Static(t("login.title"), id="login-title")
            yield Static(Content(s.school_name or ""), id="login-school")   # stored text: never markup
            with Grid(id="login-form"):
                yield Label(t("login.username"))
                yield field_input("login-username", value=getattr(self.app.env.args, "user", None) or "")
                yield Label(t("login.password"))
                yield field_input("login-password", password=True)
            yield Checkbox(t("login.remember"), id="login-remember", compact=True)
            yield Static(t("login.checking"), id="login-keyring")
            yield Static("", id="login-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        user = self.query_one("#login-username", Input)
        (self.query_one("#login-password", Input) if user.value else user).focus()
        # After the first paint: loading the keyring and its backends takes ~100 ms of the
        # interpreter, which on a thread would still hold up the form's first frame (issue 4).
        self.set_timer(KEYRING_DELAY_S, lambda: self.run_worker(
            self._try_remembered(), exclusive=True, group="login-keyring"))

    async def _try_remembered(self) -> None:
        app = self.app
        line = self.query_one("#login-keyring", Static)
        st = await secrets.arun(secrets.status)
        if not st.usable:
            self._no_keyring(st.reason)
            return
        try:
            token = await secrets.arun(secrets.recall, app.store.identity)
        except secrets.KeyringUnavailable as exc:
            self._no_keyring(exc.reason)
            return
        line.update("")
        if not token or app.logged_in:
            return
        try:
            actor = accounts.login_with_token(_anon_ctx(app), token)
        except DomainError as exc:
            self.query_one("#login-error", Static).update(Text(exc.message))
            return
        if actor is not None:
            await app.login_as(actor, token)

    def _no_keyring(self, reason: str) -> None:
        box = self.query_one("#login-remember", Checkbox)
        box.value = False
        box.display = False   # nothing to remember with: the line below says why
        self.query_one("#login-keyring", Static).update(keyring_line(reason))

    def submit_fields(self) -> None:
        self.run_worker(self.submit(), exclusive=True, group="login-submit")

    async def submit(self) -> None:
        app = self.app
        clear_error(self, FIELDS, "login-error")
        name = self.query_one("#login-username", Input).value.strip()
        password_box = self.query_one("#login-password", Input)
        password = password_box.value
        password_box.value = ""
        if not name:
            self.query_one("#login-username", Input).focus()
            return
        try:
            actor = await in_thread(app, accounts.authenticate, _anon_ctx(app), name, password, "login")
        except DomainError as exc:
            show_error(self, exc, FIELDS, "login-error")
            password_box.focus()
            return
        token = None
        if self.query_one("#login-remember", Checkbox).value:
            token = await remember_login(app, actor)
        await app.login_as(actor, token)


SCREEN = LoginScreen
