"""The county board's rows, read from the county server over the caller's own connection.

Who sees what is the server's business, not this module's: the bureau's login reads every
school, a school's login reads only its own rows (row-level security, ``models.county.schema``),
so the same query serves both.

``read(conn)`` fetches once per change (two queries: the schools, and the open incidents with
the obligations they still owe); ``rows(data, now)`` and ``counts(data, now)`` are pure
functions of that read and ``now``, cheap enough for the screen's one-second tick. Order, most
urgent first:

1. incidents with an overdue **statutory** report (owed, not submitted, ``due_at < now``:
   逾期未报), the longest overdue first;
2. then by the nearest unmet due time (owed reports of any kind);
3. incidents owing nothing last; ties by school code and incident code.

``listen(url, callback, stop_event)`` runs in a thread: ``LISTEN xj_county`` and a callback
with the school's code on every change that reaches the server (and with ``None`` after every
(re)connect, when changes may have been missed); it reconnects, with back-off, whenever the
server goes away. A notice carries the school's opaque token, not its code (NOTIFY is not under
row-level security: any login may listen); the bureau's login maps tokens back from
``county.notice_token``, a school's login knows only its own and hears nothing of the others.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from typing import Callable

from models.county import schema
from models.county.schema import NOTIFY_CHANNEL, server_errors
from models.errors import DomainError

# The states in which a report is still owed (the school's engine at commit time; the county
# decides overdue from due_at and now, since time moves on after the school's last change).
OWED_STATES = ("overdue", "due_soon", "pending")
CLOSED_STATUSES = ("closed", "withdrawn")


@dataclass(frozen=True)
class Owed:
    regime: str
    stage: str
    seq: int
    due_at: datetime
    statutory: bool

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now


@dataclass(frozen=True)
class Incident:
    school: str
    school_name: str
    code: str
    title: str
    category: str
    grade: str | None
    grade_decided: bool
    status: str
    is_drill: bool
    updated_at: datetime | None
    received_at: datetime | None
    owed: tuple[Owed, ...] = ()      # unmet, soonest first

    @property
    def key(self) -> str:
        return f"{self.school}/{self.code}"


@dataclass(frozen=True)
class Removed:
    """An incident the school's record no longer has (``server.apply_changes``: a restore from a
    backup took it away, or ``county sync --all`` found it gone): kept by the county as history,
    owing nothing, never a board row."""

    school: str
    school_name: str
    code: str
    title: str
    removed_at: datetime | None
    reason: str            # restore | resync

    def note(self, zone=None) -> str:
        from models.i18n import t
        at = self.removed_at
        when = "" if at is None else (at.astimezone(zone) if zone is not None else at).strftime("%Y-%m-%d %H:%M")
        key = "county.trust.removed_resync" if self.reason == "resync" else "county.trust.removed_restore"
        return t(key, at=when)


@dataclass(frozen=True)
class RemovedGroup:
    """The removals of one school for one reason (the board screen's line, county2)."""

    school: str
    school_name: str
    reason: str                 # restore | resync
    count: int
    latest: datetime | None     # the newest removal of the group


def removed_groups(removed: list[Removed]) -> list[RemovedGroup]:
    """``CountyData.removed`` by (school, reason), the group with the newest removal first."""
    groups: dict[tuple[str, str], list[Removed]] = {}
    for r in removed:
        groups.setdefault((r.school, r.reason), []).append(r)
    out = []
    for (school, reason), items in groups.items():
        times = [r.removed_at for r in items if r.removed_at is not None]
        out.append(RemovedGroup(school, items[0].school_name, reason, len(items), max(times, default=None)))
    out.sort(key=lambda g: (-(g.latest.timestamp() if g.latest else 0), g.school, g.reason))
    return out


@dataclass
class CountyData:
    """One read of the server: every visible school and its open incidents."""

    schools: list[tuple[str, str]] = field(default_factory=list)    # (code, name)
    incidents: list[Incident] = field(default_factory=list)
    removed: list[Removed] = field(default_factory=list)           # newest removal first
    read_at: float = 0.0      # monotonic, when the read finished
    own_school: str | None = None   # a school's login: its code (the bureau's: None)

    def concerns(self, school: str | None) -> bool:
        """Whether a notification about ``school`` can change what this login sees. NOTIFY is
        not subject to row-level security: a school's listener hears every school's changes."""
        return school is None or self.own_school is None or school == self.own_school


@dataclass(frozen=True)
class Row:
    incident: Incident
    next: Owed | None          # the report that ranks the row (overdue statutory first, else soonest)
    overdue: int               # overdue statutory reports of this incident at ``now``

    @property
    def key(self) -> str:
        return self.incident.key


@dataclass(frozen=True)
class SchoolCount:
    school: str
    name: str
    open: int
    overdue: int               # overdue statutory reports
    drills: int                # open drills among ``open``


_OWED = "o.regime IS NOT NULL"
# One row per open incident, its unmet reports as arrays in due order (a quarter of the rows of a
# plain join, and read in binary: ~15 ms of client CPU for 2,000 incidents instead of ~45 ms).
_INCIDENTS_SQL = f"""
SELECT i.school, s.name, i.code, i.title, i.category, i.grade, i.grade_decided, i.status, i.is_drill,
       i.updated_at, i.received_at,
       array_agg(o.regime ORDER BY o.due_at) FILTER (WHERE {_OWED}),
       array_agg(o.stage ORDER BY o.due_at) FILTER (WHERE {_OWED}),
       array_agg(o.seq ORDER BY o.due_at) FILTER (WHERE {_OWED}),
       array_agg(extract(epoch FROM o.due_at)::float8 ORDER BY o.due_at) FILTER (WHERE {_OWED}),
       array_agg(o.statutory ORDER BY o.due_at) FILTER (WHERE {_OWED})
FROM county.incident i
JOIN county.school s ON s.code = i.school
LEFT JOIN county.obligation o
  ON o.school = i.school AND o.incident_code = i.code AND o.submitted_at IS NULL
 AND o.due_at IS NOT NULL AND o.state IN ({", ".join(f"'{s}'" for s in OWED_STATES)})
WHERE i.status NOT IN ({", ".join(f"'{s}'" for s in CLOSED_STATUSES)}) AND i.removed_at IS NULL {{only}}
GROUP BY i.school, s.name, i.code
"""
_REMOVED_SQL = """
SELECT i.school, s.name, i.code, i.title, i.removed_at, i.removed_reason
FROM county.incident i JOIN county.school s ON s.code = i.school
WHERE i.removed_at IS NOT NULL {only}
ORDER BY i.removed_at DESC, i.school, i.code
"""


@server_errors
def read(conn, schools: list[str] | None = None) -> CountyData:
    """Schools and open incidents visible to this connection's login, in one transaction;
    ``schools``: only those schools' (what a notification names), for ``merge``."""
    data = CountyData()
    only, args = ("", ()) if schools is None else ("AND i.school = ANY(%s)", (list(schools),))
    with conn.transaction():
        # The login's school and the server's record of schema steps in one round trip: a
        # server behind this program (``county init`` not run since an upgrade) is one clear
        # message here, not a missing table later.
        data.own_school, version, steps = conn.execute(
            "SELECT county.my_school(), (SELECT value FROM county.schema_meta WHERE key = 'version'), "
            "(SELECT value FROM county.schema_meta WHERE key = %s)", (schema.STEPS_KEY,)).fetchone()
        schema.require_current(int(version or 0), steps)
        data.schools = [(c, n) for c, n in conn.execute(
            "SELECT code, name FROM county.school" + (" WHERE code = ANY(%s)" if schools is not None else "")
            + " ORDER BY code", args)]
        with conn.cursor(binary=True) as cur:
            rows = cur.execute(_INCIDENTS_SQL.format(only=only), args).fetchall()
        data.removed = [Removed(school, name, code, title or "", at, reason or "restore")
                        for school, name, code, title, at, reason in
                        conn.execute(_REMOVED_SQL.format(only=only), args).fetchall()]
    utc = timezone.utc
    stamp = datetime.fromtimestamp
    for (school, name, code, title, category, grade, decided, status, drill, updated, received,
         regimes, stages, seqs, dues, statutory) in rows:
        owed = () if regimes is None else tuple(
            Owed(r, st, int(q), stamp(d, utc), bool(sy)) for r, st, q, d, sy in zip(regimes, stages, seqs, dues, statutory))
        data.incidents.append(Incident(school, name, code, title or "", category or "", grade, bool(decided),
                                       status, bool(drill), updated, received, owed))
    data.incidents.sort(key=lambda i: (i.school, i.code))
    data.read_at = time.monotonic()
    return data


def merge(old: CountyData, part: CountyData, schools: list[str]) -> CountyData:
    """``old`` with the incidents of ``schools`` replaced by those of ``part`` (a read of just
    those schools); every other school's ``Incident`` objects are kept as they are, so the
    screen can tell which rows changed by identity."""
    gone = set(schools)
    names = {code: name for code, name in old.schools if code not in gone}
    names.update(dict(part.schools))
    keep = [inc for inc in old.incidents if inc.school not in gone]
    removed = sorted([r for r in old.removed if r.school not in gone] + part.removed,
                     key=lambda r: (-(r.removed_at.timestamp() if r.removed_at else 0), r.school, r.code))
    return CountyData(schools=sorted(names.items()), incidents=keep + part.incidents, removed=removed,
                      read_at=part.read_at, own_school=part.own_school)


def _rank(inc: Incident, now: datetime) -> tuple[Owed | None, int]:
    late = [o for o in inc.owed if o.statutory and o.overdue(now)]
    if late:
        return late[0], len(late)
    return (inc.owed[0] if inc.owed else None), 0


def rows(data: CountyData, now: datetime, drills: bool = True) -> list[Row]:
    """The board's rows at ``now``, most urgent first; ``drills=False`` leaves drills out."""
    out = []
    for inc in data.incidents:
        if inc.is_drill and not drills:
            continue
        nxt, late = _rank(inc, now)
        out.append(Row(inc, nxt, late))

    def order(row: Row) -> tuple:
        due = row.next.due_at.timestamp() if row.next else float("inf")
        return (0 if row.overdue else 1, due, row.incident.school, row.incident.code)

    out.sort(key=order)
    return out


def counts(data: CountyData, now: datetime, drills: bool = True) -> list[SchoolCount]:
    """Per school (every school the login sees, also those with nothing open), in code order."""
    per: dict[str, list[int]] = {code: [0, 0, 0] for code, _ in data.schools}
    names = dict(data.schools)
    for inc in data.incidents:
        if inc.is_drill and not drills:
            continue
        c = per.setdefault(inc.school, [0, 0, 0])
        names.setdefault(inc.school, inc.school_name)
        c[0] += 1
        c[1] += sum(1 for o in inc.owed if o.statutory and o.overdue(now))
        c[2] += 1 if inc.is_drill else 0
    return [SchoolCount(code, names.get(code, code), *c) for code, c in sorted(per.items())]


def next_change(data: CountyData, now: datetime) -> datetime | None:
    """The earliest statutory deadline at or after ``now``: once ``now`` is past it, the order and the
    counts may read differently (that report is overdue); None: not by time alone."""
    later = [o.due_at for inc in data.incidents for o in inc.owed if o.statutory and o.due_at >= now]
    return min(later, default=None)


# ---------------------------------------------------------------- names and JSON

def stage_name(regime: str, stage: str, seq: int = 1) -> str:
    """The stage's name in the user's language from the shipped plans (``首报``, ``续报2``);
    ``regime.stage`` for one this program does not know (a newer school's plan)."""
    from models.i18n import get_language
    return _stage_name(regime, stage, seq, get_language())


@lru_cache(maxsize=512)
def _stage_name(regime: str, stage: str, seq: int, _lang: str) -> str:
    from models.policy import all_regimes
    for r in all_regimes():
        if r.id != regime:
            continue
        for s in r.stages:
            if s.id == stage:
                return f"{s.name}{seq}" if s.repeatable and seq > 1 else s.name
    return f"{regime}.{stage}"


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def as_json(data: CountyData, now: datetime, drills: bool = True, zone=None) -> dict:
    """``county board --json``: the rows in board order, the per-school counts, and the incidents
    the schools' records no longer have (``removed``: never rows; ``note`` in ``zone``'s time)."""
    out_rows = []
    for row in rows(data, now, drills):
        inc, nxt = row.incident, row.next
        out_rows.append({
            "school": inc.school, "school_name": inc.school_name, "incident": inc.code,
            "title": inc.title, "category": inc.category, "grade": inc.grade,
            "grade_decided": inc.grade_decided, "status": inc.status, "drill": inc.is_drill,
            "overdue": row.overdue,
            "next": None if nxt is None else {
                "regime": nxt.regime, "stage": nxt.stage, "seq": nxt.seq,
                "name": stage_name(nxt.regime, nxt.stage, nxt.seq), "statutory": nxt.statutory,
                "due_at": _iso(nxt.due_at), "seconds_left": round((nxt.due_at - now).total_seconds())},
            "updated_at": _iso(inc.updated_at), "received_at": _iso(inc.received_at),
        })
    return {"now": _iso(now), "rows": out_rows,
            "counts": [{"school": c.school, "name": c.name, "open": c.open, "overdue": c.overdue,
                        "drills": c.drills} for c in counts(data, now, drills)],
            # What the school's record no longer has: never a row, nothing owed, said here.
            "removed": [{"school": r.school, "school_name": r.school_name, "incident": r.code,
                         "title": r.title, "removed_at": _iso(r.removed_at), "reason": r.reason,
                         "note": r.note(zone)} for r in data.removed]}


# ---------------------------------------------------------------- LISTEN / NOTIFY

KEEPALIVE_S = 5.0       # a query this often: a server gone without a word is noticed
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 10.0


def listen(url: str, callback: Callable[[str | None], None], stop_event: threading.Event, *,
           on_state: Callable[[bool, str], None] | None = None, wait_s: float = 0.25,
           connect: Callable[[], object] | None = None) -> None:
    """Call ``callback(school)`` for every change notified on ``xj_county`` until ``stop_event``.

    Blocking: run it in a thread. After each (re)connect ``callback(None)`` (re-read everything:
    changes made while the link was down were not notified). ``on_state(True, "")`` when
    listening, ``on_state(False, detail)`` when the server cannot be reached; then it retries
    with back-off (0.5 s doubling to 10 s) until the server is back or ``stop_event`` is set.
    """
    import psycopg
    delay = RETRY_FIRST_S
    state = on_state or (lambda ok, detail: None)
    while not stop_event.is_set():
        try:
            conn = connect() if connect else psycopg.connect(url, autocommit=True, connect_timeout=5)
        except Exception as exc:        # noqa: BLE001 — anything refusing us is "not reachable"
            state(False, _unreachable(exc))
            stop_event.wait(delay)
            delay = min(delay * 2, RETRY_MAX_S)
            continue
        try:
            conn.autocommit = True
            schema.check(conn)
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            # After LISTEN: a school registered meanwhile is either in the map or noticed.
            tokens = Tokens(conn)
            delay = RETRY_FIRST_S
            state(True, "")
            _call(callback, None)
            alive = time.monotonic()
            while not stop_event.is_set():
                for note in conn.notifies(timeout=wait_s):
                    school = tokens.school(note.payload)
                    if school is not Tokens.OTHER:
                        _call(callback, school)
                for school in tokens.late():
                    _call(callback, school)
                if time.monotonic() - alive >= KEEPALIVE_S:
                    conn.execute("SELECT 1")
                    alive = time.monotonic()
        except DomainError as exc:
            state(False, exc.message)
            stop_event.wait(delay)
            delay = min(delay * 2, RETRY_MAX_S)
        except psycopg.Error as exc:
            state(False, _unreachable(exc))
            stop_event.wait(delay)
            delay = min(delay * 2, RETRY_MAX_S)
        finally:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass


class Tokens:
    """A notice's token → the school's code, for the login of ``conn``.

    The bureau's login reads every school's token (``county.notice_token``: only the bureau may)
    and, for a token it does not know (a school registered since), reads them again, at most
    once a second; still unknown: ``OTHER``, ignored (any login may NOTIFY anything on the
    channel: made-up payloads must not make the board re-read everything). A school's login
    knows only its own token: any other is ``OTHER`` (another school's change, nothing it sees)."""

    OTHER = object()
    RELOAD_S = 1.0

    def __init__(self, conn) -> None:
        self.conn = conn
        school, token = conn.execute("SELECT county.my_school(), county.my_notice_token()").fetchone()
        self.bureau = school is None
        self.waiting: set[str] = set()
        self.loaded = 0.0
        self.map = self._all() if self.bureau else {token: school}

    def _all(self) -> dict[str, str]:
        self.loaded = time.monotonic()
        return dict(self.conn.execute("SELECT token, school FROM county.notice_token").fetchall())

    def school(self, token: str):
        got = self.map.get(token)
        if got is not None:
            return got
        if not self.bureau:
            return self.OTHER
        if time.monotonic() - self.loaded < self.RELOAD_S:
            if len(self.waiting) < 64:
                self.waiting.add(token)     # looked up again by ``late()`` once a second is up
            return self.OTHER
        self.map = self._all()
        return self.map.get(token, self.OTHER)

    def late(self) -> list[str]:
        """Schools of tokens unknown when they came (rate-limited), once the map is read again."""
        if not self.waiting or time.monotonic() - self.loaded < self.RELOAD_S:
            return []
        self.map = self._all()
        found = sorted({self.map[t] for t in self.waiting if t in self.map})
        self.waiting = set()
        return found


def _unreachable(exc: BaseException) -> str:
    """The listener's reason, worded as every other county message (zh / en)."""
    from models.county.schema import _first_line
    from models.errors import DomainError
    return DomainError("county.error.connect", detail=_first_line(exc)).message


def _call(callback, payload) -> None:
    """A failing callback (an app shutting down) must not end the listener."""
    try:
        callback(payload)
    except Exception:  # noqa: BLE001
        pass


def start_listener(url: str, callback: Callable[[str | None], None], *,
                   on_state: Callable[[bool, str], None] | None = None,
                   connect: Callable[[], object] | None = None) -> tuple[threading.Thread, threading.Event]:
    """``listen`` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=listen, args=(url, callback, stop),
                              kwargs={"on_state": on_state, "connect": connect},
                              name="county-listen", daemon=True)
    thread.start()
    return thread, stop
