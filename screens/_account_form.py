"""Shared pieces of the setup, login, unlock and password screens: labelled one-line fields,
errors shown beside the field they concern, and the keyring's one-line notice."""
from __future__ import annotations

from textual.widgets import Input, Static

from models.errors import DomainError, ValidationError
from models.i18n import t


def field_input(id: str, *, password: bool = False, value: str = "", placeholder: str = "") -> Input:
    return Input(value=value, id=id, password=password, compact=True, placeholder=placeholder)


def show_error(screen, exc: Exception, fields: dict[str, str], target: str) -> None:
    """Mark the inputs named by a ``ValidationError`` and put its message in ``target``."""
    for input_id in fields.values():
        screen.query_one(f"#{input_id}", Input).remove_class("-invalid")
    message = exc.message if isinstance(exc, DomainError) else str(exc)
    if isinstance(exc, ValidationError):
        first = None
        for name in exc.fields:
            input_id = fields.get(name)
            if input_id:
                widget = screen.query_one(f"#{input_id}", Input)
                widget.add_class("-invalid")
                first = first or widget
        if first is not None:
            first.focus()
    screen.query_one(f"#{target}", Static).update(message)


def clear_error(screen, fields: dict[str, str], target: str) -> None:
    for input_id in fields.values():
        screen.query_one(f"#{input_id}", Input).remove_class("-invalid")
    screen.query_one(f"#{target}", Static).update("")


def keyring_line(reason: str) -> str:
    return t("keyring.no_secure", reason=t(reason))
