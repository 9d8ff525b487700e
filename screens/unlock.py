"""The unlock dialog over an idle-locked board: the locked user's password, or log out.

The board stays visible underneath with codes, grades and countdowns but no titles,
names or numbers (each screen hides them while ``app.locked``). Escape leaves the
session locked; ctrl+o logs out so a colleague can log in as themselves.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from models import accounts
from models.context import Context
from models.errors import DomainError
from models.i18n import t
from screens._account_form import field_input
from tui.session import in_thread

ASSETS = Path(__file__).resolve().parent.parent / "assets"


class UnlockScreen(ModalScreen):
    CSS_PATH = [ASSETS / "tcss" / "unlock.tcss"]
    BINDINGS = [
        Binding("escape", "stay_locked", t("unlock.key.cancel"), id="unlock.cancel"),
        Binding("ctrl+o", "switch_user", t("unlock.key.switch"), id="unlock.switch"),
    ]

    def compose(self) -> ComposeResult:
        app = self.app
        with Vertical(id="unlock-box"):
            yield Static(t("unlock.title"), id="unlock-title")
            yield Static(Text(t("unlock.prompt", user=app.actor.username)), id="unlock-prompt")
            yield field_input("unlock-password", password=True)
            yield Static("", id="unlock-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#unlock-password", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.run_worker(self.submit(), exclusive=True, group="unlock-submit")

    async def submit(self) -> None:
        app = self.app
        box = self.query_one("#unlock-password", Input)
        password = box.value
        box.value = ""
        ctx = Context(store=app.store, actor=app.actor, clock=app.clock, settings=app.settings)
        try:
            await in_thread(app, accounts.authenticate, ctx, app.actor.username, password, "unlock")
        except DomainError as exc:
            self.query_one("#unlock-error", Static).update(Text(exc.message))
            return
        app.unlocked()
        self.dismiss(True)

    def action_stay_locked(self) -> None:
        self.dismiss(False)

    async def action_switch_user(self) -> None:
        await self.app.logout()


SCREEN = UnlockScreen
