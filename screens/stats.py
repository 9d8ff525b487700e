"""Statistics for a year, a semester or a month, and the annual report written from the screen.

Opened from the board's ``g`` menu or the command palette (``app.open_screen("stats")``).
What it shows is ``models.annual_report.tables()`` over ``models.stats.compute()``: the same
figures as ``xueji-duty stats`` and the .docx/.xlsx. Charts are Unicode bars with the number
beside them, readable at 80×24 and without colour. ``y``/``s``/``m`` choose a year, semester or
month, ``p``/``n`` move to the previous or next one, ``e`` writes the report (.docx, .xlsx or
.json by the file name's ending).
"""
from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker
from textual import work

from models.errors import DomainError
from models.i18n import t
from tui.palette import BindingCommands
from tui.widgets.notice_room import NoticeRoom

TCSS = Path(__file__).resolve().parent.parent / "assets" / "tcss" / "stats.tcss"
BAR_WIDTH = 30
CHART_TABLES = ("by_class", "by_grade", "by_month")


def bar(n: int, top: int, width: int = BAR_WIDTH) -> str:
    """``█████▍`` in eighths: as long as ``n`` is against ``top``, at least a sliver for any n > 0."""
    if top <= 0 or n <= 0:
        return ""
    eighths = max(1, round(n / top * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + ("" if not part else " ▏▎▍▌▋▊▉"[part])


def columns(rows: list[list[str]], header: bool = False) -> list[Text]:
    """Rows as aligned lines (Chinese characters are two columns wide); numbers right-aligned."""
    from models.annual_report import _width
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = []
        for i, cell in enumerate(row):
            pad = " " * (widths[i] - _width(cell))
            cells.append(cell + pad if i == 0 else pad + cell)
        out.append(Text("  ".join(cells), style="bold" if header and n == 0 else ""))
    return out


class StatsScreen(Screen):
    CSS_PATH = TCSS
    COMMANDS = {BindingCommands}
    GUIDE_SECTION = "stats"
    BINDINGS = [
        Binding("p", "prev", t("stats.key.prev"), id="stats.prev"),
        Binding("n", "next", t("stats.key.next"), id="stats.next"),
        Binding("y", "kind('year')", t("stats.key.year"), id="stats.year"),
        Binding("s", "kind('semester')", t("stats.key.semester"), id="stats.semester"),
        Binding("m", "kind('month')", t("stats.key.month"), id="stats.month"),
        Binding("e", "export", t("stats.key.export"), id="stats.export"),
        Binding("escape", "back", t("stats.key.back"), id="stats.back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.kind = "year"
        self.year = 0
        self.semester = 1
        self.month = 1
        self.data: dict | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="stats-title")
        with VerticalScroll(id="stats-body"):
            yield Static("", id="stats-content")
        yield Static("", id="stats-status")
        yield NoticeRoom()     # notices show here, never over the table
        yield Footer(compact=True, show_command_palette=False)  # every key fits 80 columns

    def on_mount(self) -> None:
        local = self.app.clock.now().astimezone(self.app.ctx.zone)
        self.year, self.month = local.year, local.month
        self.semester = 1 if local.month < 9 else 2
        self.reload()
        self.watch(self.app, "locked", lambda locked: self.reload(), init=False)
        self.query_one("#stats-body").focus()

    # ------------------------------------------------------------------ data

    def _period(self):
        from models.stats import period
        ctx = self.app.ctx
        if self.kind == "semester":
            return period(ctx.settings, self.year, semester=self.semester)
        if self.kind == "month":
            return period(ctx.settings, self.year, month=self.month)
        return period(ctx.settings, self.year)

    def reload(self) -> None:
        content = self.query_one("#stats-content", Static)
        if self.app.locked:
            content.update(t("stats.screen.locked"))
            return
        # A year of 10,000 incidents takes about half a second: computed in a thread, so keys
        # still respond; a newer period's computation replaces an older one (exclusive).
        content.update(t("stats.screen.computing"))
        self._compute(self._period_or_error())

    def _period_or_error(self):
        try:
            return self._period()
        except DomainError as exc:
            return exc

    @work(thread=True, exclusive=True, group="stats-compute", exit_on_error=False)
    def _compute(self, p) -> None:
        from models.stats import compute
        ctx = self.app.ctx
        if isinstance(p, DomainError):
            self.app.call_from_thread(self._failed, p.message)
            return
        try:
            with ctx.store.read():
                data = compute(ctx, p)
        except DomainError as exc:
            self.app.call_from_thread(self._failed, exc.message)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, data)

    def _failed(self, message: str) -> None:
        self.data = None
        self.query_one("#stats-content", Static).update(Text(message))

    def _show(self, data: dict) -> None:
        self.data = data
        self.query_one("#stats-title", Static).update(
            Text(t("stats.screen.title", period=self.data["period"]["label"],
                   start=self.data["period"]["from"], end=self.data["period"]["to"])))
        self.query_one("#stats-content", Static).update(self._figures())

    def _figures(self):
        from models import annual_report as ar
        ctx = self.app.ctx
        data = self.data
        inc = data["incidents"]
        parts: list = [Text(t("stats.screen.counts", real=inc["real"], drills=inc["drills"],
                              withdrawn=inc["withdrawn"]), style="bold")]
        tables = {tb.key: tb for tb in ar.tables(ctx, data)}
        # Reports on time first: the statutory first report heads it.
        on = tables["on_time"]
        parts += [Text(""), Text(on.title, style="bold")]
        parts += columns([on.header] + ar.text_rows(on), header=True)
        fr = data["first_report"]
        parts.append(Text(t("stats.screen.first_time", n=fr["count"], median=ar.minutes_text(fr["median_minutes"]),
                            worst=ar.minutes_text(fr["worst_minutes"]), code=fr["worst_code"] or "—")))
        ch = data["checks"]
        parts.append(Text(t("stats.screen.checks", runs=ch["runs"], on_time=ch["on_time"], late=ch["late"],
                            rate=ar.rate_text(ch["rate"]))))
        for key in CHART_TABLES:
            tb = tables[key]
            parts += [Text(""), Text(tb.title, style="bold")]
            rows = [r for r in tb.rows if key != "by_class" or r[1]] or tb.rows
            top = max((r[1] for r in rows), default=0)
            label_w = max((ar._width(str(r[0])) for r in rows), default=4)
            for r in rows:
                label = str(r[0]) + " " * (label_w - ar._width(str(r[0])))
                parts.append(Text(f"{label} {bar(r[1], top):<{BAR_WIDTH}} {r[1]}"))
        cat = tables["by_category"]
        parts += [Text(""), Text(cat.title, style="bold")]
        for r in cat.rows:
            if r[1]:
                parts.append(Text(f"{r[0]}：{r[1]}"))
        if data["drills"]:
            parts += [Text(""), Text(tables["drills"].title, style="bold")]
            parts += [Text(f"{d['code']}  {d['occurred_at']}  {d['title']}") for d in data["drills"]]
        return Text("\n").join(parts)

    # ------------------------------------------------------------------ keys

    def action_kind(self, kind: str) -> None:
        self.kind = kind
        self.reload()

    def _step(self, delta: int) -> None:
        if self.kind == "year":
            self.year += delta
        elif self.kind == "semester":
            n = 2
            index = self.year * n + (self.semester - 1) + delta
            self.year, s = divmod(index, n)
            self.semester = s + 1
        else:
            index = self.year * 12 + (self.month - 1) + delta
            self.year, m = divmod(index, 12)
            self.month = m + 1
        self.reload()

    def action_prev(self) -> None:
        self._step(-1)

    def action_next(self) -> None:
        self._step(1)

    def action_export(self) -> None:
        if self.app.locked or self.data is None:
            return
        from models import annual_report as ar
        from screens.drill import AskScreen
        default = str(Path.home() / ar.default_name(self.data, "docx"))
        self.app.push_screen(AskScreen(t("stats.screen.ask_path"), default), self._export)

    def _export(self, path_text) -> None:
        if not path_text:
            return
        from models import annual_report as ar
        path = Path(path_text).expanduser()
        fmt = path.suffix.lower().lstrip(".")
        try:
            if fmt not in ar.FORMATS:
                from models.errors import ValidationError
                raise ValidationError({"format": ("stats.error.format", {"value": fmt or path.name,
                                                                        "known": ", ".join(ar.FORMATS)})})
            ar.export(self.app.ctx, self.data, fmt, path)
        except DomainError as exc:
            self._status(exc.message, error=True)
            return
        self._status(t("stats.cli.written", path=str(path)))

    def _status(self, message: str, error: bool = False) -> None:
        self.query_one("#stats-status", Static).update(Text(message, style="bold reverse" if error else "bold"))

    def action_back(self) -> None:
        self.app.pop_screen()


SCREEN = StatsScreen
