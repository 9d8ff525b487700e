"""The other session saved the same report first: both versions, and the officer decides.

Nothing is lost whichever way: "keep mine" writes mine on top of theirs (theirs
stays in the audit trail), "take theirs" loads theirs into the form (mine stays
stashed in the database until then), "copy" takes theirs and puts mine on the
clipboard so the two can be merged by hand. At 80 columns the two versions
are shown one after the other; on a wide terminal side by side.
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from models.i18n import t

ASSETS = Path(__file__).resolve().parent.parent / "assets"
SIDE_BY_SIDE_MIN = 120


class ConflictScreen(Screen):
    CSS_PATH = [ASSETS / "tcss" / "conflict.tcss"]
    BINDINGS = [
        Binding("m", "choose('mine')", t("report.conflict.mine"), id="conflict.mine"),
        Binding("t", "choose('theirs')", t("report.conflict.theirs"), id="conflict.theirs"),
        Binding("c", "choose('copy')", t("report.conflict.copy"), id="conflict.copy"),
    ]

    def __init__(self, labels: dict[str, str], mine: dict, theirs: dict, their_version: int,
                 their_status: str = "draft", their_when: str = "") -> None:
        super().__init__()
        self.labels = labels
        self.mine = {k: str(v or "") for k, v in mine.items()}
        self.theirs = {k: str(v or "") for k, v in theirs.items()}
        self.their_version = their_version
        self.their_status = their_status
        self.their_when = their_when

    def differing(self) -> list[str]:
        keys = list(self.labels) + [k for k in {**self.mine, **self.theirs} if k not in self.labels]
        return [k for k in keys if self.mine.get(k, "") != self.theirs.get(k, "")]

    def compose(self) -> ComposeResult:
        yield Header()
        intro = t("report.conflict.intro_submitted" if self.their_status != "draft" else "report.conflict.intro",
                  when=self.their_when, version=self.their_version)
        yield Static(Text(intro), id="conflict-intro")
        wide = self.app.size.width >= SIDE_BY_SIDE_MIN
        with VerticalScroll(id="conflict-body"):
            diff = self.differing()
            if not diff:
                yield Static(Text(t("report.conflict.same")))
            for key in diff:
                yield Static(Text(self.labels.get(key, key), style="bold"), classes="conflict-field")
                theirs = Static(self._box(t("report.conflict.their_label"), self.theirs.get(key, "")),
                                classes="conflict-theirs")
                mine = Static(self._box(t("report.conflict.my_label"), self.mine.get(key, "")),
                              classes="conflict-mine")
                if wide:
                    yield Horizontal(theirs, mine, classes="conflict-pair")
                else:
                    yield Vertical(theirs, mine, classes="conflict-pair")
        yield Static(Text(t("report.conflict.choose")), id="conflict-help")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conflict-body").focus()

    @staticmethod
    def _box(label: str, value: str) -> Text:
        text = Text(label + "\n", style="italic")
        text.append(value if value else "—")
        return text

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)


SCREEN = ConflictScreen
