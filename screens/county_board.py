"""The county board (issue 19 item 3): every school's open incidents, most urgent first.

It renders ``models.county.board``; it decides nothing and builds no SQL. What drives it:
- a listener thread (``board.start_listener``: ``LISTEN xj_county``) pokes the screen when a
  school's change reaches the server; a worker re-reads over its own connection (one read at a
  time; a poke meanwhile brings one more read after it), so a change shows within a read's time;
- every second the countdowns, states and the order are recomputed from the cached read (no
  server access) and only cells whose text changed are redrawn (``CellTable``);
- every ``FALLBACK_S`` a full re-read anyway, should a notification ever be lost.
When the server cannot be reached the link line says so (and since when the rows are), the
rows stay, and both the reader and the listener keep retrying: never a traceback.

``CountyApp`` runs it on its own for ``xueji-duty county board``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from models import board as school_board
from models.county import board as vm
from models.errors import DomainError
from models.i18n import t
from models.timeparse import fmt_local, fmt_when
from tui.palette import BindingCommands
from tui.widgets.cell_table import CellTable
from tui.widgets.notice_room import NoticeRoom

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FALLBACK_S = 60.0        # a full re-read even without a notification
RETRY_S = 2.0            # while the server is away, the reader tries again this often
FIRST_ROWS = 40          # the first paint: a screenful (and some); the rest in chunks, keys served between
CHUNK_ROWS = 250
WINDOW_MARGIN = 5        # rows kept up to date above and below the view
CHUNK_AFTER_S = 0.01
FOREVER = datetime.max.replace(tzinfo=timezone.utc)
TITLE_MIN = 14
PADDING = 2
CHROME = 2

COLUMNS = ("school", "code", "title", "grade", "stage", "due", "left", "state")
DROP_ORDER = ("due", "grade", "stage")
LABEL = {"school": "county.board.col.school", "code": "col.code", "title": "col.title",
         "grade": "board.col.grade", "stage": "county.board.col.next", "due": "col.due",
         "left": "col.left", "state": "col.state"}
LEVEL_STYLE = {"normal": "", "due_soon": "bold yellow", "urgent": "bold red", "overdue": "bold red",
               "late": "bold reverse red"}
SCHOOL_COLUMNS = (("school", "county.board.col.school", 6), ("name", "county.board.col.name", 10),
                  ("open", "county.board.col.open", 4), ("overdue", "county.board.col.overdue", 8),
                  ("drills", "county.board.col.drills", 4))


class FixedTable(CellTable):
    """Every column has a fixed width and every row one line: nothing to measure. Textual's
    DataTable measures each new cell (to size auto-width columns), ~0.2 ms a cell: 14,000 cells
    of 2,000 rows held the first screen for a second."""

    def _update_dimensions(self, new_rows) -> None:
        if any(c.auto_width for c in self.columns.values()) or any(
                self.rows[k].auto_height for k in new_rows if k in self.rows):
            super()._update_dimensions(new_rows)
            return
        from textual.geometry import Size
        width = sum(c.get_render_width(self) for c in self.columns.values()) + self._row_label_column_width
        self.virtual_size = Size(width, self._total_row_height + (self.header_height if self.show_header else 0))


def cell_texts(row: vm.Row, now: datetime, zone) -> tuple[dict[str, str], str | None]:
    """Every column's text for one row at ``now``, and its level (``late``: overdue statutory)."""
    inc, nxt = row.incident, row.next
    title = inc.title.replace("\n", " ")
    if inc.is_drill:
        title = f"[{t('board.drill')}] {title}"
    grade = "—" if not inc.grade else (inc.grade if inc.grade_decided else inc.grade + "?")
    if nxt is None:
        return ({"school": inc.school, "code": inc.code, "title": title, "grade": grade, "stage": "",
                 "due": "—", "left": "", "state": t("board.nothing_due")}, None)
    left = (nxt.due_at - now).total_seconds()
    level = "late" if row.overdue else school_board.level(left)
    state = t("county.board.state.late") if level == "late" else t(school_board.LEVEL_WORD[level])
    return ({"school": inc.school, "code": inc.code, "title": title, "grade": grade,
             "stage": stage_short(nxt),
             "due": school_board.fmt_due(nxt.due_at, now, zone),
             "left": school_board.countdown_at(nxt.due_at, now),
             "state": state}, level)


