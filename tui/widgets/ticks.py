"""Ticks that read the same without colour: ``[x]`` ticked, ``[ ]`` not, then the words.

Textual's Checkbox and SelectionList draw ``▐X▌`` in both states and change only the X's
colour: on a monochrome terminal, with NO_COLOR, or to a tired eye, an unticked box looks
ticked. These draw the state as a character (ASCII, so a CJK terminal's ambiguous-width
setting cannot misalign it). ``Answer`` is a question with explicit answers, none chosen
until the officer picks one (是 / 否 / 不确定 for personal information).
"""
from __future__ import annotations

from typing import Generic

from rich.segment import Segment
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Checkbox, OptionList, RadioButton, SelectionList
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import SelectionType

TICKED = "[x]"
UNTICKED = "[ ]"
CHOSEN = "(*)"
NOT_CHOSEN = "( )"


def mark(on: bool) -> str:
    return TICKED if on else UNTICKED


class TickBox(Checkbox):
    """A Checkbox drawn ``[x] 词`` / ``[ ] 词``."""

    DEFAULT_CSS = """
    TickBox { border: none; padding: 0 1; height: 1; background: transparent; }
    TickBox:focus { background: $primary 30%; border: none; }
    TickBox > .toggle--button { background: transparent; color: $text; }
    TickBox.-on > .toggle--button { background: transparent; color: $text; text-style: bold; }
    TickBox:focus > .toggle--label { text-style: bold; background: transparent; }
    """

    @property
    def _button(self) -> Content:
        return Content(mark(self.value))


class TickRadio(RadioButton):
    """A RadioButton drawn ``(*) 词`` / ``( ) 词`` (Textual draws ``▐●▌`` for both and colours one)."""

    DEFAULT_CSS = """
    TickRadio > .toggle--button { background: transparent; color: $text; }
    TickRadio.-on > .toggle--button { background: transparent; color: $text; text-style: bold; }
    """

    @property
    def _button(self) -> Content:
        return Content(CHOSEN if self.value else NOT_CHOSEN)


class TickList(SelectionList[SelectionType], Generic[SelectionType]):
    """A SelectionList whose rows start ``[x] `` or ``[ ] `` (the same 4-cell gutter)."""

    DEFAULT_CSS = """
    TickList > .selection-list--button,
    TickList > .selection-list--button-highlighted,
    TickList > .selection-list--button-selected,
    TickList > .selection-list--button-selected-highlighted { background: transparent; color: $text; }
    """

    def _get_left_gutter_width(self) -> int:
        return len(TICKED) + 1

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)
        _, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except OptionDoesNotExist:
            return line
        index = scroll_y + y
        underlying = next(iter(line)).style or self.rich_style
        on = selection.value in self._selected
        from rich.style import Style
        style = underlying + Style(bold=on, meta={"option": index})
        return Strip([Segment(mark(on) + " ", style=style), *line])


class Answer(Widget, can_focus=True):
    """One line of explicit answers: ``[ ] 是  [ ] 否  [ ] 不确定``; none until one is picked.

    ←/→ move between answers, Space picks the one under the cursor, and each answer's
    first key (shown in ``keys``) picks it directly.
    """

    DEFAULT_CSS = """
    Answer { height: 1; width: 1fr; padding: 0 1; }
    Answer:focus { background: $primary 30%; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", show=False),
        Binding("right", "move(1)", show=False),
        Binding("space", "pick", show=False),
    ]

    value: reactive[str | None] = reactive(None)
    cursor: reactive[int] = reactive(0)

    class Changed(Message):
        def __init__(self, answer: "Answer", value: str | None) -> None:
            super().__init__()
            self.answer = answer
            self.value = value

        @property
        def control(self) -> "Answer":
            return self.answer

    def __init__(self, choices: list[tuple[str, str]], *, keys: dict[str, str] | None = None,
                 value: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choices = choices
        self.keys = keys or {}
        self.set_reactive(Answer.value, value)

    def render(self) -> Content:
        parts = []
        for i, (value, label) in enumerate(self.choices):
            text = f"{mark(self.value == value)} {label}"
            style = "bold" if self.value == value else ""
            if self.has_focus and i == self.cursor:
                style = (style + " underline").strip()
            parts.append((text, style))
            parts.append(("  ", ""))
        return Content.assemble(*parts[:-1])

    def watch_value(self, value: str | None) -> None:
        self.post_message(self.Changed(self, value))

    def action_move(self, step: int) -> None:
        self.cursor = (self.cursor + step) % len(self.choices)

    def action_pick(self) -> None:
        self.value = self.choices[self.cursor][0]

    def on_key(self, event) -> None:
        for value, key in self.keys.items():
            if event.character and event.character.lower() == key:
                event.stop()
                event.prevent_default()
                self.cursor = [v for v, _ in self.choices].index(value)
                self.value = value
                return

    def on_focus(self) -> None:
        if self.value is not None:
            self.cursor = [v for v, _ in self.choices].index(self.value)
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event) -> None:
        x = event.x - 1
        pos = 0
        for i, (value, label) in enumerate(self.choices):
            width = Content(f"{mark(False)} {label}").cell_length + 2
            if pos <= x < pos + width:
                self.cursor = i
                self.value = value
                return
            pos += width
