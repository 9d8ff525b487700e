"""A small keyboard form in a modal: a few fields, ctrl+s (or enter on a line) to save, esc to cancel.

The save callback raises a ``ValidationError`` to have its messages shown beside
the fields, or any ``DomainError`` to have it shown at the bottom; the user's
input stays as typed either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea
from screens._account_form import FieldsInOrder
from tui.widgets.ticks import TickBox as Checkbox   # [x]/[ ]: readable without colour

from models.errors import DomainError, ValidationError
from models.i18n import t
from tui.widgets.safe_input import SafeInput, SafeTextArea


@dataclass
class FormField:
    name: str
    label: str
    kind: str = "input"        # input | text | checkbox
    value: Any = ""
    placeholder: str = ""


class FormModal(ModalScreen, FieldsInOrder):
    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal > #box { width: 76; max-width: 100%; height: auto; max-height: 100%;
                       border: round $primary; background: $surface; padding: 0 1; }
    FormModal #intro { height: auto; color: $text-muted; }
    FormModal .row { height: auto; }
    FormModal .label { width: 14; color: $text-muted; }
    FormModal Input { border: none; height: 1; padding: 0 1; width: 1fr; background: $boost; }
    FormModal Input:focus { border: none; background: $primary 30%; }   /* a border would hide the text */
    FormModal Checkbox { border: none; height: 1; padding: 0 1; background: $boost; }
    FormModal Checkbox:focus { background: $primary 30%; }
    FormModal TextArea { border: none; height: 6; width: 1fr; padding: 0 1; }
    FormModal .msg { display: none; height: auto; padding-left: 14; color: $error; }
    FormModal .msg.-show { display: block; }
    FormModal #form-status { height: auto; color: $error; }
    FormModal Footer { dock: none; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", t("incident.save"), priority=True),
        Binding("escape", "cancel", t("incident.cancel")),
    ]

    def __init__(self, title: str, fields: list[FormField], on_save: Callable[[dict[str, Any]], Any],
                 intro: str | Text = "") -> None:
        super().__init__()
        self.form_title = title
        self.fields = fields
        self.on_save = on_save
        self.intro = intro

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(Text(self.form_title, style="bold"), id="form-title")
            if self.intro:
                yield Static(self.intro if isinstance(self.intro, Text) else Text(self.intro), id="intro")
            with VerticalScroll(id="fields"):
                for f in self.fields:
                    if f.kind == "text":
                        widget = SafeTextArea(str(f.value or ""), id=f"f-{f.name}", soft_wrap=True, tab_behavior="focus")
                    elif f.kind == "checkbox":
                        widget = Checkbox(f.placeholder or "", bool(f.value), id=f"f-{f.name}")
                    else:
                        widget = SafeInput(str(f.value or ""), placeholder=f.placeholder, id=f"f-{f.name}")
                    yield Horizontal(Label(f.label, classes="label"), widget, classes="row")
                    yield Static("", id=f"m-{f.name}", classes="msg")
            yield Static("", id="form-status")
            yield Static(Text(t("incident.modal_keys_enter" if self.enter_saves() else "incident.modal_keys"),
                              style="dim"), id="form-keys")

    def enter_saves(self) -> bool:
        """One one-line field (the handling-finished time, a reason): Enter there saves, and says so."""
        return len(self.fields) == 1 and self.fields[0].kind == "input"

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#f-{self.fields[0].name}").focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            w = self.query_one(f"#f-{f.name}")
            out[f.name] = w.text if isinstance(w, TextArea) else w.value
        return out

    def show_message(self, name: str | None, text: str) -> None:
        target = None
        if name is not None:
            try:
                target = self.query_one(f"#m-{name}", Static)
            except Exception:
                target = None
        if target is None:
            target = self.query_one("#form-status", Static)
        target.update(Text(text))
        target.set_class(bool(text), "-show")

    def clear_messages(self) -> None:
        for f in self.fields:
            self.show_message(f.name, "")
        self.query_one("#form-status", Static).update("")

    # Enter moves to the next one-line field before the next key is read, and saves on the
    # last (FieldsInOrder); Enter in the evidence path no longer saves before the custody note.
    def field_order(self) -> list[str]:
        return [f"f-{f.name}" for f in self.fields]

    def submit_fields(self) -> None:
        self.action_save()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()

    def action_save(self) -> None:
        self.clear_messages()
        try:
            result = self.on_save(self.values())
        except ValidationError as exc:
            shown = {f.name for f in self.fields}
            rest = []
            for name, message in exc.field_messages().items():
                if name in shown:
                    self.show_message(name, message)
                else:
                    rest.append(f"{t('field.' + name, default=name)}: {message}")
            if rest:
                self.show_message(None, "; ".join(rest))
            return
        except DomainError as exc:
            self.show_message(None, exc.message)
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)