def stage_short(ob: vm.Owed) -> str:
    """The stage's short name for the table (``首报``, ``First report``): the catalogue's short form,
    else its name; the line under the table gives the full name."""
    name = vm.stage_name(ob.regime, ob.stage, 1)
    number = str(ob.seq) if ob.seq > 1 and vm.stage_name(ob.regime, ob.stage, ob.seq) != name else ""
    return t(f"stage_short.{ob.regime}.{ob.stage}", default=name) + number


def valid_until(row: vm.Row, now: datetime, zone) -> datetime:
    """Until when ``cell_texts(row, …)`` reads the same (``now``: it changes every second).
    The edges of ``countdown_at`` (the next minute, the last ten minutes), of ``level`` (an hour
    and a quarter before the deadline, the deadline) and of ``fmt_when`` (local midnight)."""
    if row.next is None:
        return FOREVER
    due = row.next.due_at
    left = (due - now).total_seconds()
    if 0 <= left <= 600:
        return now
    local = now.astimezone(zone)
    midnight = (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(timezone.utc)
    edges = (now.replace(second=0, microsecond=0) + timedelta(minutes=1), due - timedelta(minutes=60),
             due - timedelta(minutes=15), due - timedelta(seconds=600), due, midnight)
    return min((e for e in edges if e > now), default=FOREVER)


def column_widths(rows: list[vm.Row], now: datetime, zone) -> dict[str, int]:
    """Fixed widths for every column but the title, from the distinct values shown (2,000 rows
    have a few dozen distinct codes' lengths and stage names)."""
    cw = school_board.cell_width
    words = [t("county.board.state.late"), t("board.nothing_due"),
             *(t(k) for k in school_board.LEVEL_WORD.values())]
    schools = {r.incident.school for r in rows}
    codes = {r.incident.code for r in rows}
    stages = {(r.next.regime, r.next.stage, r.next.seq) for r in rows if r.next}
    widths = {"school": max([cw(c) for c in schools] + [4]),
              "code": max([cw(c) for c in codes] + [6]), "title": TITLE_MIN, "grade": 4,
              "stage": max([cw(stage_short(vm.Owed(r, st, q, now, False))) for r, st, q in stages] + [6]),
              "due": school_board.due_width(),
              "left": max(cw(school_board.countdown_text(-3600 * 47)), 9),
              "state": max(cw(w) for w in words)}
    return {col: max(w, cw(t(LABEL[col]))) for col, w in widths.items()}


def layout(width: int, widths: dict[str, int]) -> tuple[list[str], int]:
    """The columns that fit ``width`` and the title's width; drops columns in ``DROP_ORDER``."""
    shown = list(COLUMNS)

    def room() -> int:
        return width - CHROME - sum(widths[c] + PADDING for c in shown if c != "title") - PADDING

    for name in DROP_ORDER:
        if room() >= TITLE_MIN:
            break
        shown.remove(name)
    return shown, max(room(), 6)


class CountyBoardScreen(Screen):
    CSS_PATH = [ASSETS / "tcss" / "county_board.tcss"]
    COMMANDS = {BindingCommands}
    BINDINGS = [
        Binding("d", "toggle_drills", t("county.board.key.drills"), id="county_board.drills"),
        Binding("s", "toggle_schools", t("county.board.key.schools"), id="county_board.schools"),
        Binding("r", "reload", t("county.board.key.reload"), id="county_board.reload"),
        Binding("a", "sign", t("county.sign.key"), id="county_board.sign"),
        Binding("question_mark", "help", t("board.key.help"), id="county_board.help"),
        Binding("j", "cursor_down", t("board.key.down"), id="county_board.down", show=False),
        Binding("k", "cursor_up", t("board.key.up"), id="county_board.up", show=False),
    ]

    def __init__(self, url: str, drills: bool = True) -> None:
        super().__init__()
        self.url = url
        self.drills = drills
        self.by_school = False
        self._data: vm.CountyData | None = None
        self._rows: list[vm.Row] = []
        self._columns: list[str] = []
        self._title_width = 0
        self._texts: dict[str, str] = {}
        self._conn = None
        self._conn_lock = threading.Lock()
        self._io_lock = threading.Lock()         # one use of the connection at a time (read, sign)
        self._sent: dict = {}                    # row key -> submitted reports and their receipts
        self._signing = False
        self._reading = False
        self._want_all = True
        self._want: set[str] = set()
        self._valid: dict[str, tuple] = {}      # row key -> (incident, (next, overdue), valid until)
        self._order_until: datetime | None = None
        self._limit: int | None = None          # the first paint: rows shown so far
        self._window_until: datetime | None = None   # nothing in view changes before this
        self._counts_cache: tuple | None = None
        self._removed_key: tuple | None = None
        self._link_ok: bool | None = None        # None: not known yet
        self._link_detail = ""
        self._read_wall: datetime | None = None
        self._last_read = time.monotonic()
        self._stop = None
        self._schools_sig = None
        self._widths: dict = {}
        self.ready_at: float | None = None       # monotonic: the first screenful of rows shown (bench)
        self.complete_at: float | None = None    # monotonic: every row in the table (bench)
        self.mounted_at: float | None = None
        self.first_read_s: float | None = None   # the first read's own time (bench)
        self.applied_at: float = 0.0             # monotonic: the last read applied (tests, bench)
        self.reads = 0

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="county-header"):
            yield Static("", id="county-title")
            yield Static("", id="county-clock")
        yield Static("", id="county-counts")
        yield Static("", id="county-link")
        yield Static("", id="county-removed")
        yield FixedTable(id="county-table", cursor_type="row", zebra_stripes=False)
        yield CellTable(id="county-schools", cursor_type="row", zebra_stripes=False)
        yield Static("", id="county-empty")
        yield Static("", id="county-detail")
        yield Static("", id="county-sent")
        yield NoticeRoom()
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> DataTable:
        return self.query_one("#county-table", DataTable)

    @property
    def schools_table(self) -> DataTable:
        return self.query_one("#county-schools", DataTable)

    def on_mount(self) -> None:
        self.mounted_at = time.monotonic()
        self.schools_table.display = False
        self.query_one("#county-empty").display = False
        self.query_one("#county-sent").display = False
        self.query_one("#county-removed").display = False
        self._fit_school_columns()
        self._update_header(self.app.clock.now())
        self._update_link()
        self.set_interval(1.0, self.tick, name="county-tick")
        self.watch(self.table, "scroll_y", self._scrolled, init=False)
        self.table.focus()
        from models.county.board import start_listener
        # The first read starts once the listener listens (its first callback), so no change can
        # fall between the read and the listening; the reader's own connection opens meanwhile.
        _thread, self._stop = start_listener(
            self.url, lambda school: self._from_thread(self.changed, school),
            on_state=lambda ok, detail: self._from_thread(self._listener_state, ok, detail))
        self._want_all = False
        self._prepare()

    @work(thread=True, group="county-connect", exit_on_error=False)
    def _prepare(self) -> None:
        try:
            self._connection()
        except Exception:  # noqa: BLE001 — the read will say why
            pass

    def on_unmount(self) -> None:
        if self._stop is not None:
            self._stop.set()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def _from_thread(self, fn, *args) -> None:
        try:
            self.app.call_from_thread(fn, *args)
        except Exception:  # noqa: BLE001 — the app is going away
            pass

    def on_resize(self) -> None:
        self._setup_columns(force=False)
        self._fit_school_columns()

    def _fit_school_columns(self) -> None:
        """The school's name takes what the counts leave (a name is never cut at 80 columns)."""
        from tui.widgets.columns import fit_columns
        fit_columns(self.schools_table, [(key, t(label), width) for key, label, width in SCHOOL_COLUMNS],
                    flex="name", room=self.size.width or self.app.size.width)

    def _setup_columns(self, force: bool) -> None:
        now = self.app.clock.now()
        widths = column_widths(self._rows, now, self.app.zone)
        shown, title_w = layout(self.size.width or self.app.size.width, widths)
        if not force and shown == self._columns and title_w == self._title_width and self._widths == widths:
            return
        table = self.table
        cursor = self._cursor_key()
        table.clear(columns=True)
        self._valid.clear()
        self._columns, self._title_width, self._widths = shown, title_w, widths
        for col in shown:
            table.add_column(t(LABEL[col]), key=col, width=title_w if col == "title" else widths[col])
        self._sync_rows(self._shown(self._rows), now, cursor)

    # ------------------------------------------------------------------ reading

    def changed(self, school: str | None) -> None:
        """A school's change reached the server (``None``: the listener (re)connected: read all)."""
        if self._data is not None and not self._data.concerns(school):
            return
        if school is None or self._data is None:
            self._want_all = True
        else:
            self._want.add(school)
        self.reload(full=False)

    def reload(self, full: bool = True) -> None:
        """Re-read in a worker, one read at a time; what is asked meanwhile is read right after."""
        if full:
            self._want_all = True
        if self._reading:
            return
        if not self._want_all and not self._want:
            return
        schools = None if self._want_all or self._data is None else sorted(self._want)
        self._want_all, self._want = False, set()
        self._reading = True
        self._read(schools)

    def _connection(self):
        with self._conn_lock:
            if self._conn is None or self._conn.closed:
                from models.county import schema
                self._conn = schema.connect(self.url, autocommit=True)
            return self._conn

    @work(thread=True, group="county-read", exit_on_error=False)
    def _read(self, schools: list[str] | None) -> None:
        try:
            conn = self._connection()
            started = time.monotonic()
            from models.county.signing import sent_reports
            with self._io_lock:
                data = vm.read(conn, schools)
                sent = sent_reports(conn, schools)
            if self.first_read_s is None:
                self.first_read_s = time.monotonic() - started
        except DomainError as exc:
            self._drop_connection()
            self._from_thread(self._read_failed, exc.message, schools)
            return
        except Exception as exc:  # noqa: BLE001 — whatever it is, a line, never a traceback
            self._drop_connection()
            self._from_thread(self._read_failed, f"{type(exc).__name__}: {exc}", schools)
            return
        self._from_thread(self._read_applied, data, schools, sent)

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass

    def _read_failed(self, message: str, schools: list[str] | None) -> None:
        self._reading = False
        self._last_read = time.monotonic()
        self._link_ok, self._link_detail = False, message
        if schools is None:
            self._want_all = True
        else:
            self._want.update(schools)      # read again once the server answers
        self._update_link()

    def _read_applied(self, data: vm.CountyData, schools: list[str] | None, sent: dict | None = None) -> None:
        self._reading = False
        bureau_before = self._data is not None and self._data.own_school is None
        if schools is not None and self._data is not None:
            data = vm.merge(self._data, data, schools)
            gone = set(schools)
            self._sent = {k: v for k, v in self._sent.items() if k.split("/", 1)[0] not in gone}
            self._sent.update(sent or {})
        else:
            self._last_read = time.monotonic()      # the fallback counts from the last full read
            self._sent = dict(sent or {})
        self._data = data
        if bureau_before != (data.own_school is None):
            self.refresh_bindings()                 # the sign key: the bureau's login only
        self._read_wall = self.app.clock.now()
        self._link_ok, self._link_detail = True, ""
        self.reads += 1
        self._order_until = None
        self._rebuild(structural=True)
        self.applied_at = time.monotonic()
        self._update_link()
        self.reload(full=False)

    def _listener_state(self, ok: bool, detail: str) -> None:
        if not ok:
            self._link_ok, self._link_detail = False, detail
            self._update_link()
        # Back up: the listener's callback(None) brings a read, which marks the link good.

    def tick(self) -> None:
        now = self.app.clock.now()
        since = time.monotonic() - self._last_read
        if not self._reading and (since >= FALLBACK_S or (self._link_ok is False and since >= RETRY_S)):
            self.reload()
        self._rebuild(structural=False)
        self._update_header(now)
        self._update_removed(now)        # "today 18:30" reads as a date after midnight

    # ------------------------------------------------------------------ rows

    def _rebuild(self, structural: bool) -> None:
        now = self.app.clock.now()
        if self._data is None:
            return
        reorder = structural or self._order_until is None or now > self._order_until
        if reorder:
            rows = vm.rows(self._data, now, drills=self.drills)
            until = vm.next_change(self._data, now)
            self._order_until = until or FOREVER        # the order moves once now > a statutory due
            order_changed = [r.key for r in rows] != [r.key for r in self._rows]
            self._rows = rows
        else:
            rows, order_changed = self._rows, False
            if self._window_until is not None and now < self._window_until:
                self._after_rows(now)
                return
        if structural:
            widths = column_widths(rows, now, self.app.zone)
            if widths != self._widths:
                self._setup_columns(force=True)
                self._after_rows(now)
                return
        self._sync_rows(self._shown(rows), now, self._cursor_key(), structural=structural or order_changed)
        self._after_rows(now)

    def _scrolled(self, _y: float) -> None:
        self._window_until = None
        self._rebuild(structural=False)

    def _shown(self, rows: list[vm.Row]) -> list[vm.Row]:
        return rows if self._limit is None else rows[:self._limit]

    def _grow(self) -> None:
        """The first paint's rest: CHUNK_ROWS more rows at a time, so a key is never held long."""
        if self._limit is None:
            return
        self._limit += CHUNK_ROWS
        if self._limit >= len(self._rows):
            self._limit = None
        else:
            self.set_timer(CHUNK_AFTER_S, self._grow)
        # The same read and order: only the next rows go in (a new read re-ranks as usual).
        self._sync_rows(self._shown(self._rows), self.app.clock.now(), self._cursor_key())

    def _after_rows(self, now) -> None:
        empty = self.query_one("#county-empty", Static)
        show_empty = not self._rows and not self.by_school
        if empty.display != show_empty:
            empty.display = show_empty
        if show_empty:
            self._set_text("#county-empty", t("county.board.none_open"))
        self._update_header(now)
        self._update_removed(now)
        self._update_detail(now)
        if self.by_school:
            self._fill_schools(now)

    def _update_removed(self, now) -> None:
        """One line over the table when the county holds incidents a school's record no longer
        has (a restore from a backup took them away, or ``county sync --all`` found them gone):
        how many, of which school, why and when (``撤下 2 起（不再应报）：S001 海峰中学 2 起 恢复备份
        18:30``); hidden when there are none. They are never rows (nothing is owed for them), so
        without it they would just drop off the board. It follows each read (NOTIFY) as the rows do."""
        removed = self._data.removed if self._data is not None else []
        line = self.query_one("#county-removed", Static)
        if line.display != bool(removed):
            line.display = bool(removed)
        if not removed:
            return
        zone = self.app.zone
        room = (self.size.width or self.app.size.width) - 2
        key = (id(self._data), now.astimezone(zone).date(), room)
        if self._removed_key == key:
            return                           # the same read, day and width: the same words
        self._removed_key = key
        groups = vm.removed_groups(removed)
        head = t("county2.removed.head", n=len(removed))

        def text(names: bool) -> str:
            parts = []
            for g in groups:
                who = f"{g.school} {g.school_name}" if names and g.school_name else g.school
                parts.append(t("county2.removed.group", school=who, n=g.count,
                               why=t("county2.removed.why." + ("resync" if g.reason == "resync" else "restore")),
                               when=fmt_when(g.latest, zone, now, with_zone=False)))
            return head + t("county2.removed.sep").join(parts)

        words = text(names=True)
        if school_board.cell_width(words) > room:
            words = text(names=False)        # the codes: every group's count and time first
        self._set_text("#county-removed", Text(words, style="italic", no_wrap=True, overflow="ellipsis"))

    def _cursor_key(self) -> str | None:
        return self.table.cursor_key()

    def _sync_rows(self, rows: list[vm.Row], now, cursor: str | None, structural: bool = True) -> None:
        """The cells of the rows that may have changed, then the table's keyed diff
        (``CellTable.sync_rows``: gone rows removed, changed cells updated, new rows added, the
        order and the cursor kept).

        A row is looked at only when its incident changed (a new read of its school) or time may
        have changed its text (``valid_until``); the first paint adds a screenful of rows and the
        rest a moment later, so 2,000 rows do not hold up the first screen."""
        table = self.table
        zone = self.app.zone
        if structural and not table.synced and self._limit is None and len(rows) > FIRST_ROWS:
            self._limit = FIRST_ROWS
            rows = rows[:FIRST_ROWS]
            self.set_timer(CHUNK_AFTER_S, self._grow)
        valid = self._valid
        # Only the rows in view (and a few either side) are kept up to date; a row scrolled into
        # view is brought up to date then (``_scrolled``). At a minute boundary every countdown
        # moves: 2,000 rows' cells recomputed and repainted held the screen for over a second.
        top = int(table.scroll_y)
        lo, hi = max(0, top - WINDOW_MARGIN), top + max(table.size.height, 24) + WINDOW_MARGIN
        if structural:
            keep = {r.key for r in rows}
            for key in [k for k in valid if k not in keep]:
                del valid[key]
        indexes = range(len(rows)) if structural else range(lo, min(hi, len(rows)))
        until = FOREVER
        wanted: list[tuple[str, dict | None]] = []
        for index in indexes:
            row = rows[index]
            shown = table.shows(row.key)
            in_view = lo <= index < hi
            seen = valid.get(row.key)
            if not shown and not structural:
                continue
            if shown and (not in_view or (seen is not None and seen[0] is row.incident
                                          and seen[1] == (row.next, row.overdue) and seen[2] > now)):
                if in_view:
                    until = min(until, seen[2])
                wanted.append((row.key, None))          # as it is: nothing in it changed
                continue
            texts, level = cell_texts(row, now, zone)
            wanted.append((row.key, {col: (texts[col], self._style(col, row, level)) for col in self._columns}))
            valid[row.key] = (row.incident, (row.next, row.overdue), valid_until(row, now, zone))
            if in_view:
                until = min(until, valid[row.key][2])
        self._window_until = until
        table.sync_rows(wanted, self._make_cell, structural=structural, cursor=cursor)
        if structural and self._data is not None:
            if self.ready_at is None:
                self.ready_at = time.monotonic()
            if self.complete_at is None and self._limit is None and len(table.synced) == len(self._rows):
                self.complete_at = time.monotonic()

    def _make_cell(self, col: str, value: tuple[str, str], key: str) -> Text:
        return self._cell(col, value[0], value[1], key)

    @staticmethod
    def _cell(col: str, text: str, style: str, key: str) -> Text:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")

    @staticmethod
    def _style(col: str, row: vm.Row, level: str | None) -> str:
        if col in ("left", "state") and level:
            return LEVEL_STYLE[level]
        if col == "title" and row.incident.is_drill:
            return "italic"
        return ""

    def _fill_schools(self, now) -> None:
        counts = vm.counts(self._data, now, drills=self.drills) if self._data else []
        counts.sort(key=lambda c: (-c.overdue, -c.open, c.school))
        sig = repr(counts)
        if sig == self._schools_sig:
            return
        self._schools_sig = sig
        table = self.schools_table
        cursor = table.cursor_row
        table.clear()
        for c in counts:
            late = "bold reverse red" if c.overdue else ""
            table.add_row(Text(c.school), Text(c.name, no_wrap=True, overflow="ellipsis"), Text(str(c.open)),
                          Text(str(c.overdue), style=late), Text(str(c.drills)), key=c.school)
        if counts:
            table.move_cursor(row=min(cursor, len(counts) - 1), scroll=False)

    # ------------------------------------------------------------------ lines

    def _set_text(self, selector: str, text: str | Text) -> None:
        plain = text.plain if isinstance(text, Text) else text
        if self._texts.get(selector) == plain:
            return
        self._texts[selector] = plain
        self.query_one(selector, Static).update(text if isinstance(text, Text) else Text(text))

    def _update_header(self, now) -> None:
        app = self.app
        schools = self._data.schools if self._data else []
        if self._data is None:
            scope = t("county.board.link.connecting") if self._link_ok is None else "—"
        elif len(schools) == 1:
            scope = t("county.board.one_school", school=schools[0][0], name=schools[0][1])
        else:
            scope = t("county.board.schools", n=len(schools))
        self._set_text("#county-title", t("county.board.title") + " · " + scope)
        self._set_text("#county-clock", fmt_local(now, app.zone, with_zone=True, date=True)[5:])
        open_, late, drills = self._totals(now)
        line = Text()
        line.append(t("county.board.count_open", n=open_))
        line.append(" │ ")
        line.append(t("county.board.count_late", n=late), style="bold reverse red" if late else "")
        line.append(" │ ")
        line.append(t("county.board.count_drills", n=drills) + " "
                    + t("county.board.drills_shown" if self.drills else "county.board.drills_hidden"),
                    style="" if self.drills else "italic")
        self._set_text("#county-counts", line)

    def _totals(self, now) -> tuple[int, int, int]:
        """Open incidents, overdue statutory reports and drills; kept until a read or a deadline."""
        if self._data is None:
            return 0, 0, 0
        key = (id(self._data), self.drills)
        cached = self._counts_cache
        if cached is not None and cached[0] == key and now <= cached[1]:
            return cached[2]
        counts = vm.counts(self._data, now, drills=self.drills)
        totals = (sum(c.open for c in counts), sum(c.overdue for c in counts),
                  sum(1 for i in self._data.incidents if i.is_drill))
        until = vm.next_change(self._data, now)
        self._counts_cache = (key, until or FOREVER, totals)     # a report is overdue once now > due
        return totals

    def _update_link(self) -> None:
        zone = self.app.zone
        now = self.app.clock.now()
        when = fmt_when(self._read_wall, zone, now, seconds=True) if self._read_wall else ""
        if self._link_ok is None:
            text = Text(t("county.board.link.connecting"))
        elif self._link_ok:
            text = Text(t("county.board.link.ok", when=when))
        else:
            key = "county.board.link.down_rows" if self._read_wall else "county.board.link.down"
            text = Text(t(key, detail=self._link_detail, when=when), style="bold reverse")
        self._set_text("#county-link", text)

    def _selected(self) -> vm.Row | None:
        key = self._cursor_key()
        return next((r for r in self._rows if r.key == key), None)

    def _update_detail(self, now) -> None:
        row = self._selected() if not self.by_school else None
        if row is None:
            self._set_text("#county-detail", "")
            self._update_sent(None, now)
            return
        inc, nxt = row.incident, row.next
        zone = self.app.zone
        parts = [f"{inc.school} {inc.school_name}", inc.code]
        if nxt is not None:
            parts.append(t("county.board.detail_due", stage=vm.stage_name(nxt.regime, nxt.stage, nxt.seq),
                           due=fmt_when(nxt.due_at, zone, now)))
        if inc.received_at is not None:
            parts.append(t("county.board.detail_received", when=fmt_when(inc.received_at, zone, now)))
        room = (self.size.width or self.app.size.width) - 2
        while len(parts) > 2 and school_board.cell_width(" · ".join(parts)) > room:
            parts.pop()            # the received time first, then the due: never half a time
        self._set_text("#county-detail", Text(" · ".join(parts), no_wrap=True, overflow="ellipsis"))
        self._update_sent(row, now)

    def _update_sent(self, row: vm.Row | None, now) -> None:
        """The line under the detail: the highlighted incident's submitted reports, signed or not
        (``首报 已报 21:57 · 已签收 jijiaoke 22:03``); hidden when it has none."""
        sent = self._sent.get(row.key, ()) if row is not None else ()
        line = self.query_one("#county-sent", Static)
        if line.display != bool(sent):
            line.display = bool(sent)
        if not sent:
            return
        zone = self.app.zone
        parts = []
        for s in sent:
            words = t("county.sign.sent", stage=vm.stage_name(s.regime, s.stage, s.seq),
                      when=fmt_when(s.submitted_at, zone, now, with_zone=False))
            if s.signed:
                words += " · " + t("county.sign.signed", by=s.signed_by,
                                   when=fmt_when(s.signed_at, zone, now, with_zone=False))
            elif s.signed_earlier:
                # Corrected after the signature: the correction waits for a signature again.
                words += " · " + t("county2.sign.signed_earlier", revision=s.revision,
                                   signed=s.signed_revision or 1, by=s.signed_by,
                                   when=fmt_when(s.signed_at, zone, now, with_zone=False))
            else:
                words += " · " + t("county.sign.unsigned")
            parts.append(words)
        self._set_text("#county-sent", Text(" │ ".join(parts), no_wrap=True, overflow="ellipsis"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "county-table":
            self._update_detail(self.app.clock.now())

    # ------------------------------------------------------------------ keys

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "sign":
            # The bureau's login signs; a school's (the board on a school's desk) is not offered it.
            return self._data is not None and self._data.own_school is None
        return True

    def action_sign(self) -> None:
        """Sign for the highlighted incident's submitted reports the bureau has not signed yet:
        one → a line to confirm; several → a picker; none → a notice."""
        from models.county.signing import unsigned
        from screens.county_sign import ConfirmSign, PickSign
        row = self._selected() if not self.by_school else None
        if row is None:
            self.notify(t("county.sign.no_row"), severity="warning")
            return
        if self._signing:
            self.notify(t("county.sign.busy"), severity="warning")
            return
        inc, now, zone = row.incident, self.app.clock.now(), self.app.zone
        choices = unsigned(self._sent.get(row.key, ()))
        if not choices:
            key = "county.sign.all_signed" if self._sent.get(row.key) else "county.sign.none_sent"
            self.notify(t(key, school=inc.school, incident=inc.code), severity="warning")
            return
        if len(choices) == 1:
            self.app.push_screen(ConfirmSign(choices[0], zone, now), self._sign_chosen)
        else:
            self.app.push_screen(PickSign(inc.school, inc.code, choices, zone, now), self._sign_chosen)

    def _sign_chosen(self, sent) -> None:
        if sent is not None:
            self._signing = True
            self._sign(sent)

    @work(thread=True, group="county-sign", exit_on_error=False)
    def _sign(self, sent) -> None:
        from models.county.signing import sign
        try:
            conn = self._connection()
            with self._io_lock:
                got, before = sign(conn, sent)
        except DomainError as exc:
            conn = self._conn
            if conn is not None and (conn.closed or conn.broken):
                self._drop_connection()             # the server went away: the next use reconnects
            self._from_thread(self._sign_failed, exc.message)
            return
        except Exception as exc:  # noqa: BLE001 — whatever it is, a message, never a traceback
            self._drop_connection()
            self._from_thread(self._sign_failed, f"{type(exc).__name__}: {exc}")
            return
        self._from_thread(self._signed, got, before)

    def _sign_failed(self, message: str) -> None:
        self._signing = False
        self.notify(t("county.sign.failed", detail=message), severity="error")

    def _signed(self, got, before: bool) -> None:
        """The screen shows the receipt at once (its own write), then re-reads that school."""
        self._signing = False
        self._sent[got.key] = tuple(replace(s, signed_by=got.signed_by, signed_at=got.signed_at,
                                            signed_revision=got.signed_revision)
                                    if (s.regime, s.stage, s.seq) == (got.regime, got.stage, got.seq) else s
                                    for s in self._sent.get(got.key, ()))
        now = self.app.clock.now()
        words = dict(school=got.school, incident=got.incident,
                     stage=vm.stage_name(got.regime, got.stage, got.seq), by=got.signed_by,
                     when=fmt_when(got.signed_at, self.app.zone, now, with_zone=False))
        self.notify(t("county.sign.already" if before else "county.sign.done", **words))
        self._update_detail(now)
        self._want.add(got.school)
        self.reload(full=False)

    def action_toggle_drills(self) -> None:
        self.drills = not self.drills
        self._rebuild(structural=True)
        self.notify(t("county.board.drills_shown_note" if self.drills else "county.board.drills_hidden_note"))

    def action_toggle_schools(self) -> None:
        self.by_school = not self.by_school
        self.table.display = not self.by_school
        self.schools_table.display = self.by_school
        self._schools_sig = None
        self._after_rows(self.app.clock.now())
        (self.schools_table if self.by_school else self.table).focus()

    def action_reload(self) -> None:
        self.reload(full=True)

    def action_help(self) -> None:
        from screens.help import HelpScreen
        self.app.push_screen(HelpScreen(self))

    def action_cursor_down(self) -> None:
        (self.schools_table if self.by_school else self.table).action_cursor_down()

    def action_cursor_up(self) -> None:
        (self.schools_table if self.by_school else self.table).action_cursor_up()


SCREEN = CountyBoardScreen


class CountyApp(App):
    """``xueji-duty county board`` on its own: no school database, no login (the server's login is
    the URL's), the board and its help."""

    CSS_PATH = [ASSETS / "tcss" / "app.tcss"]
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, url: str, clock, zone, drills: bool = True) -> None:
        super().__init__()
        self.url = url
        self.clock = clock
        self.zone = zone
        self.drills = drills
        self.title = t("county.board.title")

    def on_mount(self) -> None:
        from tui import terminal
        terminal.install(self)
        self.push_screen(CountyBoardScreen(self.url, drills=self.drills))

    def notify(self, message: str, *, title: str = "", severity="information", timeout=None,
               markup: bool = True) -> None:
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    @property
    def board(self) -> CountyBoardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, CountyBoardScreen):
                return screen
        return None


def make_county_app(url: str, clock, zone, drills: bool = True) -> CountyApp:
    global _CountyApp
    if _CountyApp is None:
        _CountyApp = _build()
    return _CountyApp(url, clock, zone, drills)


def _build():
    from tui import safe_text
    from tui.textual_strings import TextualStrings, palette_binding
    from tui.widgets.cell_table import install_left_crop
    safe_text.install()
    install_left_crop()

    class DeskCountyApp(TextualStrings, CountyApp):
        BINDINGS = [Binding("ctrl+q", "quit", t("app.quit"), id="quit", priority=True),
                    Binding("question_mark", "help", t("board.key.help"), id="help", show=False),
                    palette_binding(App)]

        def action_help(self) -> None:
            if type(self.screen).__name__ != "HelpScreen":
                from screens.help import HelpScreen
                self.push_screen(HelpScreen(self.screen))

        def get_system_commands(self, screen):
            yield from self.translated_system_commands(super().get_system_commands(screen))

    return DeskCountyApp


_CountyApp = None


def run_county_board(env, url: str, drills: bool = True) -> int:
    app = make_county_app(url, env.clock, env.settings.zone, drills)
    app.run(mouse=not getattr(env.args, "no_mouse", False))
    return app.return_code or 0
