"""Change your own password (command palette → "Change my password").

Needs the current password even on a remembered terminal; the change revokes
every remembered login of the account, including this terminal's, which is
then re-issued if this terminal had one.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from models import accounts
from models.errors import DomainError, ValidationError
from models.i18n import t
from screens._account_form import FieldsInOrder, clear_error, field_input, show_error
from tui.session import in_thread

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FIELDS = {"current_password": "pw-current", "new_password": "pw-new", "new_password2": "pw-new2"}


class PasswordScreen(ModalScreen, FieldsInOrder):
    CSS_PATH = [ASSETS / "tcss" / "password.tcss"]
    FIELD_ORDER = tuple(FIELDS.values())
    BINDINGS = [Binding("escape", "cancel", t("password.key.cancel"), id="password.cancel"),
                Binding("ctrl+s", "save", t("password.key.save"), id="password.save", priority=True)]

    def compose(self) -> ComposeResult:
        with Vertical(id="pw-box"):
            yield Static(Text(t("password.title", user=self.app.actor.username)), id="pw-title")
            with Grid(id="pw-form"):
                yield Label(t("password.current"))
                yield field_input("pw-current", password=True)
                yield Label(t("password.new"))
                yield field_input("pw-new", password=True,
                                  placeholder=t("setup.password_hint", min=self.app.settings.password_min_length))
                yield Label(t("password.again"))
                yield field_input("pw-new2", password=True)
            yield Static("", id="pw-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#pw-current", Input).focus()

    def submit_fields(self) -> None:
        self.run_worker(self.action_save(), exclusive=True, group="pw-save")

    async def action_save(self) -> None:
        app = self.app
        clear_error(self, FIELDS, "pw-error")
        values = {k: self.query_one(f"#{v}", Input).value for k, v in FIELDS.items()}
        try:
            if values["new_password"] != values["new_password2"]:
                raise ValidationError({"new_password2": ("error.password_mismatch", {})})
            await in_thread(app, accounts.change_password, app.ctx, None, values["new_password"],
                            values["current_password"])
        except DomainError as exc:
            if isinstance(exc, accounts.AuthenticationFailed):
                exc = ValidationError({"current_password": (exc.key, {})})
            show_error(self, exc, FIELDS, "pw-error")
            return
        if app.remembered_token:
            from screens.login import remember_login
            app.remembered_token = await remember_login(app, app.actor)
        app.notify(t("password.done"))
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


SCREEN = PasswordScreen
