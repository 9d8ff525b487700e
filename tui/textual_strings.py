"""Textual's own words through the catalogue (issue 15 item 5): the command palette's placeholder,
its key in the footer (``^p 命令``), the system commands, the Ctrl+C notice and the screenshot
messages. Textual writes these in English; an officer reading a Chinese screen should not meet them.
"""
from __future__ import annotations

import re

from textual.app import SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette

from models.i18n import t

# Textual's system commands by their English title: (title key, help key).
SYSTEM_COMMANDS = {
    "Theme": ("textual.cmd.theme", "textual.cmd.theme_help"),
    "Quit": ("textual.cmd.quit", "textual.cmd.quit_help"),
    "Keys": ("textual.cmd.keys", "textual.cmd.keys_help"),
    "Minimize": ("textual.cmd.minimize", "textual.cmd.minimize_help"),
    "Maximize": ("textual.cmd.maximize", "textual.cmd.maximize_help"),
    "Screenshot": ("textual.cmd.screenshot", "textual.cmd.screenshot_help"),
}
_SAVED_TO = re.compile(r"^Saved screenshot to \[\$text-success\](?P<path>.*)$")


def palette_binding(app_cls) -> Binding:
    """The palette's own binding, so Textual adds none with the English word ``palette``."""
    return Binding(app_cls.COMMAND_PALETTE_BINDING, "command_palette", t("textual.palette"), show=False,
                   key_display=app_cls.COMMAND_PALETTE_DISPLAY, priority=True,
                   tooltip=t("textual.palette_tooltip"), id="command_palette")


class TextualStrings:
    """Mixed into the app before ``App``."""

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder=t("textual.palette_placeholder")))

    def search_themes(self) -> None:
        from textual.theme import ThemeProvider
        self.push_screen(CommandPalette(providers=[ThemeProvider], placeholder=t("textual.theme_placeholder")))

    def translated_system_commands(self, commands):
        for cmd in commands:
            keys = SYSTEM_COMMANDS.get(cmd.title)
            if keys is None:
                yield cmd
                continue
            title, help_ = keys
            if cmd.title == "Keys" and "Hide" in (cmd.help or ""):
                help_ = "textual.cmd.keys_hide_help"
            yield SystemCommand(t(title), t(help_), cmd.callback, cmd.discover)

    def action_help_quit(self) -> None:
        """Ctrl+C does not quit (it copies in a field): say how to, in the officer's language."""
        self.notify(t("textual.ctrl_c_quit"), title=t("textual.ctrl_c_title"))

    def notify(self, message, *, title: str = "", severity="information", timeout=None, markup: bool = True):
        """Textual's screenshot notices, translated; every other notice as it comes."""
        if title == "Screenshot":
            title = t("textual.screenshot")
            if message == "Saved screenshot":
                message = t("textual.screenshot_saved")
            elif message == "Failed to save screenshot":
                message = t("textual.screenshot_failed")
            else:
                found = _SAVED_TO.match(str(message))
                if found:
                    message = t("textual.screenshot_saved_to", path=found.group("path").strip("'\""))
                    markup = False
        return super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
