"""The Textual application: owns the store, the clock and the acting user; screens do the rest.

Screens are opened by name and imported lazily: ``open_screen("contacts")``
imports ``screens/contacts.py`` and pushes its ``SCREEN`` class. A feature
adds its screen module without editing this file, and start-up stays cheap.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from models.clock import Clock
from models.context import Actor, Context
from models.i18n import t
from tui.env import Env

ASSETS = Path(__file__).resolve().parent.parent / "assets"



class DutyApp(App):
    TITLE = "学籍应急值守台"
    CSS_PATH = [ASSETS / "tcss" / "app.tcss"]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [Binding("ctrl+q", "quit", t("app.quit"), id="quit", priority=True)]

    # True while the session is idle-locked: screens hide names, titles and numbers.
    locked: reactive[bool] = reactive(False)

    def __init__(self, env: Env, clock: Clock | None = None, actor: Actor | None = None) -> None:
        """``actor`` given means already logged in (tests and scripted runs start at the board)."""
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
        try:
            module = importlib.import_module(f"screens.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"screens.{name}":
                return None
            raise
        return getattr(module, "SCREEN", None)

    def open_screen(self, name: str, *args: Any, **kwargs: Any) -> bool:
        """Push a screen by name; say so, rather than crash, if the feature is not there."""
        cls = self.screen_class(name)
        if cls is None:
            self.notify(t("app.not_available"), severity="warning")
            return False
        self.push_screen(cls(*args, **kwargs))
        return True

    def on_mount(self) -> None:
        from tui import terminal
        terminal.install(self)   # exit cleanly when an SSH connection drops
        self.open_screen("board")
        from tui import safety
        safety.start(self)  # start-up integrity check and the daily backup, in a thread


def run_app(env: Env) -> int:
    app = DutyApp(env)
    app.run(mouse=not getattr(env.args, "no_mouse", False))
    return app.return_code or 0
