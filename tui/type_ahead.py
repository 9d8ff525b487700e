"""Keys typed ahead land in the field they were typed for (issue 15 item 3).

Textual reads a burst of keys (typed during a lag of an SSH link, or pasted by a terminal that
sends keys) one after another and hands each to the widget focused *at that moment*. Tab is a
screen binding that runs only after the key went down to the focused field and came back up:
by then the next keys were already handed to the old field (``地点AAA⇥系统BBB`` gave 地点
"地点AAA系统BBB"). As app-level priority bindings, Tab and Shift+Tab move the focus before the
next key is read — the approach of the login screen's Enter (``screens._account_form.FieldsInOrder``),
for every screen and dialog.

A widget or screen that gives Tab a meaning of its own (a screen's own ``tab`` binding, a
TextArea that indents) keeps it: the priority binding then steps aside.
"""
from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TextArea

from models.i18n import t

FOCUS_ACTIONS = {"app.focus_next", "app.focus_previous", "focus_next", "focus_previous"}


class TypeAheadFocus:
    TYPE_AHEAD_BINDINGS = [
        Binding("tab", "type_ahead_focus(1)", t("help.next_field"), show=False, priority=True, id="type_ahead.next"),
        Binding("shift+tab", "type_ahead_focus(-1)", t("help.previous_field"), show=False, priority=True, id="type_ahead.previous"),
    ]

    def _tab_taken(self, key: str) -> bool:
        """True if something between the screen and the focused widget binds ``key`` itself."""
        focused = self.focused
        if key == "tab" and isinstance(focused, TextArea) and focused.tab_behavior == "indent":
            return True
        for node, bindings in self.screen._binding_chain:
            if node is self:
                continue
            for binding in bindings.key_to_bindings.get(key, ()):
                if binding.action not in FOCUS_ACTIONS:
                    return True
        return False

    def check_action(self, action: str, parameters):
        if action == "type_ahead_focus":
            step = parameters[0] if parameters else 1
            return not self._tab_taken("tab" if step > 0 else "shift+tab")
        return super().check_action(action, parameters)

    def action_type_ahead_focus(self, step: int = 1) -> None:
        screen = self.screen
        if step > 0:
            screen.focus_next()
        else:
            screen.focus_previous()
