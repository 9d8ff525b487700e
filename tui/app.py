"""The Textual application: owns the store, the clock and the acting user; screens do the rest.

Screens are opened by name and imported lazily: ``open_screen("contacts")``
imports ``screens/contacts.py`` and pushes its ``SCREEN`` class. A feature
adds its screen module without editing this file, and start-up stays cheap.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive

from models.clock import Clock
from models.context import Actor, Context
from models.errors import PermissionDenied
from models.i18n import t
from models.roles import can
from tui import safe_text
from tui.env import Env
from tui.role_keys import RefusedKeys
from tui.session import SessionMixin
from tui.type_ahead import KeysInOrder, TypeAheadFocus
from tui.textual_strings import TextualStrings, palette_binding

safe_text.install()   # stored text on the terminal: shown escaped, never raw (tui/safe_text.py)
from tui.widgets.cell_table import install_left_crop  # noqa: E402
install_left_crop()   # a changed cell is written from its own column, not from the line's start

ASSETS = Path(__file__).resolve().parent.parent / "assets"



class DutyApp(TextualStrings, TypeAheadFocus, KeysInOrder, SessionMixin, RefusedKeys, App):
    TITLE = "学籍应急值守台"
    CSS_PATH = [ASSETS / "tcss" / "app.tcss"]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [Binding("ctrl+q", "quit", t("app.quit"), id="quit", priority=True),
                Binding("ctrl+l", "lock", t("session.key.lock"), id="lock", show=False),
                # ? on every screen (a text field takes it as a character): its keys and the guide's section
                Binding("question_mark", "help", t("board.key.help"), id="help", show=False),
                *TypeAheadFocus.TYPE_AHEAD_BINDINGS,
                palette_binding(App)]

    # True while the session is idle-locked: screens hide names, titles and numbers.
    locked: reactive[bool] = reactive(False)

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None,
               markup: bool = True) -> None:
        """Every notification as plain text: messages carry stored text (a title, a path, a name),
        and a title such as ``[/x]`` read as markup would stop the app (issue 13)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)
        # Notices get two rows above the footer (app.tcss): the newest goes on top, in view.
        self.set_timer(0.05, self._newest_notice_in_view)

    def _newest_notice_in_view(self) -> None:
        from textual.widgets._toast import Toast, ToastRack
        try:
            rack = self.screen.get_child_by_type(ToastRack)
        except Exception:      # a screen without notices
            return
        holders = [h for h in rack.children if h.query(Toast)]
        newest = sorted(holders, key=lambda h: -h.query_one(Toast)._notification.raised_at)
        if holders != newest:
            rack.sort_children(key=lambda h: newest.index(h) if h in newest else len(newest))

    def _set_pointer_shape(self, shape: str) -> None:
        """No OSC 22 (Kitty pointer shapes): the app writes no OSC at all, so nothing that looks like
        a title, hyperlink or clipboard write ever comes from it (issue 13)."""

    def __init__(self, env: Env, clock: Clock | None = None, actor: Actor | None = None) -> None:
        """``actor`` given means already logged in (tests and scripted runs start at the board);
        without it the app starts on setup, a remembered login or the login screen (tui/session.py)."""
        super().__init__()
        self.env = env
        self.clock = clock or env.clock
        env.clock = self.clock
        self.store = env.store()
        self.settings = env.settings
        self._init_session(actor)
        self.started = False         # Textual's Ready seen (on_ready)
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
        needed = getattr(cls, "REQUIRED_ROLE", None)
        if needed and not can(self.actor.role, needed):
            # The domain refuses the writes anyway; this spares the officer a form they cannot save.
            self.notify(PermissionDenied(None, needed=t("role." + needed),
                                         have=t("role." + self.actor.role)).message, severity="warning")
            return False
        self.push_screen(cls(*args, **kwargs))
        return True

    def on_mount(self) -> None:
        from tui import terminal
        terminal.install(self)   # exit cleanly when an SSH connection drops
        self.start_session()     # setup, login or the board
        from tui import safety
        safety.start(self)  # start-up integrity check and the daily backup, in a thread
        from tui import county_sender
        county_sender.start(self)  # an enrolled database: the county link's sender thread (issue 19)

    def on_unmount(self) -> None:
        from tui import county_sender
        county_sender.stop(self)

    def on_ready(self) -> None:
        """Textual's start-up batch is over: the collector paused by the command's start resumes,
        and a first screen that waited for this (the board's rows) goes on."""
        from tui import startup
        startup.resume()
        self.started = True
        for screen in self.screen_stack:
            hook = getattr(screen, "app_started", None)
            if callable(hook):
                hook()

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, (events.InputEvent, events.Paste)) and not event.is_forwarded
                and self.intercept_input(event)):
            return   # locked: the key opened the unlock dialog and does nothing else
        await super().on_event(event)

    def action_help(self) -> None:
        if type(self.screen).__name__ != "HelpScreen":
            self.open_screen("help", self.screen)

    async def action_quit(self) -> None:
        if self.locked:
            self.notify(t("error.locked_session"), severity="warning")
            return
        await super().action_quit()

    def get_system_commands(self, screen):
        yield from self.translated_system_commands(super().get_system_commands(screen))
        if self.logged_in and not self.locked:
            yield SystemCommand(t("session.cmd.lock"), t("session.cmd.lock_help"), self.action_lock)
            yield SystemCommand(t("session.cmd.password"), t("session.cmd.password_help"),
                                self.action_change_password)
            yield SystemCommand(t("session.cmd.logout"), t("session.cmd.logout_help"), self.action_logout)


def run_app(env: Env) -> int:
    app = DutyApp(env)
    try:
        app.run(mouse=not getattr(env.args, "no_mouse", False))
    finally:
        presence = getattr(app, "_presence", None)
        if presence is not None:
            presence.leave()      # a clean exit: colleagues stop seeing this session at once
    return app.return_code or 0
