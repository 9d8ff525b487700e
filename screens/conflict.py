"""Both sessions changed the same fields: base, theirs and mine for those fields only.

Every other field was already merged (``models.merge``): what only the colleague
changed is kept, what only this officer changed is saved. Here the officer
decides per field: ctrl+o keeps mine for all, ctrl+t takes theirs for all, ctrl+r
takes theirs and puts mine on the clipboard; each field also has its own
buttons and an edit box (prefilled with mine) to combine the two by hand,
saved with ctrl+s. Focus starts in the first edit box, so what the officer types
goes there: no plain letter decides the whole conflict (a stray ``m`` is an ``m``). Nothing is lost whichever way: mine stays stashed in the
database until decided, theirs stays in the audit trail.

The screen returns ``(choice, values)``; ``values`` maps each field to the text
to save (mine, theirs or the combined edit).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static, TextArea

from models.i18n import t
from models.profiles import display_name
from tui.palette import BindingCommands

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SIDE_BY_SIDE_MIN = 120


class ConflictScreen(Screen):
    CSS_PATH = [ASSETS / "tcss" / "conflict.tcss"]
    COMMANDS = {BindingCommands}
    # Ctrl keys only (priority: the edit box would take them otherwise); ? types into the box, so f1.
    BINDINGS = [
        Binding("ctrl+s", "choose('merge')", t("merge.key.apply"), id="conflict.apply", priority=True),
        Binding("ctrl+o", "choose('mine')", t("report.conflict.mine"), id="conflict.mine", priority=True),
        Binding("ctrl+t", "choose('theirs')", t("report.conflict.theirs"), id="conflict.theirs", priority=True),
        Binding("ctrl+r", "choose('copy')", t("report.conflict.copy"), id="conflict.copy", priority=True),
        Binding("f1", "app.help", t("board.key.help"), id="conflict.help", priority=True),
    ]

    def __init__(self, labels: dict[str, str], mine: dict, theirs: dict, their_version: int,
                 their_status: str = "draft", their_when: str = "",
                 conflicts: list[dict[str, Any]] | None = None, who: str = "", what: str = "") -> None:
        super().__init__()
        self.labels = labels
        self.mine = {k: str(v or "") for k, v in mine.items()}
        self.theirs = {k: str(v or "") for k, v in theirs.items()}
        self.base: dict[str, str] = {}
        self.by: dict[str, str] = {}
        for c in conflicts or ():
            self.base[c["field"]] = str(c.get("base") or "")
            self.by[c["field"]] = display_name(c.get("by") or "")
        self.fields = [c["field"] for c in conflicts] if conflicts is not None else None
        self.their_version = their_version
        self.their_status = their_status
        self.their_when = their_when
        self.who = who      # already by display name (models.profiles.display_names)
        self.what = what

    def differing(self) -> list[str]:
        if self.fields is not None:
            return list(self.fields)
        keys = list(self.labels) + [k for k in {**self.mine, **self.theirs} if k not in self.labels]
        return [k for k in keys if self.mine.get(k, "") != self.theirs.get(k, "")]

    def compose(self) -> ComposeResult:
        yield Header()
        if self.their_status != "draft":
            intro = t("report.conflict.intro_submitted", when=self.their_when, version=self.their_version)
        else:
            intro = t("merge.conflict.intro", who=self.who or t("error.conflict_someone"), what=self.what,
                      when=self.their_when)
        yield Static(Text(intro), id="conflict-intro")
        wide = self.app.size.width >= SIDE_BY_SIDE_MIN
        with VerticalScroll(id="conflict-body"):
            diff = self.differing()
            if not diff:
                yield Static(Text(t("report.conflict.same")))
            for key in diff:
                yield Static(Text(self.labels.get(key, key), style="bold"), classes="conflict-field")
                if key in self.base:
                    yield Static(self._box(t("merge.conflict.base_label"), self.base.get(key, "")),
                                 classes="conflict-base")
                who = self.by.get(key)
                theirs = Static(self._box(t("report.conflict.their_label") + (f"（{who}）" if who else ""),
                                          self.theirs.get(key, "")), classes="conflict-theirs")
                mine = Static(self._box(t("report.conflict.my_label"), self.mine.get(key, "")),
                              classes="conflict-mine")
                if wide:
                    yield Horizontal(theirs, mine, classes="conflict-pair")
                else:
                    yield Vertical(theirs, mine, classes="conflict-pair")
                if self.fields is not None and self.their_status == "draft":
                    with Horizontal(classes="conflict-buttons"):
                        yield Button(t("merge.conflict.use_mine"), id=f"use-mine-{key}", compact=True)
                        yield Button(t("merge.conflict.use_theirs"), id=f"use-theirs-{key}", compact=True)
                    yield TextArea(self.mine.get(key, ""), id=f"merge-{key}", classes="conflict-edit",
                                   soft_wrap=True, tab_behavior="focus", show_line_numbers=False)
        yield Static(Text(t("merge.conflict.choose") if self.fields is not None else t("report.conflict.choose")),
                     id="conflict-help")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        boxes = self.query(".conflict-edit")
        (boxes.first() if boxes else self.query_one("#conflict-body")).focus()

    def has_edit_boxes(self) -> bool:
        """The same test ``compose`` uses, so it holds before the boxes are mounted."""
        return self.fields is not None and self.their_status == "draft" and bool(self.fields)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "choose" and parameters == ("merge",) and not self.has_edit_boxes():
            return False     # nothing to save from: ctrl+s is neither shown nor run
        return True

    @staticmethod
    def _box(label: str, value: str) -> Text:
        text = Text(label + "\n", style="italic")
        text.append(value if value else "—")
        return text

    def on_button_pressed(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        for prefix, source in (("use-mine-", self.mine), ("use-theirs-", self.theirs)):
            if bid.startswith(prefix):
                key = bid.removeprefix(prefix)
                self.query_one(f"#merge-{key}", TextArea).load_text(source.get(key, ""))
                event.stop()

    def edited(self) -> dict[str, str]:
        return {(w.id or "").removeprefix("merge-"): w.text for w in self.query(".conflict-edit")}

    def action_choose(self, choice: str) -> None:
        diff = self.differing()
        if choice == "mine":
            values = {k: self.mine.get(k, "") for k in diff}
        elif choice == "merge":
            values = {**{k: self.mine.get(k, "") for k in diff}, **self.edited()}
        else:
            values = {k: self.theirs.get(k, "") for k in diff}
        self.dismiss((choice, values))


SCREEN = ConflictScreen
