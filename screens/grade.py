"""Decide the grade (leadership group), with the GB/Z 20986 §5 helper beside the decision.

The helper's suggestion updates as the factors are chosen and says which rule
produced it; the leader may take it (ctrl+u) or decide otherwise, and must give
a reason either way. Anyone may open the screen to see the suggestion; only a
leader's save is accepted (the service checks).
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, Static

from models.errors import DomainError, ValidationError
from models.grading import IMPACT, IMPORTANCE, LOSS, suggest
from models.i18n import t
from models.incidents import get_incident, set_grade
from models.roles import can
from models.taxonomy import load_taxonomy
from screens._incident_fields import grade_choices, grade_shown
from tui.app import ASSETS
from tui.palette import BindingCommands
from tui.widgets.safe_input import SafeInput
from tui.widgets.picker import Picker

FACTORS = (("importance", IMPORTANCE), ("loss", LOSS), ("impact", IMPACT))


def _factor_source(kind: str, values: tuple[str, ...]):
    def source(text: str):
        needle = (text or "").strip().lower()
        for v in values:
            label = t(f"grading.{kind}.{v}")
            if not needle or needle in label.lower() or needle in v:
                yield v, label.split("（")[0].split(" (")[0], Text(label)
    return source


class GradeScreen(Screen):
    COMMANDS = {BindingCommands}   # ctrl+p lists this screen's keys too
    CSS_PATH = [ASSETS / "tcss" / "grade.tcss"]
    BINDINGS = [
        Binding("ctrl+s", "save", t("incident.save"), priority=True, id="grade.save"),
        Binding("ctrl+u", "use", t("grading.use"), priority=True, id="grade.use"),
        Binding("escape", "leave", t("incident.cancel"), id="grade.leave"),
    ]

    def __init__(self, incident_id: Any) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.version = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Static("", id="grade-facts")
            yield Static(Text(t("grading.helper"), style="bold"))
            for kind, values in FACTORS:
                yield Horizontal(Label(t("field." + kind), classes="label"),
                                 Picker(_factor_source(kind, values), id=kind), classes="row")
            yield Static("", id="suggestion")
            yield Static(Text(t("grading.title"), style="bold"))
            yield Horizontal(Label(t("field.grade"), classes="label"), Picker(grade_choices, id="grade"),
                             classes="row", id="row-grade")
            yield Static("", id="msg-grade", classes="msg")
            yield Horizontal(Label(t("field.reason"), classes="label"), SafeInput(id="reason"), classes="row")
            yield Static("", id="msg-reason", classes="msg")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        ctx = self.app.ctx
        with ctx.store.read():
            inc = get_incident(self.incident_id)
        self.version = inc.version
        self.title = t("incident.screen_title", code=inc.code)
        facts = Text()
        facts.append(t("field.grade") + "：", style="dim")
        if inc.grade:
            g = load_taxonomy().grade(inc.grade)
            facts.append(grade_shown(g) + " " + t("incident.grade_decided" if inc.grade_decided
                                                   else "incident.grade_prelim"))
            self.query_one("#grade", Picker).set_value(g.id, grade_shown(g))
        else:
            facts.append(t("incident.grade_undecided"))
        self.query_one("#grade-facts", Static).update(facts)
        if not can(self.app.actor.role, "leader"):
            self._status(t("grading.leader_only"), error=True)
        self.update_suggestion()
        self.query_one("#importance", Picker).input.focus()

    def current(self):
        vals = {kind: self.query_one(f"#{kind}", Picker).value for kind, _ in FACTORS}
        return suggest(vals["importance"], vals["loss"], vals["impact"])

    def update_suggestion(self) -> None:
        s = self.current()
        text = Text()
        if s.grade:
            g = load_taxonomy().grade(s.grade)
            text.append(t("grading.suggested", grade=grade_shown(g)), style=f"bold {g.colour}")
            text.append("  (Ctrl+U)", style="dim")
        else:
            text.append(t("grading.none"), style="dim")
        for key, params in s.reasons:
            text.append("\n  · " + t(key, **params))
        self.query_one("#suggestion", Static).update(text)

    def on_picker_picked(self, event: Picker.Picked) -> None:
        self.update_suggestion()
        self.focus_next()

    def on_picker_edited(self, event: Picker.Edited) -> None:
        self.update_suggestion()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_use(self) -> None:
        s = self.current()
        if not s.grade:
            self._status(t("grading.none"), error=True)
            return
        g = load_taxonomy().grade(s.grade)
        self.query_one("#grade", Picker).set_value(g.id, grade_shown(g))
        reason = self.query_one("#reason", Input)
        if not reason.value.strip():
            reason.value = "GB/Z 20986：" + "；".join(t(k, **p) for k, p in s.reasons)
        reason.focus()

    def action_save(self) -> None:
        for name in ("grade", "reason"):
            self._message(name, "")
        picker = self.query_one("#grade", Picker)
        grade = picker.choice()
        if not grade:
            self._message("grade", t("error.required"))
            return
        try:
            inc = set_grade(self.app.ctx, self.incident_id, grade, self.query_one("#reason", Input).value,
                            expected_version=self.version)
        except ValidationError as exc:
            for name, message in exc.field_messages().items():
                self._message(name if name in ("grade", "reason") else "reason", message)
            return
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        self.notify(t("cli.incident.graded", code=inc.code, grade=grade_shown(load_taxonomy().grade(inc.grade))),
                    markup=False)
        self.dismiss(inc.grade)

    def action_leave(self) -> None:
        self.dismiss(None)

    def _message(self, name: str, text: str) -> None:
        msg = self.query_one(f"#msg-{name}", Static)
        msg.update(Text(text))
        msg.set_class(bool(text), "-show", "-error")

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#status", Static)
        status.update(Text(text))
        status.set_class(error, "-error")


SCREEN = GradeScreen
