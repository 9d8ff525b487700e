"""Inputs that never hold terminal control characters.

Textual shows an Input's value as typed, which is what we want for markup
(``[bold]`` stays literal), but a pasted ESC sequence would be written to the
terminal as it is. These widgets drop control characters (keeping newlines and
tabs in multi-line text) however the text arrives: typed, pasted or restored.
"""
from __future__ import annotations

from textual.widgets import Input, TextArea

from models.text import strip_controls


def clean_control(text: str, multiline: bool = False) -> str:
    """The same character classes as the services' ``models.text.strip_controls``; a single-line
    input also drops newlines and tabs."""
    text = strip_controls(text)
    return text if multiline else text.replace("\n", "").replace("\t", "")


class SafeInput(Input):
    def validate_value(self, value: str) -> str:
        return clean_control(value)


class SafeTextArea(TextArea):
    def load_text(self, text: str) -> None:
        super().load_text(clean_control(text, multiline=True))

    def _replace_via_keyboard(self, insert: str, start, end):
        return super()._replace_via_keyboard(clean_control(insert, multiline=True), start, end)
