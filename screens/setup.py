"""First run: the school and the first administrator, on a database nobody can log in to yet.

Shown whenever the database has no account, even if ``xueji-duty init`` already
wrote the school's settings (they are filled in here, still editable). Saving is
one transaction: a rejected password leaves neither the school nor the account
half-written.
"""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Input, Label, Static
from tui.widgets.ticks import TickBox as Checkbox   # [x]/[ ]: readable without colour

from models import secrets
from models.config import DEFAULT_TZ
from models.context import Actor, Context, origin_of_session
from models.errors import DomainError, ValidationError
from models.i18n import t
from models.school import is_initialised, merged_settings
from screens._account_form import FieldsInOrder, clear_error, field_input, keyring_line, show_error
from tui.palette import BindingCommands
from tui.session import in_thread

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FIELDS = {"school_name": "setup-school", "bureau": "setup-bureau", "timezone": "setup-timezone",
          "username": "setup-username", "display_name": "setup-name", "password": "setup-password",
          "password2": "setup-password2"}


class SetupScreen(FieldsInOrder):
    CSS_PATH = [ASSETS / "tcss" / "setup.tcss"]
    FIELD_ORDER = tuple(FIELDS.values())
    COMMANDS = {BindingCommands}
    BINDINGS = [Binding("ctrl+s", "save", t("setup.key.save"), id="setup.save", priority=True)]

    def compose(self) -> ComposeResult:
        s = self.app.settings
        known = is_initialised()
        with Vertical(id="setup-box"):
            yield Static(t("setup.title"), id="setup-title")
            yield Static(t("setup.intro_known" if known else "setup.intro"), id="setup-intro")
            with Grid(id="setup-form"):
                yield Label(t("setup.school"))
                yield field_input("setup-school", value=s.school_name if known else "")
                yield Label(t("setup.bureau"))
                yield field_input("setup-bureau", value=s.bureau)
                yield Label(t("setup.timezone"))
                yield field_input("setup-timezone", value=s.timezone or DEFAULT_TZ)
                yield Label(t("setup.username"))
                yield field_input("setup-username", placeholder=t("setup.username_hint"))
                yield Label(t("setup.display_name"))
                yield field_input("setup-name")
                yield Label(t("setup.password"))
                yield field_input("setup-password", password=True,
                                  placeholder=t("setup.password_hint", min=s.password_min_length))
                yield Label(t("setup.password2"))
                yield field_input("setup-password2", password=True)
            yield Checkbox(t("login.remember"), id="setup-remember", compact=True)
            yield Static("", id="setup-keyring")
            yield Static("", id="setup-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#setup-school" if not self.query_one("#setup-school", Input).value
                       else "#setup-username", Input).focus()
        self.run_worker(self._probe_keyring(), exclusive=True, group="setup-keyring")

    async def _probe_keyring(self) -> None:
        st = await secrets.arun(secrets.status)
        if not st.usable:
            box = self.query_one("#setup-remember", Checkbox)
            box.value = False
            box.display = False   # nothing to remember with: the line below says why
            self.query_one("#setup-keyring", Static).update(keyring_line(st.reason))

    def submit_fields(self) -> None:
        self.run_worker(self.action_save(), exclusive=True, group="setup-save")

    def _value(self, name: str) -> str:
        return self.query_one(f"#{FIELDS[name]}", Input).value

    async def action_save(self) -> None:
        from models.setup import first_run
        app = self.app
        clear_error(self, FIELDS, "setup-error")
        username = self._value("username").strip()
        try:
            if self._value("password") != self._value("password2"):
                raise ValidationError({"password2": ("error.password_mismatch", {})})
            if not self._value("school_name").strip():
                raise ValidationError({"school_name": ("error.required", {})})
            ctx = Context(store=app.store, actor=Actor(username=username or "-", role="admin",
                                                         origin=origin_of_session()),
                          clock=app.clock, settings=app.settings)
            self.query_one("#setup-error", Static).update(t("setup.saving"))
            await in_thread(app, first_run, ctx, self._value("school_name"), self._value("bureau"),
                            self._value("timezone"), username, self._value("display_name"),
                            self._value("password"))
        except DomainError as exc:
            if exc.key == "error.users_exist":   # another session finished the setup first
                app.notify(exc.message, severity="warning")
                await app._reset_to("login")
                return
            show_error(self, exc, FIELDS, "setup-error")
            return
        with app.store.read():
            app.settings = merged_settings(app.settings)
            app.env.settings = app.settings
        from models import accounts
        actor = accounts.actor_for(accounts.get_user(username), origin_of_session())
        token = None
        if self.query_one("#setup-remember", Checkbox).value:
            from screens.login import remember_login
            token = await remember_login(app, actor)
        await app.login_as(actor, token)


SCREEN = SetupScreen
