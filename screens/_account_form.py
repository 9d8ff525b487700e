"""Shared pieces of the setup, login, unlock and password screens: labelled one-line fields,
errors shown beside the field they concern, and the keyring's one-line notice."""
from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from models.errors import DomainError, ValidationError
from models.i18n import t
from tui.widgets.safe_input import SafeInput


def field_input(id: str, *, password: bool = False, value: str = "", placeholder: str = "") -> Input:
    """A visible field (user name, school, display name …) drops pasted control characters like every
    other input (``SafeInput``); a password is never shown and is taken exactly as typed."""
    cls = Input if password else SafeInput
    return cls(value=value, id=id, password=password, compact=True, placeholder=placeholder)


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
    screen.query_one(f"#{target}", Static).update(Text(message))   # may name what was typed


def clear_error(screen, fields: dict[str, str], target: str) -> None:
    for input_id in fields.values():
        screen.query_one(f"#{input_id}", Input).remove_class("-invalid")
    screen.query_one(f"#{target}", Static).update("")


def keyring_line(reason: str) -> str:
    return t("keyring.no_secure", reason=t(reason))


async def keys_delivered(screen) -> None:
    """Wait until every widget of ``screen`` has handled the keys already handed to it, and the
    messages they caused.

    A save bound with priority runs as soon as the app reads its key: a ctrl+s read right after
    ``u⇥李老师⇥凌晨发现`` ran before the answer widget had taken its ``u``, and the form was
    refused as unanswered. It awaits this first (the app reads no further key meanwhile); the
    wait is for the work itself, not for a length of time (``tui.type_ahead.settle``)."""
    from tui.type_ahead import settle
    await settle(screen)


class FieldsInOrder(Screen):
    """Enter moves to the next field at once, and on the last field submits (``submit_fields``).

    A priority binding rather than ``Input.Submitted``: keys that arrive in one read (typed during
    a lag of an SSH link, or pasted) are handed to whichever field has focus when the app reads
    them, and focus moved by a Submitted message came too late: the password typed after the user
    name landed in the user-name field, in clear text. (Tab does the same app-wide:
    ``tui.type_ahead``.)

    ``FIELD_ORDER`` names the fields (widget ids); a form whose fields depend on its data
    overrides ``field_order()``. Fields not on screen (hidden rows) are skipped. Enter is taken
    only on the kinds of ``ENTER_MOVES`` (one-line inputs): a TextArea keeps Enter for its newline.
    ``LAST_SUBMITS = False`` makes Enter on the last field stay there (a form recorded with ctrl+s).
    """

    FIELD_ORDER: tuple[str, ...] = ()
    LAST_SUBMITS = True
    BINDINGS = [Binding("enter", "next_field", show=False, priority=True)]

    def field_order(self) -> list[str]:
        return list(self.FIELD_ORDER)

    def enter_moves(self, widget) -> bool:
        return isinstance(widget, Input)

    def _shown_fields(self) -> list:
        out = []
        for name in self.field_order():
            found = self.query(f"#{name}")
            if not found:
                continue
            widget = found.first()
            if widget.focusable and all(node.display for node in widget.ancestors_with_self
                                        if node is not self and node is not self.app):
                out.append(widget)
        return out

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "next_field":
            focused = self.focused
            return (focused is not None and self.enter_moves(focused)
                    and focused.id in self.field_order())
        return super().check_action(action, parameters)

    async def action_next_field(self) -> None:
        self.move_to_next_field()
        if self._submit_now:
            self._submit_now = False
            await keys_delivered(self)
            self.submit_fields()

    _submit_now = False

    def move_to_next_field(self) -> None:
        fields = self._shown_fields()
        focused = self.focused
        index = fields.index(focused) if focused in fields else -1
        if 0 <= index < len(fields) - 1:
            self.set_focus(fields[index + 1])
            fields[index + 1].scroll_visible(animate=False)
        elif self.LAST_SUBMITS:
            self._submit_now = True

    def submit_fields(self) -> None:
        raise NotImplementedError
