"""The Textual application: owns the store, the clock and the acting user; screens do the rest.

Screens are looked up by name in ``SCREENS_BY_NAME`` and imported lazily, so
start-up stays cheap and a feature adds its screen without editing others.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding

from models.clock import Clock
from models.context import Actor, Context
from models.i18n import t
from tui.env import Env

ASSETS = Path(__file__).resolve().parent.parent / "assets"

# name -> "module:Class". Later issues add their screens here.
SCREENS_BY_NAME: dict[str, str] = {
    "board": "screens.board:BoardScreen",
}


class DutyApp(App):
    TITLE = "学籍应急值守台"
    CSS_PATH = [ASSETS / "tcss" / "app.tcss"]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [Binding("ctrl+q", "quit", t("app.quit"), id="quit", priority=True)]

    def __init__(self, env: Env, clock: Clock | None = None, actor: Actor | None = None) -> None:
        super().__init__()
        self.env = env
        self.clock = clock or env.clock
        env.clock = self.clock
        self.store = env.store()
        self.settings = env.settings
        self.actor = actor or env.resolve_actor(write=False)
        self.title = t("app.title")

    @property
    def ctx(self) -> Context:
        return Context(store=self.store, actor=self.actor, clock=self.clock, settings=self.settings)

    def screen_class(self, name: str):
        target = SCREENS_BY_NAME.get(name)
        if not target:
            return None
        module, _, cls = target.partition(":")
        try:
            return getattr(importlib.import_module(module), cls)
        except (ImportError, AttributeError):
            return None

    def open_screen(self, name: str, *args: Any, **kwargs: Any) -> bool:
        """Push a screen by name; say so, rather than crash, if the feature is not there."""
        cls = self.screen_class(name)
        if cls is None:
            self.notify(t("app.not_available"), severity="warning")
            return False
        self.push_screen(cls(*args, **kwargs))
        return True

    def on_mount(self) -> None:
        self.open_screen("board")


def run_app(env: Env) -> int:
    app = DutyApp(env)
    app.run(mouse=not getattr(env.args, "no_mouse", False))
    return app.return_code or 0
