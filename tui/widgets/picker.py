"""Type-to-narrow picker: an input with a short list of matches under it.

For long lists (categories and their subcategories) a drop-down is slow from
the keyboard; typing a few characters of the Chinese or English name and
pressing enter is fast. Up/down move through the matches, enter picks the
highlighted one; the list shows only while the input has focus.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.widgets.safe_input import SafeInput

Choice = tuple[Any, str, Text | str]   # value, text shown in the input once picked, label in the list


class PickerInput(SafeInput):
    BINDINGS = [Binding("down", "picker_move(1)", show=False), Binding("up", "picker_move(-1)", show=False)]

    def action_picker_move(self, step: int) -> None:
        self.parent.move(step)  # type: ignore[union-attr]


class PickerList(OptionList, can_focus=False):
    """Not focusable: tab goes from field to field, the list follows the input."""


class Picker(Vertical):
    DEFAULT_CSS = """
    Picker { height: auto; width: 1fr; }
    Picker > PickerList { display: none; height: auto; max-height: 6; border: none; padding: 0; }
    Picker.-open > PickerList { display: block; }
    """

    class Picked(Message):
        def __init__(self, picker: "Picker", value: Any) -> None:
            super().__init__()
            self.picker = picker
            self.value = value

    class Edited(Message):
        def __init__(self, picker: "Picker") -> None:
            super().__init__()
            self.picker = picker

    def __init__(self, source: Callable[[str], Iterable[Choice]], *, placeholder: str = "",
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.placeholder = placeholder
        self.value: Any = None
        self._shown = ""          # the input text that belongs to the current value
        self._choices: list[Choice] = []
        self._quiet = False

    def compose(self) -> ComposeResult:
        yield PickerInput(placeholder=self.placeholder, id=f"{self.id}-input" if self.id else None)
        yield PickerList()

    @property
    def input(self) -> PickerInput:
        return self.query_one(PickerInput)

    @property
    def text(self) -> str:
        return self.input.value

    def refill(self) -> None:
        text = "" if self.value is not None and self.text == self._shown else self.text
        self._choices = list(self.source(text))
        lst = self.query_one(PickerList)
        lst.set_options([Option(label if isinstance(label, Text) else Text(label)) for _, _, label in self._choices])
        if self._choices:
            index = next((i for i, c in enumerate(self._choices) if c[0] == self.value), 0)
            lst.highlighted = index

    def choice(self) -> Any:
        """What the field holds: the value picked; else the one choice whose label the typed
        text is, spaces around it aside (a stray space after 未定 is still 未定); else the text
        as typed, for the domain to read or refuse with its own message."""
        if self.value is not None:
            return self.value
        typed = self.text.strip()
        exact = [value for value, shown, _ in self.source(typed) if shown.strip() == typed]
        return exact[0] if len(exact) == 1 else self.text

    def set_value(self, value: Any, shown: str) -> None:
        """Set programmatically (a restored draft, a pick elsewhere): no ``Edited`` message."""
        self.value = value
        self._shown = shown
        self._quiet = self.input.value != shown
        self.input.value = shown
        self.input.cursor_position = len(shown)

    def set_text(self, text: str) -> None:
        """Restore free text that was never picked."""
        self.value = None
        self._shown = ""
        self._quiet = self.input.value != text
        self.input.value = text

    def move(self, step: int) -> None:
        if not self.has_class("-open"):
            self.add_class("-open")
            self.refill()
            return
        lst = self.query_one(PickerList)
        if lst.option_count:
            lst.highlighted = ((lst.highlighted or 0) + step) % lst.option_count

    def pick_highlighted(self) -> bool:
        lst = self.query_one(PickerList)
        if not self.has_class("-open") or lst.highlighted is None or not self._choices:
            return False
        value, shown, _ = self._choices[lst.highlighted]
        already = self.value == value and self.text == shown
        self.set_value(value, shown)
        self.remove_class("-open")
        self.post_message(self.Picked(self, value))
        return not already

    def on_input_changed(self, event: SafeInput.Changed) -> None:
        event.stop()
        if self._quiet:
            self._quiet = False
            return
        if self.value is not None and event.value != self._shown:
            self.value = None
            self._shown = ""
        if self.input.has_focus:
            self.add_class("-open")
            self.refill()
        self.post_message(self.Edited(self))

    def on_input_submitted(self, event: SafeInput.Submitted) -> None:
        # Enter picks the highlighted match; with nothing to pick it bubbles up (the form saves).
        if self.pick_highlighted():
            event.stop()

    def on_descendant_focus(self, event) -> None:
        self.add_class("-open")
        self.refill()

    def on_descendant_blur(self, event) -> None:
        self.remove_class("-open")
