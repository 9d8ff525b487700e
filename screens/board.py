"""The live board: the screen the duty officer keeps open all day.

It renders ``models.board``; it does not decide anything. Three clocks drive it:
- every second, countdowns are recomputed from the cached obligations (no
  database access) and only cells whose text changed are redrawn, so an idle
  board over SSH writes a few bytes a minute;
- every second, the store's change feed (``Store.feed``: ``PRAGMA data_version``
  plus this process's own commits) says whether another session (or this one)
  committed; only then a worker re-reads, and a keyed diff updates the table
  without moving the cursor or the scroll;
- every 60 s a full re-read anyway, as a safety net.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from models import alarms as alarm_model
from screens._presence import PRESENCE_EVERY_S, app_presence
from models import board as vm
from models.banners import Banner, collect
from models.errors import DomainError
from models.i18n import t
from models.timeparse import fmt_local
from tui.palette import BindingCommands, ScreenCommands
from tui.role_keys import RoleKeys
from tui.widgets.cell_table import CellTable
from tui.widgets.notice_room import NoticeRoom

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FULL_REREAD_S = 60.0
POLL_S = 0.2          # how often other sessions' commits are looked for (issue 15: p95 ≤ 600 ms)
FIRST_PAINT_ROWS = 30
REST_ROWS_AFTER_S = 0.2
FOREVER = datetime.max.replace(tzinfo=timezone.utc)

# Rich styles per escalation level; the state word and reverse video carry the meaning without colour.
LEVEL_STYLE = {"normal": "", "due_soon": "bold yellow", "urgent": "bold red", "overdue": "bold reverse red"}
BANNER_STYLE = {"info": "", "warning": "bold yellow", "error": "bold reverse red", "red": "bold reverse red",
                "orange": "bold #ff8700", "yellow": "bold yellow", "blue": "bold blue"}


@dataclass
class ReadResult:
    seq: int                # reads are numbered as they start: a later read saw at least as much
    data: vm.BoardData
    banners: list[Banner] | None   # None: not read this time (the first read)
    banner_error: str
    fired: set
    pending: list
    who: dict


class BoardScreen(RoleKeys, Screen):
    CSS_PATH = [ASSETS / "tcss" / "board.tcss"]
    COMMANDS = {BindingCommands, ScreenCommands}
    # A viewer sees these keys dimmed and, pressed, is told the role they need (tui/role_keys.py);
    # the services check it again (an incident is recorded, an alarm silenced, by an officer).
    ACTION_ROLES = {"new_incident": "officer", "ack_alarm": "officer"}
    BINDINGS = [
        Binding("enter", "open_incident", t("board.key.open"), id="board.open", priority=True),
        Binding("n", "new_incident", t("board.key.new"), id="board.new"),
        Binding("c", "contacts", t("board.key.contacts"), id="board.contacts"),
        Binding("x", "checks", t("board.key.checks"), id="board.checks"),
        Binding("w", "warnings", t("board.key.warnings"), id="board.warnings"),
        Binding("a", "ack_alarm", t("board.key.ack"), id="board.ack"),
        Binding("space", "expand", t("board.key.expand"), id="board.expand", show=False),
        Binding("slash", "filter", t("board.key.filter"), id="board.filter"),
        Binding("escape", "clear_filter", t("board.key.clear_filter"), id="board.clear_filter", show=False),
        Binding("g", "goto", t("goto.key"), id="board.goto"),
        Binding("question_mark", "help", t("board.key.help"), id="board.help"),
        Binding("j", "cursor_down", t("board.key.down"), id="board.down", show=False),
        Binding("k", "cursor_up", t("board.key.up"), id="board.up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._data = vm.BoardData()
        self._rows: list[vm.BoardRow] = []
        self._columns: list[str] = []
        self._title_width = 0
        self._due_width = 0
        self._expanded: set[int] = set()
        self._query = ""
        self._version: tuple | None = None
        self._dirty = True
        self._last_full = 0.0
        self._fired: set = set()
        self._pending: list = []
        self._notices: dict = {}        # alarm → the notice shown on another screen (dropped once not owed)
        self._who: dict = {}
        self._rang: set = set()
        self._firing = False
        self._reading = False
        self._texts: dict[str, str] = {}
        self._here: dict[int, str] = {}     # incident id -> "@王丽✎": who else has it open
        # What the tick may skip: (computed at, valid until) per row, for the counts, for alarms.
        self._row_valid: dict[str, tuple] = {}
        self._counts = vm.Counts(0, 0, 0)
        self._counts_valid: tuple | None = None
        self._alarms_quiet: tuple | None = None
        self._awaiting_start = False
        self.ready_at: float | None = None     # monotonic time the first rows were on screen (bench)
        self.reads = 0                          # re-reads applied (tests, bench)
        self._read_numbers = itertools.count(1)
        self._applied_seq = 0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="board-header"):
            yield Static("", id="board-school")
            yield Static("", id="board-clock")
        yield Static("", id="board-counts")
        yield Vertical(id="board-banners")
        yield Input(placeholder=t("board.filter_placeholder"), id="board-filter")
        # CellTable: a countdown changing repaints its cell, not the whole table (tui/widgets/cell_table.py)
        yield CellTable(id="board-table", cursor_type="row", zebra_stripes=False)
        yield Static("", id="board-empty")
        yield Static("", id="board-alarm")
        yield Static("", id="board-status")
        yield NoticeRoom()     # notices show here, never over the table or the alarm
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> DataTable:
        return self.query_one("#board-table", DataTable)

    def on_mount(self) -> None:
        app = self.app
        self.query_one("#board-filter").display = False
        self.query_one("#board-alarm").display = False
        self.query_one("#board-status").display = False
        self._setup_columns(self.size.width or app.size.width)
        if getattr(app, "started", True):
            self._first_read()
        else:
            # The app's very first screen: until Textual's start-up batch ends nothing reaches the
            # terminal, yet every refresh meanwhile renders the table (three times, ~25 ms each
            # with rows). So the rows come when the app is ready (DutyApp.on_ready).
            self._awaiting_start = True
        self.watch(app, "locked", self._locked_changed, init=False)
        self.set_interval(1.0, self.tick, name="board-tick")
        self.set_interval(PRESENCE_EVERY_S, self._presence_tick, name="board-presence")
        self.set_interval(POLL_S, self._poll_changes, name="board-poll")
        self.table.focus()

    def app_started(self) -> None:
        if self._awaiting_start:
            self._awaiting_start = False
            self._first_read()

    def _first_read(self) -> None:
        """Rows and alarms before the first paint (~15 ms for 200 open incidents); the banners,
        whose providers import much of the prevention and backup code (~40 ms the first time),
        follow from a worker once the rows are on screen (issue 4, first paint)."""
        self._version = self._data_version()
        try:
            self._apply(self._read(self.app.clock.now(), banners=False))
        except DomainError as exc:
            self._set_status(t("board.db_busy", detail=exc.message))
            self._dirty = True
            return
        self._last_full = time.monotonic()
        self.call_after_refresh(self.reload)

    def on_unmount(self) -> None:
        self.app.store.feed.forget(self)

    def _presence_tick(self) -> None:
        """This session's heartbeat while the board is in front; others' marks on their incidents' rows."""
        p = app_presence(self.app)
        if p is None or getattr(self.app, "actor", None) is None:
            return
        if self.app.screen is self:
            p.beat(self.app.actor, "board")
        here = {iid: mark(hs) for iid, hs in p.by_incident().items()}
        if here != self._here:
            self._here = here
            self._row_valid.clear()      # those rows' titles change: look at every row once
            self._sync_rows(self._rows, self.app.clock.now(), self._cursor_key(), structural=False)

    def on_resize(self) -> None:
        self._setup_columns(self.size.width)

    def _setup_columns(self, width: int) -> None:
        widths = vm.column_widths(set(self._data.stage_names.values()),
                                  [i.code for i in self._data.incidents],
                                  vm.due_texts(vm.build_rows(self._data, self._expanded, self._query, self.app.locked),
                                               self.app.clock.now(), self.app.settings.zone))
        shown, title_w = vm.layout(width, widths)
        if shown == self._columns and title_w == self._title_width and widths["due"] == self._due_width:
            return
        self._due_width = widths["due"]
        table = self.table
        cursor = self._cursor_key()
        table.clear(columns=True)
        self._columns, self._title_width = shown, title_w
        for col in shown:
            table.add_column(t(vm.COLUMN_LABEL[col]), key=col, width=title_w if col == "title" else widths[col])
        if self._rows:
            self._sync_rows(self._rows, self.app.clock.now(), cursor)

    # ------------------------------------------------------------------ reading

    def _data_version(self) -> tuple | None:
        """The change feed's token: moves after any commit, this process's own included."""
        return self.app.store.feed.token()

    def _read(self, now, banners: bool = True) -> ReadResult:
        """Everything from the database in one go; runs in a worker thread after the first time.
        Without ``banners`` the result carries ``None`` and the board keeps the banners it shows."""
        app = self.app
        ctx = app.ctx
        seq = next(self._read_numbers)
        data = vm.snapshot(ctx, now)
        ids = [i.id for i in data.incidents]
        with ctx.store.read():
            fired = alarm_model.fired_keys(ids)
            # Only alarms of obligations still owed ask to be acknowledged (issue 12).
            pending = alarm_model.pending(ids, {(o.incident_id, o.regime, o.stage, o.seq)
                                                for o in data.open_obligations()})
            who = {p.obligation: alarm_model.who_to_call(ctx, p.incident_id, p.regime, p.stage)
                   for p in pending}
        if not banners:
            return ReadResult(seq, data, None, "", fired, pending, who)
        found: list[Banner] = []
        banner_error = ""
        try:
            with ctx.store.read():
                found = collect(ctx, now)
        except DomainError:
            raise
        except Exception as exc:  # another feature's provider failed: say so, keep the board
            banner_error = t("board.banner_failed", detail=f"{type(exc).__name__}: {exc}")
        return ReadResult(seq, data, found, banner_error, fired, pending, who)

    def _poll_changes(self) -> None:
        """Any commit (another session's or this one's) reaches this board within ``POLL_S``, not at
        the next tick: the change feed costs microseconds; the read itself runs only when it moved."""
        if self._reading:
            return
        version = self._data_version()
        if version is not None and version != self._version:
            self._version = version
            self._dirty = False
            self._last_full = time.monotonic()
            self.reload()

    def reload(self) -> None:
        """Re-read in a worker; one at a time (a change meanwhile is picked up by the next tick)."""
        if self._reading:
            self._dirty = True
            return
        self._reading = True
        self._reload()

    @work(thread=True, group="board-read", exit_on_error=False)
    def _reload(self) -> None:
        try:
            result = self._read(self.app.clock.now())
        except DomainError as exc:
            self.app.call_from_thread(self._read_failed, exc.message)
            return
        except BaseException:
            self.app.call_from_thread(self._read_done)
            raise
        self.app.call_from_thread(self._read_applied, result)

    def _read_done(self) -> None:
        self._reading = False

    def _read_applied(self, result: ReadResult) -> None:
        self._reading = False
        self._apply(result)

    def _read_failed(self, message: str) -> None:
        self._reading = False
        self._dirty = True
        self._set_status(t("board.db_busy", detail=message))

    # ------------------------------------------------------------------ the one-second tick

    def tick(self) -> None:
        now = self.app.clock.now()
        version = self._data_version()
        if version is None:
            self._dirty = True
        elif (version != self._version or self._dirty
              or time.monotonic() - self._last_full >= FULL_REREAD_S):
            self._version = version
            self._dirty = False
            self._last_full = time.monotonic()
            self.reload()
        self._refresh_time(now)
        self._check_alarms(now)

    def _refresh_time(self, now) -> None:
        """Countdowns, clock and counts from cached data; only changed text is redrawn, and only
        rows whose text can have changed since the last tick are looked at (``vm.next_change``)."""
        self._sync_rows(self._rows, now, self._cursor_key(), structural=False)
        self._update_header(now, timed=True)
        self._update_alarm(now)

    def _still_valid(self, until: tuple | None, now) -> bool:
        """``until`` = (computed at, valid until): also False when the clock went back."""
        return until is not None and until[0] <= now < until[1]

    # ------------------------------------------------------------------ applying a read

    def _apply(self, result: ReadResult) -> None:
        # Workers can finish out of order (a re-read and an alarm's read): never go back in time,
        # or a row another session just added would vanish until the next change.
        if result.seq < self._applied_seq:
            return
        self._applied_seq = result.seq
        now = self.app.clock.now()
        self._data = result.data
        self._alarms_quiet = None           # new data, new deadlines: check again on the next tick
        self._fired = set(result.fired)
        self._pending = list(result.pending)
        self._who = dict(result.who)
        self.reads += 1
        self._set_status("")
        self._setup_columns(self.size.width or self.app.size.width)
        self._rebuild(now)
        if result.banners is not None:
            self._update_banners(result.banners, result.banner_error)
        self._update_header(now)
        self._update_alarm(now)
        self._drop_stale_notices()
        new = {p.obligation + (p.threshold,) for p in self._pending} - self._rang
        if new:
            self._rang |= new
            self.app.bell()
            if self.app.screen is not self:
                # The officer is on another screen: the notice there says what the board would.
                text = self._alarm_text(now)
                if text is not None:
                    self.app.notify(text.plain, severity="error", timeout=30)
                    self._notices[self._pending[0].obligation] = text.plain
        if self.ready_at is None:
            self.ready_at = time.monotonic()

    def _drop_stale_notices(self) -> None:
        """An alarm's notice on another screen goes as soon as its obligation is met or no longer
        owed: it must not keep asking for a report that was just sent (rule 3)."""
        notices = self._notices
        owed = {p.obligation for p in self._pending}
        for key in [k for k in notices if k not in owed]:
            message = notices.pop(key)
            for note in [n for n in self.app._notifications if n.message == message]:
                self.app._unnotify(note)

    def _rebuild(self, now) -> None:
        rows = vm.build_rows(self._data, self._expanded, self._query, self.app.locked)
        if not self.table.synced and len(rows) > FIRST_PAINT_ROWS:
            # First paint: the rows a screen can show now, the rest a moment later. Measuring
            # 200 rows' cells would otherwise delay the first paint. A timer, not
            # call_after_refresh: while the app is still starting, Textual holds its output
            # in a batch, and the "refresh" after which the callback ran had drawn nothing.
            self._sync_rows(rows[:FIRST_PAINT_ROWS], now, None)
            self.set_timer(REST_ROWS_AFTER_S, lambda: self._rebuild(self.app.clock.now()))
            return
        self._sync_rows(rows, now, self._cursor_key())
        empty = self.query_one("#board-empty", Static)
        if rows:
            if empty.display:        # each update is a layout pass: a whole-screen repaint
                empty.update("")
                empty.display = False
        else:
            empty.display = True
            empty.update(t("board.no_match") if self._query else t("app.no_incidents"))

    def _cursor_key(self) -> str | None:
        return self.table.cursor_key()

    def _sync_rows(self, rows: list[vm.BoardRow], now, cursor: str | None, structural: bool = True) -> None:
        """The cells of each row whose text may have changed, then the table's keyed diff
        (``CellTable.sync_rows``: gone rows removed, changed cells updated, new rows added, the
        order and the cursor kept). The tick (not ``structural``) looks only at rows shown whose
        text can have changed since it last looked (``vm.next_change``)."""
        settings = self.app.settings
        zone = settings.zone
        locked = self.app.locked
        table = self.table
        wanted = []
        for row in rows:
            if not structural and (not table.shows(row.key)
                                   or self._still_valid(self._row_valid.get(row.key), now)):
                continue
            c = vm.cells(row, now, zone, settings.due_soon_minutes, settings.urgent_minutes, locked)
            here = self._here.get(row.incident.id) if not (row.sub or locked) else None
            if here:
                c.values["title"] = here + " " + c.values["title"]
            until = vm.next_change(row, now, settings.due_soon_minutes, settings.urgent_minutes)
            self._row_valid[row.key] = (now, until or FOREVER)
            if "due" in self._columns and vm.cell_width(c.values["due"]) > self._due_width:
                # Past midnight a deadline of today reads 昨 23:30: the column widens for it.
                self.call_later(lambda: self._setup_columns(self.size.width or self.app.size.width))
            wanted.append((row.key, {col: (c.values[col], self._style(col, row, c.level)) for col in self._columns}))
        if structural:
            keep = {r.key for r in rows}
            for key in [k for k in self._row_valid if k not in keep]:
                del self._row_valid[key]
            if bool(rows) != bool(self._rows):
                self.call_later(self.refresh_bindings)     # ⏎ 打开 dimmed while nothing is listed
            self._rows = rows
        table.sync_rows(wanted, self._make_cell, structural=structural, cursor=cursor)

    def _make_cell(self, col: str, value: tuple[str, str], key: str) -> Text:
        return self._cell(col, value[0], value[1], key)

    @staticmethod
    def _cell(col: str, text: str, style: str, key: str) -> Text:
        if col == "code":
            return Text(text, style=style)
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")

    @staticmethod
    def _style(col: str, row: vm.BoardRow, level: str | None) -> str:
        if col in ("left", "state") and level:
            return LEVEL_STYLE[level]
        if row.sub:
            return "dim"
        if col == "title" and row.incident.is_drill:
            return "italic"
        return ""

    # ------------------------------------------------------------------ header, banners, status

    def _set_text(self, selector: str, text: str | Text) -> None:
        """Update a Static only when its text changed: nothing is redrawn for nothing."""
        plain = text.plain if isinstance(text, Text) else text
        old = self._texts.get(selector)
        if old == plain:
            return
        self._texts[selector] = plain
        widget = self.query_one(selector, Static)
        # A layout pass repaints the whole screen (the table too, ~8 KB at 80×24): only when the
        # line's size can change — an auto-width line whose width changed, or more lines.
        from rich.cells import cell_len
        same = (old is not None and "\n" not in old and "\n" not in plain
                and cell_len(old) == cell_len(plain))
        widget.update(text if isinstance(text, Text) else Text(text), layout=not same)

    def _update_header(self, now, timed: bool = False) -> None:
        """``timed``: called by the tick, which may reuse the counts while time cannot change them."""
        app = self.app
        settings = app.settings
        school = settings.school_name or t("app.title")
        who = t("board.locked") if app.locked else t("board.user", user=app.actor.label)
        self._set_text("#board-school", f"{school} · {who}")
        self._set_text("#board-clock", fmt_local(now, settings.zone, with_zone=True, date=True)[5:])
        if not (timed and self._still_valid(self._counts_valid, now)):
            self._counts = vm.counts(self._data, now)
            self._counts_valid = (now, vm.counts_change(self._data, now) or FOREVER)
        n = self._counts
        line = Text()
        line.append(t("board.count_open", n=n.open_incidents))
        line.append(" │ ")
        line.append(t("board.count_overdue", n=n.overdue), style="bold reverse red" if n.overdue else "")
        line.append(" │ ")
        line.append(t("board.count_soon", n=n.due_within_hour), style="bold yellow" if n.due_within_hour else "")
        if self._query:
            line.append("   " + t("board.filter_on", query=self._query), style="italic")
        self._set_text("#board-counts", line)

    def _update_banners(self, banners: list[Banner], error: str) -> None:
        box = self.query_one("#board-banners", Vertical)
        lines = [(b.key, b.text, BANNER_STYLE.get(b.level, "")) for b in banners]
        if error:
            lines.append(("banner-error", error, "bold"))
        signature = repr(lines)
        if self._texts.get("#board-banners") == signature:
            return
        self._texts["#board-banners"] = signature
        box.remove_children()
        box.mount_all([Static(Text(text, style=style, no_wrap=True, overflow="ellipsis"),
                              classes="board-banner") for _, text, style in lines])
        box.display = bool(lines)

    def _set_status(self, message: str) -> None:
        status = self.query_one("#board-status", Static)
        status.display = bool(message)
        self._set_text("#board-status", message)

    # ------------------------------------------------------------------ alarms

    def _check_alarms(self, now) -> None:
        if self._firing or self._still_valid(self._alarms_quiet, now):
            return
        thresholds = self.app.settings.alarm_minutes
        due = alarm_model.due_alarms(self._data.open_obligations(), self._fired, thresholds, now)
        if due:
            self._alarms_quiet = None
            self._firing = True
            self._fire(due, now)
            return
        # Nothing to fire: nothing will be until the next threshold, unless a read changes the data.
        after = alarm_model.next_alarm_at(self._data.open_obligations(), self._fired, thresholds, now)
        self._alarms_quiet = (now, after or FOREVER)

    @work(thread=True, group="board-alarm", exit_on_error=False)
    def _fire(self, keys, now) -> None:
        try:
            alarm_model.fire(self.app.ctx, keys, now)
            result = self._read(self.app.clock.now())
        except DomainError as exc:
            self.app.call_from_thread(self._fire_failed, exc.message)
            return
        self.app.call_from_thread(self._fired_ok, result)

    def _fire_failed(self, message: str) -> None:
        self._firing = False
        self._set_status(t("board.db_busy", detail=message))

    def _fired_ok(self, result: ReadResult) -> None:
        self._firing = False
        self._apply(result)

    def _alarm_text(self, now) -> Text | None:
        if not self._pending:
            return None
        alarm = self._pending[0]
        inc = next((i for i in self._data.incidents if i.id == alarm.incident_id), None)
        ob = next((o for o in self._data.obligations.get(alarm.incident_id, [])
                   if (o.regime, o.stage, o.seq) == alarm.obligation[1:]), None)
        if inc is None:
            return None
        locked = self.app.locked
        title = "" if locked else " " + inc.title.replace("\n", " ")
        if inc.is_drill:
            title = f" [{t('board.drill')}]" + title
        stage = self._data.stage_names.get(alarm.obligation[1:], alarm.stage)
        left = vm.seconds_left(ob, now)
        if left is None:
            when = t("state.met")
        elif left < 0:
            when = vm.countdown_at(ob.due_at, now)
        else:
            when = t("board.alarm_left", left=vm.countdown_at(ob.due_at, now))
        who = vm.MASK if locked else (self._who.get(alarm.obligation) or "—")
        text = t("board.alarm", code=inc.code, title=title, stage=stage, left=when, who=who)
        text += " · " + t("board.alarm_ack_hint")
        if len(self._pending) > 1:
            text += " " + t("board.alarm_more", n=len(self._pending) - 1)
        return Text(text, style="bold reverse")

    def _update_alarm(self, now) -> None:
        panel = self.query_one("#board-alarm", Static)
        text = self._alarm_text(now)
        if (text is not None) != panel.display:
            panel.display = text is not None
            self._texts.pop("#board-alarm", None)
            self.refresh_bindings()          # the acknowledge key shows only while an alarm does
        if text is not None:
            self._set_text("#board-alarm", text)

    def action_ack_alarm(self) -> None:
        if self._pending:
            self._ack(self._pending[0])

    @work(thread=True, group="board-alarm-ack", exit_on_error=False)
    def _ack(self, alarm) -> None:
        try:
            alarm_model.acknowledge(self.app.ctx, alarm.incident_id, alarm.regime, alarm.stage, alarm.seq)
            result = self._read(self.app.clock.now())
        except DomainError as exc:
            self.app.call_from_thread(self._set_status, t("board.db_busy", detail=exc.message))
            return
        self.app.call_from_thread(self._apply, result)

    # ------------------------------------------------------------------ keys

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "open_incident":
            # Enter in the filter box confirms the filter instead; with no incident listed, ⏎ 打开 is dimmed.
            return False if isinstance(self.focused, Input) else (True if self._rows else None)
        if action == "ack_alarm" and not self._pending:
            return False
        return super().check_action(action, parameters)   # RoleKeys: dimmed for a viewer

    def _selected_row(self) -> vm.BoardRow | None:
        key = self._cursor_key()
        return next((r for r in self._rows if r.key == key), None)

    def _selected_incident(self) -> int | None:
        row = self._selected_row()
        return row.incident.id if row else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_incident()

    def action_open_incident(self) -> None:
        inc = self._selected_incident()
        if inc is not None:
            self.app.open_screen("incident", inc)

    def action_new_incident(self) -> None:
        self.app.open_screen("new_incident")

    def action_contacts(self) -> None:
        self.app.open_screen("contacts", self._selected_incident())

    def action_checks(self) -> None:
        self.app.open_screen("checks")

    def action_warnings(self) -> None:
        self.app.open_screen("warnings")

    def action_goto(self) -> None:
        """Statistics, history, drills, backups, accounts, registry accounts, the ledger (screens/goto.py)."""
        self.app.open_screen("goto")

    def action_help(self) -> None:
        self.app.open_screen("help", self)

    def action_cursor_down(self) -> None:
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        self.table.action_cursor_up()

    def action_expand(self) -> None:
        inc = self._selected_incident()
        if inc is None:
            return
        self._expanded ^= {inc}
        self._rebuild(self.app.clock.now())

    def action_filter(self) -> None:
        box = self.query_one("#board-filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#board-filter", Input)
        if not box.display and not self._query:
            return
        box.value = ""
        box.display = False
        self._query = ""
        self._rebuild(self.app.clock.now())
        self._update_header(self.app.clock.now())
        self.table.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "board-filter":
            self._query = event.value
            now = self.app.clock.now()
            self._rebuild(now)
            self._update_header(now)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "board-filter":
            if not event.value:
                event.input.display = False
            self.table.focus()

    def _locked_changed(self, _locked: bool) -> None:
        now = self.app.clock.now()
        self._rebuild(now)
        self._update_header(now)
        self._update_alarm(now)


SCREEN = BoardScreen


def mark(here) -> str:
    """``@王丽✎``: who else has the incident open, ✎ while typing (names only, at most two)."""
    names = []
    for h in here[:2]:
        names.append("@" + h.name + ("✎" if h.typing else ""))
    if len(here) > 2:
        names.append(f"+{len(here) - 2}")
    return "".join(names)
