"""The live board's view model: which rows, in which order, and what each cell says at ``now``.

The screen only renders what this module computes, so the rules the officer
relies on (most urgent first, escalation levels, the countdown's granularity,
what a locked session may show) are tested without a terminal. Reading the
database happens once per change (``snapshot``); everything else is a pure
function of that snapshot and ``now``, cheap enough for a one-second tick.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from models.deadlines import OPEN_STATES, Obligation
from models.i18n import t
from models.timeparse import SHORT_WHEN_SAMPLES, fmt_duration, fmt_when

LEVELS = ("normal", "due_soon", "urgent", "overdue")
# The word each level shows, so escalation never relies on colour alone.
LEVEL_WORD = {"normal": "state.pending", "due_soon": "state.due_soon", "urgent": "state.urgent",
              "overdue": "state.overdue"}
MASK = "••••"

# Columns in display order; the compact layout drops them in DROP_ORDER until the title fits.
COLUMNS = ("code", "title", "category", "grade", "stage", "due", "left", "state")
DROP_ORDER = ("category", "due", "grade", "stage")
COLUMN_LABEL = {"code": "col.code", "title": "col.title", "category": "board.col.category",
                "grade": "board.col.grade", "stage": "board.col.stage", "due": "col.due",
                "left": "col.left", "state": "col.state"}
TITLE_MIN = 14
CELL_PADDING = 2     # DataTable pads each cell by one on either side
CHROME = 2           # the table's scrollbar gutter and rounding


# ---------------------------------------------------------------- data read once per change

@dataclass(frozen=True)
class IncidentSummary:
    id: int
    code: str
    title: str
    category: str          # display name, already in the user's language
    grade: str | None
    grade_decided: bool
    status: str
    is_drill: bool


@dataclass
class BoardData:
    """Everything the board shows that comes from the database, read in one go."""

    incidents: list[IncidentSummary] = field(default_factory=list)
    obligations: dict[int, list[Obligation]] = field(default_factory=dict)
    stage_names: dict[tuple[str, str, int], str] = field(default_factory=dict)
    as_of: datetime | None = None     # when it was read: a conditional stage shows in its last hour

    def open_obligations(self) -> Iterable[Obligation]:
        for obls in self.obligations.values():
            for ob in obls:
                if ob.is_open and ob.due_at is not None:
                    yield ob


def _category_name(cat_id: str) -> str:
    from models.taxonomy import load_taxonomy
    try:
        name = load_taxonomy().category(cat_id).name
    except Exception:  # an unknown id stored by a newer version: show it as it is
        return cat_id
    return name.removesuffix("事件")


def stage_label(ctx, ob: Obligation) -> str:
    stage = ob.stage_spec or ctx.policy.stage(ob.regime, ob.stage)
    name = stage.name
    return f"{name}{ob.seq}" if stage.repeatable and ob.seq > 1 else name


def snapshot(ctx, now: datetime) -> BoardData:
    """Read open incidents and their obligations in two queries; call from a worker thread.

    Rows come back as tuples rather than model instances: with 200 open
    incidents that is several times faster, and the board's first paint waits
    for this read. The obligations are the engine's own (``deadlines.obligations``).
    """
    from models.deadlines import IncidentFacts, ReportFacts, obligations
    from models.tables import Incident, Report
    I, R = Incident, Report
    data = BoardData(as_of=now)
    with ctx.store.read():
        incs = list(I.select(I.id, I.code, I.title, I.category, I.grade, I.grade_decided,
                             I.occurred_at, I.discovered_at, I.handling_closed_at, I.personal_info,
                             I.personal_info_unsure,
                             I.status, I.is_drill)
                    .where(I.status.in_(("open", "handled"))).order_by(I.occurred_at.desc()).tuples())
        reports: dict[int, list[ReportFacts]] = {row[0]: [] for row in incs}
        if incs:
            for inc_id, regime, stage, seq, status, submitted_at, rid in (
                    R.select(R.incident, R.regime, R.stage, R.seq, R.status, R.submitted_at, R.id)
                    .where(R.incident.in_(list(reports))).tuples()):
                reports[inc_id].append(ReportFacts(regime=regime, stage=stage, seq=seq, status=status,
                                                   submitted_at=submitted_at, id=rid))
    names: dict[str, str] = {}
    for (iid, code, title, cat, grade, decided, occ, disc, closed, pi, unsure, status, drill) in incs:
        if cat not in names:
            names[cat] = _category_name(cat)
        data.incidents.append(IncidentSummary(
            id=iid, code=code, title=title, category=names[cat], grade=grade,
            grade_decided=bool(decided), status=status, is_drill=bool(drill)))
        facts = IncidentFacts(id=iid, code=code, title=title, category=cat, grade=grade, occurred_at=occ,
                              discovered_at=disc, handling_closed_at=closed, personal_info=bool(pi),
                              personal_info_unsure=bool(unsure), status=status, is_drill=bool(drill))
        obls = obligations(facts, reports[iid], ctx.policy, now, ctx.settings.due_soon_minutes)
        data.obligations[iid] = obls
        for ob in obls:
            data.stage_names[(ob.regime, ob.stage, ob.seq)] = stage_label(ctx, ob)
    return data


# ---------------------------------------------------------------- rows

@dataclass(frozen=True)
class BoardRow:
    """One line of the table: an incident with its most urgent obligation, or a sub-row."""

    key: str
    incident: IncidentSummary
    obligation: Obligation | None      # None: nothing to report right now
    stage_name: str
    more: int = 0                      # other open obligations hidden under this row
    sub: bool = False                  # an expanded obligation under its incident


def _incident_key(inc_id: int) -> str:
    return f"i{inc_id}"


def _obligation_key(ob: Obligation) -> str:
    return f"o{ob.incident_id}:{ob.regime}:{ob.stage}:{ob.seq}"


def _urgency(obls: Sequence[Obligation]) -> tuple:
    open_ = [o for o in obls if o.is_open]
    if open_:
        return (0,) + min(o.sort_key() for o in open_)
    return (1,)


def build_rows(data: BoardData, expanded: Iterable[int] = (), query: str = "",
               locked: bool = False) -> list[BoardRow]:
    """Incidents most urgent first; an expanded incident lists its other open obligations below it."""
    expanded = set(expanded)
    incs = sorted(data.incidents, key=lambda i: (_urgency(data.obligations.get(i.id, [])), i.code))
    rows: list[BoardRow] = []
    needle = query.strip().lower()
    for inc in incs:
        obls = sorted(data.obligations.get(inc.id, []), key=Obligation.sort_key)
        open_ = [o for o in obls if o.is_open]
        # A stage that applies only if the grade is high enough, in its last hour: on the board
        # (issue 12), under the incident's own row, so the leaders see the grade is due.
        soon = conditional_soon(obls, data.as_of)
        head = open_[0] if open_ else (soon.pop(0) if soon else
                                       next((o for o in obls if o.state == "waiting"), None))
        name = data.stage_names.get((head.regime, head.stage, head.seq), head.stage) if head else ""
        row = BoardRow(_incident_key(inc.id), inc, head, name, more=max(0, len(open_) - 1))
        if needle and not _matches(row, open_, data, needle, locked):
            continue
        rows.append(row)
        if inc.id in expanded:
            for ob in open_[1:]:
                rows.append(BoardRow(_obligation_key(ob), inc, ob,
                                     data.stage_names.get((ob.regime, ob.stage, ob.seq), ob.stage),
                                     sub=True))
        for ob in soon:
            rows.append(BoardRow(_obligation_key(ob), inc, ob,
                                 data.stage_names.get((ob.regime, ob.stage, ob.seq), ob.stage), sub=True))
    return rows


def conditional_soon(obls: Sequence[Obligation], now: datetime | None) -> list[Obligation]:
    """Conditional obligations (grade undecided) whose would-be deadline is within the hour."""
    if now is None:
        return []
    return [o for o in obls if o.state == "conditional" and o.due_at is not None
            and 0 <= (o.due_at - now).total_seconds() < 3600]


def _matches(row: BoardRow, open_: Sequence[Obligation], data: BoardData, needle: str,
             locked: bool) -> bool:
    """The filter looks only at what the officer can see: no titles while the session is locked."""
    inc = row.incident
    hay = [inc.code, inc.category, inc.grade or "", t("board.drill") if inc.is_drill else ""]
    if not locked:
        hay.append(inc.title)
    hay += [data.stage_names.get((o.regime, o.stage, o.seq), "") for o in open_]
    return any(needle in h.lower() for h in hay if h)


# ---------------------------------------------------------------- time-dependent cells

def seconds_left(ob: Obligation | None, now: datetime) -> float | None:
    if ob is None or ob.due_at is None or ob.state not in OPEN_STATES:
        return None
    return (ob.due_at - now).total_seconds()


def level(left: float | None, due_soon_minutes: int = 60, urgent_minutes: int = 15) -> str | None:
    """≥ due-soon: normal; below it: due soon; below urgent: urgent; past the deadline: overdue."""
    if left is None:
        return None
    if left < 0:
        return "overdue"
    if left < urgent_minutes * 60:
        return "urgent"
    if left < due_soon_minutes * 60:
        return "due_soon"
    return "normal"


def _minute_floor(dt: datetime) -> datetime:
    return dt.replace(second=0, microsecond=0)


def _hm(minutes: int) -> str:
    h, m = divmod(minutes, 60)
    if h >= 48:
        return f"{h // 24}d{h % 24:02d}h"
    return f"{h}h{m:02d}m" if h else f"{m}m"


def fmt_overdue(seconds_over: float) -> str:
    """Minutes past the deadline; never seconds, so an overdue row does not tick every second."""
    s = int(seconds_over)
    return "<1m" if s < 60 else _hm(s // 60)


def countdown_text(left: float | None) -> str:
    """``1h05m`` while more than ten minutes are left, ``9m41s`` after, ``超时 +12m`` when late."""
    if left is None:
        return ""
    if left < 0:
        return f"{t('state.overdue')} +{fmt_overdue(-left)}"
    return fmt_duration(left)


def countdown_at(due: datetime | None, now: datetime) -> str:
    """The countdown as the board shows it: minute texts change with the header clock.

    More than ten minutes out, the countdown is the difference between the due
    minute and the clock's minute, exactly what the due column and the header
    clock show (clock 10:00, due 10:25: ``25m``; due 09:48: ``超时 +12m``). So
    every minute-granular countdown changes in the same second as the clock and
    an idle board repaints once a minute, not once per row per minute. The last
    ten minutes count exact seconds.
    """
    if due is None:
        return ""
    exact = (due - now).total_seconds()
    if 0 <= exact <= 600:
        return fmt_duration(exact)
    minutes = int((_minute_floor(due) - _minute_floor(now)).total_seconds() // 60)
    if exact > 600:
        return _hm(max(10, minutes))
    return f"{t('state.overdue')} +" + ("<1m" if minutes == 0 else _hm(-minutes))


def state_word(row: BoardRow, lvl: str | None) -> str:
    if lvl is not None:
        return t(LEVEL_WORD[lvl])
    if row.obligation is not None:
        return t(row.obligation.state_key)
    return t("board.nothing_due")


def fmt_due(due: datetime | None, now: datetime, zone) -> str:
    """``14:30`` today, ``明 09:00`` tomorrow, ``昨 16:00`` yesterday, ``11-27`` further out
    (``fmt_when``'s short form): a deadline not today never reads as one of today (issue 15)."""
    return fmt_when(due, zone, now, short=True, with_zone=False)


def due_width(due_texts: Iterable[str] | None = None) -> int:
    """The due column: as wide as its widest cell (``09:00``, ``12-30``: 5 cells, the title keeps
    the room), or, with no texts given, the widest short form of the language (8 cells in Chinese)."""
    if due_texts is None:
        due_texts = [t(key, time="00:00") for key in SHORT_WHEN_SAMPLES]
    return max([cell_width(d) for d in due_texts] + [5])


def due_texts(rows: Iterable["BoardRow"], now: datetime, zone) -> list[str]:
    """The due column's texts of the rows shown."""
    return [fmt_due(r.obligation.due_at, now, zone) for r in rows if r.obligation and r.obligation.due_at]


def grade_text(inc: IncidentSummary) -> str:
    if not inc.grade:
        return "—"
    return inc.grade if inc.grade_decided else inc.grade + "?"


@dataclass(frozen=True)
class Cells:
    """The text of every column for one row; ``level`` drives the style and the state word."""

    values: dict[str, str]
    level: str | None


def cells(row: BoardRow, now: datetime, zone, due_soon_minutes: int = 60,
          urgent_minutes: int = 15, locked: bool = False) -> Cells:
    inc, ob = row.incident, row.obligation
    left = seconds_left(ob, now)
    lvl = level(left, due_soon_minutes, urgent_minutes)
    if row.sub:
        code, title, category, grade = "", "", "", ""
    else:
        code = inc.code
        title = MASK if locked else inc.title.replace("\n", " ")
        if inc.is_drill:
            title = f"[{t('board.drill')}] {title}"
        category, grade = inc.category, grade_text(inc)
    stage = ("└ " if row.sub else "") + row.stage_name
    if row.more:
        stage += f" +{row.more}"
    return Cells({
        "code": code, "title": title, "category": category, "grade": grade, "stage": stage,
        "due": fmt_due(ob.due_at if ob else None, now, zone) if ob and ob.due_at else "—",
        "left": countdown_at(ob.due_at, now) if left is not None else "", "state": state_word(row, lvl),
    }, lvl)


def next_change(row: BoardRow, now: datetime, due_soon_minutes: int = 60,
                urgent_minutes: int = 15) -> datetime | None:
    """The first instant after ``now`` at which ``cells(row, …)`` may read differently, so the
    one-second tick can skip the row until then; ``now`` itself while seconds are shown (every
    tick), ``None`` when time alone never changes it (nothing open is due).

    The edges are those of ``countdown_at``, ``level`` and ``fmt_due``: the clock's next minute,
    the due-soon and urgent thresholds, ten minutes before the deadline (seconds appear), the
    deadline (overdue); the due column's text changes at a local midnight, a minute edge."""
    ob = row.obligation
    if seconds_left(ob, now) is None:
        return None
    due = ob.due_at
    exact = (due - now).total_seconds()
    if 0 <= exact <= 600:
        return now
    return _first_after(now, (_minute_floor(now) + timedelta(minutes=1),
                              due - timedelta(minutes=due_soon_minutes), due - timedelta(minutes=urgent_minutes),
                              due - timedelta(seconds=600), due))


_TICK = timedelta(microseconds=1)


def _first_after(now: datetime, edges: Iterable[datetime]) -> datetime | None:
    """The earliest edge, or the instant just after it, that lies after ``now``: thresholds are
    inclusive on one side (``left <= 600``) and strict on the other (``left < 3600``), so a text
    may change at an edge or just after it."""
    later = [e for edge in edges for e in (edge, edge + _TICK) if e > now]
    return min(later, default=None)


# ---------------------------------------------------------------- header counts

@dataclass(frozen=True)
class Counts:
    open_incidents: int
    overdue: int
    due_within_hour: int


def counts(data: BoardData, now: datetime) -> Counts:
    overdue = soon = 0
    for ob in data.open_obligations():
        left = (ob.due_at - now).total_seconds()
        if left < 0:
            overdue += 1
        elif left < 3600:
            soon += 1
    return Counts(len(data.incidents), overdue, soon)


def counts_change(data: BoardData, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which ``counts`` may differ (an obligation reaching its
    last hour or its deadline); ``None``: not by time alone."""
    return _first_after(now, (e for ob in data.open_obligations()
                              for e in (ob.due_at - timedelta(hours=1), ob.due_at)))


# ---------------------------------------------------------------- compact layout

def cell_width(text: str) -> int:
    """Terminal cells: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_widths(stage_names: Iterable[str] = (), codes: Iterable[str] = (),
                  due: Iterable[str] | None = None) -> dict[str, int]:
    """Fixed widths for every column but the title, wide enough for the current language's words
    (``due``: the due column's texts, see ``due_width``)."""
    words = [t(k) for k in LEVEL_WORD.values()] + [t("state.waiting"), t("board.nothing_due")]
    stage_w = max([cell_width(s) + 3 for s in stage_names] + [8])
    widths = {
        "code": max([cell_width(c) for c in codes] + [8]), "category": 8, "grade": 4,
        "stage": min(stage_w, 12), "due": due_width(due),
        "left": max(cell_width(countdown_text(-3600 * 47)), 9),
        "state": max(cell_width(w) for w in words),
    }
    # A column is never narrower than its heading.
    return {col: max(w, cell_width(t(COLUMN_LABEL[col]))) for col, w in widths.items()}


def layout(width: int, widths: dict[str, int]) -> tuple[list[str], int]:
    """The columns that fit ``width`` and the title's width; drops columns in ``DROP_ORDER``."""
    shown = list(COLUMNS)

    def title_room() -> int:
        fixed = sum(widths[c] + CELL_PADDING for c in shown if c != "title")
        return width - CHROME - fixed - CELL_PADDING

    for name in DROP_ORDER:
        if title_room() >= TITLE_MIN:
            break
        shown.remove(name)
    return shown, max(title_room(), 6)
