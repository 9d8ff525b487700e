"""The board's ``g`` menu: every screen that has no key of its own on the board.

One letter opens each (shown in the list; ``?`` lists them too); the same destinations are in the
command palette (``tui.palette.ScreenCommands``). A screen that needs a role says so with its
``REQUIRED_ROLE``: for an officer without it the line is dimmed and marked with the role, and the
letter pressed says so (``tui.role_keys``); ``app.open_screen`` refuses it with the role's name.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from models.i18n import t
from tui.role_keys import RoleKeys

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "goto.tcss"

# (key, screen module, message key of its name)
DESTINATIONS = (
    ("s", "stats", "goto.stats"),
    ("h", "history", "goto.history"),
    ("d", "drills", "goto.drills"),
    ("b", "backup", "goto.backup"),
    ("u", "accounts", "goto.accounts"),
    ("r", "registry", "goto.registry"),
    ("l", "ledger", "goto.ledger"),
    ("p", "profile", "goto.profile"),
)


class GotoScreen(RoleKeys, ModalScreen):
    CSS_PATH = TCSS
    GUIDE_SECTION = "daily"
    # The letters are in the list itself: in the footer too, eight of them ran past 80 columns and
    # hid esc. The footer says how to leave; ? lists every letter.
    BINDINGS = [Binding(key, f"go('{name}')", t(msg), id=f"goto.{name}", show=False)
                for key, name, msg in DESTINATIONS] + [
        Binding("escape", "close", t("goto.close"), id="goto.close"),
        Binding("question_mark", "app.help", t("board.key.help"), id="goto.help"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="goto-box"):
            yield Static(Text(t("goto.title"), style="bold"), id="goto-title")
            yield OptionList(*[Option(self._prompt(key, name, msg), id=name) for key, name, msg in DESTINATIONS],
                             id="goto-list")
        yield Footer(compact=True, show_command_palette=False)

    def role_needed(self, action: str, parameters=()) -> str | None:
        """A destination's role is its screen's ``REQUIRED_ROLE``: without it the letter is dimmed
        in the list and in ? help, and pressed it says the role (tui/role_keys)."""
        if action != "go" or not parameters:
            return None
        return getattr(self.app.screen_class(parameters[0]), "REQUIRED_ROLE", None)

    def _prompt(self, key: str, name: str, msg: str) -> Text:
        needed = self.lacks_role("go", (name,))
        if needed:
            return Text(f"{key}  " + t("help.needs_role", action=t(msg), role=t("role." + needed)), style="dim")
        return Text(f"{key}  {t(msg)}")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_go(event.option.id)

    def action_go(self, name: str) -> None:
        self.dismiss()
        self.app.open_screen(name)

    def action_close(self) -> None:
        self.dismiss()


SCREEN = GotoScreen
