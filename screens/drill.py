"""A drill's summary on screen, with ending the drill and saving the document.

Opened with ``app.open_screen("drill", incident_id)`` (from the incident
screen of a drill). Shows what ``drill summary`` writes: each stage against
its deadline, the calls, what went wrong. ``e`` ends the drill with its
findings; ``s`` saves the summary as .docx (GB/T 9704, titled 演练).
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Markdown, Static

from models.drills import end_drill, summarize, to_docx, to_markdown
from screens._follow import FollowsOtherSessions
from models.errors import DomainError
from models.i18n import t
from models.incidents import get_incident
from models.text import md_safe
from tui.palette import BindingCommands

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "drill.tcss"


class DrillScreen(FollowsOtherSessions, Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("e", "end", t("prevention.key.end_drill"), id="drill.end"),
        Binding("s", "save", t("prevention.key.save_docx"), id="drill.save"),
        Binding("escape", "back", t("prevention.key.back"), id="drill.back"),
    ]

    def __init__(self, incident_id) -> None:
        super().__init__()
        self.incident_id = incident_id
        self._version: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="drill-title")
        with VerticalScroll(id="drill-body"):
            # stored text: a link in a note is shown, never opened (on an SSH session it would open on the server)
            yield Markdown("", id="drill-md", open_links=False)
        yield Static("", id="drill-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()
        self.follow_other_sessions("drill-poll")
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        self.query_one("#drill-body").focus()


    def reload(self) -> None:
        ctx = self.app.ctx
        if self.app.locked:
            self.query_one("#drill-md", Markdown).update(t("prevention.locked"))
            return
        try:
            with ctx.store.read():
                inc = get_incident(self.incident_id)
                self.summary = summarize(ctx, inc.id)
        except DomainError as exc:
            self.query_one("#drill-md", Markdown).update(md_safe(exc.message))
            self.summary = None
            return
        state = t("prevention.drill.ended_state") if inc.status == "closed" else t("prevention.drill.running")
        self.query_one("#drill-title", Static).update(
            Text(f"【{t('prevention.drill.mark')}】{inc.code} · {state}"))
        # Typed text is shown as Markdown source would show it: the summary escapes table pipes.
        self.query_one("#drill-md", Markdown).update(to_markdown(ctx, self.summary))

    def action_end(self) -> None:
        if self.app.locked or self.summary is None:
            return
        self.app.push_screen(AskScreen(t("prevention.drill.ask_findings"), ""), self._end)

    def _end(self, findings) -> None:
        if findings is None:
            return
        try:
            end_drill(self.app.ctx, self.incident_id, findings)
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        self._status(t("prevention.drill.ended_ok"))
        self.reload()

    def action_save(self) -> None:
        if self.app.locked or self.summary is None:
            return
        default = str(Path.home() / f"{t('prevention.drill.file_stem')}-{self.summary.code}.docx")
        self.app.push_screen(AskScreen(t("prevention.drill.ask_path"), default), self._save)

    def _save(self, path_text) -> None:
        if not path_text:
            return
        path = Path(path_text).expanduser()
        try:
            data = to_docx(self.app.ctx, self.summary)
            from models.outfile import write_output
            write_output(path, data)
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        except OSError as exc:
            self._status(t("prevention.error.write_failed", path=str(path), detail=exc.strerror or str(exc)),
                         error=True)
            return
        self._status(t("prevention.cli.drill.written", path=str(path)))

    def _status(self, message: str, error: bool = False) -> None:
        self.query_one("#drill-status", Static).update(Text(message, style="bold red" if error else "green"))

    def action_back(self) -> None:
        self.app.pop_screen()


class AskScreen(ModalScreen):
    """One line of input: Enter answers, Esc cancels (answers None)."""

    CSS_PATH = TCSS
    BINDINGS = [Binding("escape", "cancel", t("prevention.key.cancel"), id="ask.cancel")]

    def __init__(self, question: str, value: str) -> None:
        super().__init__()
        self.question, self.value = question, value

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ask-box"):
            yield Static(Text(self.question))
            yield Input(value=self.value, id="ask-input")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


SCREEN = DrillScreen
