"""Shared pieces of the setup, login, unlock and password screens: labelled one-line fields,
errors shown beside the field they concern, and the keyring's one-line notice."""
from __future__ import annotations

from textual.binding import Binding
from textual.screen import Screen
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


class FieldsInOrder(Screen):
    """Enter moves to the next field at once, and on the last field submits (``submit_fields``).

    A priority binding rather than ``Input.Submitted``: keys that arrive in one read (typed during
    a lag of an SSH link, or pasted) are handed to whichever field has focus when the app reads
    them, and focus moved by a Submitted message came too late: the password typed after the user
    name landed in the user-name field, in clear text.
    """

    FIELD_ORDER: tuple[str, ...] = ()
    BINDINGS = [Binding("enter", "next_field", show=False, priority=True)]

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "next_field":
            focused = self.focused
            return isinstance(focused, Input) and focused.id in self.FIELD_ORDER
        return super().check_action(action, parameters)

    def action_next_field(self) -> None:
        index = self.FIELD_ORDER.index(self.focused.id)
        if index < len(self.FIELD_ORDER) - 1:
            self.set_focus(self.query_one(f"#{self.FIELD_ORDER[index + 1]}", Input))
        else:
            self.submit_fields()

    def submit_fields(self) -> None:
        raise NotImplementedError
