"""Command-palette entries for a screen's own bindings, so ctrl+p finds every key the footer shows.

Textual's palette lists system commands only; a screen that sets
``COMMANDS = {BindingCommands}`` adds one entry per binding it declares.
"""
from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class BindingCommands(Provider):
    def _entries(self):
        screen = self.screen
        seen = set()
        for binding in getattr(type(screen), "BINDINGS", []):
            if not hasattr(binding, "action") or binding.action in seen or not binding.description:
                continue
            state = screen.check_action(binding.action, ())
            if state is False:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            reason = screen.why_not(binding.action, ()) if not state and hasattr(screen, "why_not") else None
            if reason:      # dimmed in the footer (a role the officer lacks): chosen, it says why
                yield binding.description, key, partial(self.app.notify, reason, severity="warning")
                continue
            yield binding.description, key, partial(screen.run_action, binding.action)

    async def discover(self) -> Hits:
        for name, key, run in self._entries():
            yield DiscoveryHit(name, run, help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, key, run in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=key)


class ScreenCommands(Provider):
    """The screens of the board's ``g`` menu (statistics, history, accounts, backups …)."""

    def _entries(self):
        from models.i18n import t
        from screens.goto import DESTINATIONS
        for key, name, msg in DESTINATIONS:
            yield t(msg), t("goto.palette_help", key=key), partial(self.app.open_screen, name)

    async def discover(self) -> Hits:
        for name, key, run in self._entries():
            yield DiscoveryHit(name, run, help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, key, run in self._entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=key)
