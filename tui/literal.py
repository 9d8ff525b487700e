"""Stored or typed text handed to a Textual widget, shown as it is written (issue 13).

Textual reads a ``str`` given to ``Static``, ``Label``, ``.update``, a ``Select`` or an
``OptionList`` as markup: a contact named ``[/x]`` raises MarkupError when the list opens and
stops the app, ``[red]…`` restyles it, ``[@click=app.quit]`` makes a click quit. A Rich ``Text``
is drawn literally (CONTRIBUTING: text typed by users is shown literally).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from rich.text import Text

V = TypeVar("V")


def literal(text: Any, style: str = "") -> Text:
    """``text`` (a ``Text`` kept as it is) as literal text in ``style``."""
    return text if isinstance(text, Text) else Text("" if text is None else str(text), style=style)


def choices(options: Iterable[tuple[Any, V]]) -> list[tuple[Text, V]]:
    """``Select`` options whose labels are shown literally (the list and the closed control)."""
    return [(literal(label), value) for label, value in options]
