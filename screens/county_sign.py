"""The county board's sign key (已签收): a one-line confirmation for one submitted report, a small
picker when the highlighted incident has several unsigned. They decide nothing and sign nothing:
each dismisses with the chosen ``Sent`` (or None) and the board signs over its own connection."""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from models.county import board as vm
from models.county.signing import Sent
from models.i18n import t
from models.timeparse import fmt_when

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "county_board.tcss"


def report_words(sent: Sent, zone, now) -> str:
    """``首报（12-01 21:57 报送）``: the stage's name and when it was submitted; a correction
    (``首报 第2版（12-01 22:10 报送）``) names its revision, the one the signature is for."""
    stage = vm.stage_name(sent.regime, sent.stage, sent.seq)
    if sent.revision > 1:
        stage = t("county2.sign.revision", stage=stage, revision=sent.revision)
    return t("county.sign.report", stage=stage, when=fmt_when(sent.submitted_at, zone, now, with_zone=False))


class ConfirmSign(ModalScreen):
    """``签收 S001 2026-001 首报（12-01 21:57 报送）？ Enter 确认 · Esc 取消``."""

    CSS_PATH = TCSS
    GUIDE_SECTION = "county"
    BINDINGS = [
        Binding("enter,y", "answer(True)", t("county.sign.confirm_key"), priority=True, id="county_sign.confirm"),
        Binding("escape,n", "answer(False)", t("county.sign.cancel_key"), priority=True, id="county_sign.cancel"),
    ]

    def __init__(self, sent: Sent, zone, now) -> None:
        super().__init__()
        self.sent = sent
        self.line = t("county.sign.confirm", school=sent.school, incident=sent.incident,
                      report=report_words(sent, zone, now))

    def compose(self) -> ComposeResult:
        yield Static(Text(self.line, no_wrap=True, overflow="ellipsis"), id="sign-confirm")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(self.sent if yes else None)


class PickSign(ModalScreen):
    """Several unsigned reports of one incident: pick one (Enter), Esc leaves."""

    CSS_PATH = TCSS
    GUIDE_SECTION = "county"
    BINDINGS = [Binding("escape", "close", t("county.sign.cancel_key"), id="county_sign.close")]

    def __init__(self, school: str, incident: str, choices: list[Sent], zone, now) -> None:
        super().__init__()
        self.school, self.incident, self.choices = school, incident, choices
        self.labels = [report_words(s, zone, now) for s in choices]

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-box"):
            yield Static(Text(t("county.sign.pick", school=self.school, incident=self.incident), style="bold"),
                         id="sign-title")
            yield OptionList(*[Option(label, id=str(n)) for n, label in enumerate(self.labels)], id="sign-list")
            yield Static(Text(t("county.sign.pick_keys")), id="sign-keys")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id)])

    def action_close(self) -> None:
        self.dismiss(None)
