"""Statistics for a year, a semester or a month, and the annual report to the bureau.

Real incidents only: drills and withdrawn false alarms are counted apart and never mixed
into the figures about real incidents. ``compute()`` returns one plain dict (the JSON of
``xueji-duty stats --format json``); the .docx and .xlsx are drawn from that same dict, so
the three formats always carry the same figures.

On time, per ``regime.stage`` of the policy in force (the statutory 3-hour first report
first): each obligation of a real incident whose deadline falls to be judged is

- ``met``       submitted by its deadline,
- ``met_late``  submitted after it,
- ``missed``    its deadline passed with nothing submitted (still outstanding, or the
                incident was closed without it),
- ``open``      not yet due (or its clock has not started);

``rate`` = met / (met + met_late + missed), ``None`` while nothing was due. Obligations that
do not apply (grade below, no personal information, handling finished first) are not counted.
For a repeatable stage (续报) every report in the series is judged against its own deadline.

Speed (10,000 incidents with 50,000 reports in well under 0.5 s): one query for the incidents
of the period and one for their submitted reports, read as tuples (no model objects), then a
column pass (``_judge_columns``) that applies the engine's rules one stage at a time over all the
incidents, instead of building ``deadlines.obligations()`` per incident. The engine stays the
single source of truth: the pass covers only records read as they stand (no grade or personal-
information history, nothing after ``now``) and hands every other incident to the engine;
``compute(..., engine=True)`` judges all of them with the engine, and ``tests/test_stats_fast.py``
holds the two to the same verdicts and the same figures on a random database.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta, timezone
from typing import Any

from models import fact_history
from models.deadlines import IncidentFacts, ReportFacts, obligations
from models.errors import ValidationError
from models.tables import CheckRun, Incident

OUTCOMES = ("met", "met_late", "missed", "open")
GRADES = ("I", "II", "III", "IV")
FIRST_KEY = "school_plan.first"
NOT_IN_PLAN = "not_in_plan"
UNDECIDED = "undecided"


# ---------------------------------------------------------------- the period

@dataclass(frozen=True)
class Period:
    year: int
    semester: int | None
    month: int | None
    first_day: date
    last_day: date          # inclusive
    start: datetime         # UTC instants: [start, end)
    end: datetime

    def months(self) -> list[str]:
        out, y, m = [], self.first_day.year, self.first_day.month
        while (y, m) <= (self.last_day.year, self.last_day.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def _day_start(day: date, zone) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(timezone.utc)


def period(settings, year: Any, semester: Any = None, month: Any = None) -> Period:
    """The calendar year, the ``semester``-th semester that starts in it, or one month of it.

    Semesters begin on the config's ``semester_starts`` (03-01 and 09-01 by default): with
    those, semester 1 of 2026 is 2026-03-01 … 2026-08-31 and semester 2 is 2026-09-01 …
    2027-02-28, the day before the next start.
    """
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": ("stats.error.year", {"value": year})})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": ("stats.error.year", {"value": year})})
    if semester not in (None, "") and month not in (None, ""):
        raise ValidationError({"semester": ("stats.error.semester_and_month", {})})
    zone = settings.zone
    if semester not in (None, ""):
        from models.prevention_config import school_calendar
        starts = school_calendar(settings).starts
        try:
            semester = int(semester)
        except (TypeError, ValueError):
            semester = 0
        if not 1 <= semester <= len(starts):
            raise ValidationError({"semester": ("stats.error.semester", {"value": semester, "n": len(starts)})})
        from models.cadence import _safe_date
        m, d = starts[semester - 1]
        first = _safe_date(year, m, d)
        if semester < len(starts):
            nm, nd = starts[semester]
            nxt = _safe_date(year, nm, nd)
        else:
            nm, nd = starts[0]
            nxt = _safe_date(year + 1, nm, nd)
        last = nxt - timedelta(days=1)
        return Period(year, semester, None, first, last, _day_start(first, zone), _day_start(nxt, zone))
    if month not in (None, ""):
        try:
            month = int(month)
        except (TypeError, ValueError):
            month = 0
        if not 1 <= month <= 12:
            raise ValidationError({"month": ("stats.error.month", {"value": month})})
        first = date(year, month, 1)
        nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return Period(year, None, month, first, nxt - timedelta(days=1), _day_start(first, zone),
                      _day_start(nxt, zone))
    first, nxt = date(year, 1, 1), date(year + 1, 1, 1)
    return Period(year, None, None, first, nxt - timedelta(days=1), _day_start(first, zone), _day_start(nxt, zone))


def period_label(p: Period) -> str:
    """``2026年度``, ``2026年春季学期``, ``2026年3月`` (or the English forms)."""
    from models.i18n import t
    if p.semester:
        season = t("stats.spring") if p.first_day.month < 7 else t("stats.autumn")
        return t("stats.period.semester", year=p.year, season=season)
    if p.month:
        return t("stats.period.month", year=p.year, month=p.month)
    return t("stats.period.year", year=p.year)


# ---------------------------------------------------------------- reading

_iso = datetime.fromisoformat


class _Row:
    """One incident as the engine reads it: its facts and, by (regime, stage), the first
    submission of each report number (no model objects)."""

    __slots__ = ("facts", "closed_at", "by_stage", "latest")

    def __init__(self, facts: IncidentFacts, closed_at: datetime | None) -> None:
        self.facts = facts
        self.closed_at = closed_at
        # (regime, stage) → {report number: its first submission} (a correction keeps the original's
        # time): all the verdicts need of the reports.
        self.by_stage: dict[tuple[str, str], dict[int, datetime]] = {}
        self.latest: datetime | None = None      # the latest submission of any report

    def add_report(self, regime: str, stage: str, seq: int, at: datetime) -> None:
        if self.latest is None or at > self.latest:
            self.latest = at
        firsts = self.by_stage.get((regime, stage))
        if firsts is None:
            self.by_stage[(regime, stage)] = {seq: at}
        elif seq not in firsts or at < firsts[seq]:
            firsts[seq] = at

    def report_facts(self) -> list[ReportFacts]:
        """For the engine: one submission per report, at its first time (what the engine reads)."""
        return [ReportFacts(regime=regime, stage=stage, seq=seq, status="submitted", submitted_at=at)
                for (regime, stage), firsts in self.by_stage.items() for seq, at in firsts.items()]


# ---------------------------------------------------------------- judging obligations

def _outcome(state: str) -> str | None:
    if state in ("met", "met_late"):
        return state
    if state in ("overdue", "missed"):
        return "missed"
    if state in ("pending", "due_soon", "waiting", "conditional"):
        return "open"
    return None   # not_applicable


def judge(row: _Row, policy, now: datetime) -> dict[str, list[str]]:
    """``{regime.stage: [outcome, …]}`` for one real incident, read off ``deadlines.obligations()``
    (the reference; ``judge_fast`` gives the same answer quicker, checked by the tests)."""
    out: dict[str, list[str]] = {}
    for ob in obligations(row.facts, row.report_facts(), policy, now):
        spec = ob.stage_spec
        verdicts = out.setdefault(ob.key, [])
        if spec is not None and spec.repeatable and ob.submitted_at is not None and ob.due_at is None:
            continue   # a report of the series sent before anything it runs from: no deadline to judge
        outcome = _outcome(ob.state)
        if outcome is not None:
            verdicts.append(outcome)
    return out


class _StageRule:
    """A stage's figures, looked up once per computation rather than once per incident."""

    __slots__ = ("spec", "key", "regime", "id", "grades", "personal_info", "repeatable", "anchor",
                 "anchor_pairs", "anchor_stages", "while_open", "pair", "cap", "offset", "window")

    def __init__(self, spec, policy, window: tuple[datetime, datetime] | None = None) -> None:
        self.spec = spec
        self.key, self.regime, self.id = spec.key, spec.regime, spec.id
        self.grades = frozenset(spec.grades)
        self.personal_info = spec.personal_info is True
        self.repeatable, self.anchor, self.while_open = spec.repeatable, spec.anchor, spec.while_open
        self.pair = (spec.regime, spec.id)
        self.anchor_stages = spec.anchor_stages       # a property of the spec: split once here
        self.anchor_pairs = tuple((spec.regime, a) for a in self.anchor_stages)
        # Minutes only: a plain addition; calendar days or months go through the policy's own rule.
        # Calendar days are 24 h while the zone's clock does not change (``window``: Asia/Shanghai
        # keeps +08:00 all year): a plain addition for a deadline from an anchor to a due time
        # both inside the window (``due``), the policy's rule otherwise.
        plain = not spec.offset_months and (window is not None or not spec.offset_days)
        self.offset = timedelta(minutes=spec.offset_minutes, days=spec.offset_days) if plain else None
        self.window = window if plain and spec.offset_days else None
        self.cap = None
        if spec.capped_by:
            try:
                self.cap = _StageRule(policy.stage(spec.regime, spec.capped_by), policy, window)
            except KeyError:
                self.cap = None

    def due(self, anchor: datetime, zone) -> datetime:
        """``spec.due_from(anchor, zone)``; a plain addition where that is the same."""
        off = self.offset
        if off is not None:
            w = self.window
            if w is None or (w[0] <= anchor and anchor + off < w[1]):
                return anchor + off
        return self.spec.due_from(anchor, zone)


@lru_cache(maxsize=32)
def _fixed_window(zone, year: int) -> tuple[datetime, datetime] | None:
    """The UTC instants from the start of the year before ``year`` to the start of the third year
    after it, if ``zone`` keeps one UTC offset all that time (looked at twice a day), else None."""
    lo, hi = datetime(year - 1, 1, 1, tzinfo=timezone.utc), datetime(year + 3, 1, 1, tzinfo=timezone.utc)
    if zone is None:
        return lo, hi
    first = lo.astimezone(zone).utcoffset()
    at, step = lo, timedelta(hours=12)
    while at < hi:
        if at.astimezone(zone).utcoffset() != first:
            return None
        at += step
    return lo, hi


def _fixed_offset(zone, year: int) -> bool:
    """True when ``zone`` keeps one UTC offset from the year before ``year`` to two years after."""
    return _fixed_window(zone, year) is not None


def rules(policy, year: int | None = None) -> list[_StageRule]:
    window = _fixed_window(policy.zone, year) if year is not None else None
    return [_StageRule(s, policy, window) for s in policy.stages() if not s.optional]


def _needs_engine(row: _Row, now: datetime) -> bool:
    """Cases the quick pass leaves to the engine: facts that changed over time, and a record read
    as it stood before its later events (a closing, a handling end or a report after ``now``)."""
    f = row.facts
    if f.history or (f.closed_at is not None and f.closed_at > now):
        return True
    if f.created_at is not None and f.created_at > now:
        return True
    if f.handling_closed_at is not None and f.handling_closed_at > now:
        return True
    return row.latest is not None and row.latest > now


def judge_fast(row: _Row, stage_rules: list[_StageRule], now: datetime, policy=None) -> dict[str, list[str]]:
    """What ``judge`` answers, through the quick column pass ``compute()`` runs (``_judge_columns``)
    for this one incident; the cases in ``_needs_engine`` go to the engine itself."""
    f = row.facts
    if f.status == "withdrawn":
        return {}
    if policy is not None and _needs_engine(row, now):
        return judge(row, policy, now)
    shapes = _Shapes(stage_rules)
    cols = _Cols()
    cols.ids, cols.occurred, cols.discovered = [f.id], [f.occurred_at], [f.discovered_at]
    cols.handled, cols.closed_at, cols.closed = [f.handling_closed_at], [f.closed_at], [f.status == "closed"]
    cols.shape = [shapes.of(f.grade, f.personal_info or f.personal_info_unsure)]
    cols.over = {0: frozenset(k for k, _ in f.close_over)} if f.close_over else {}
    verdicts = _judge_columns(cols, _Firsts.of_row(row), stage_rules, now,
                              policy.zone if policy is not None else None, shapes)
    out = {}
    for st in stage_rules:
        v = verdicts[st.key][0]
        out[st.key] = list(v) if st.repeatable else ([v] if v is not None else [])
    return out


def _local_text(at: datetime, zone) -> str:
    return at.astimezone(zone).isoformat(" ", "minutes")[:16]


def _rate(c: dict[str, int]) -> float | None:
    judged = c["met"] + c["met_late"] + c["missed"]
    return round(c["met"] / judged, 4) if judged else None


# ---------------------------------------------------------------- prevention checks

def _checks(p: Period, zone) -> dict[str, Any]:
    runs = on_time = 0
    for done_at, due_at in (CheckRun.select(CheckRun.done_at, CheckRun.due_at)
                            .where((CheckRun.done_at >= p.start) & (CheckRun.done_at < p.end)).tuples()):
        runs += 1
        if due_at is None or done_at.astimezone(zone).date() <= due_at.astimezone(zone).date():
            on_time += 1
    return {"runs": runs, "on_time": on_time, "late": runs - on_time,
            "rate": round(on_time / runs, 4) if runs else None}


# ---------------------------------------------------------------- the quick pass over a whole period

# What ``deadlines._why_not`` answers for a stage and an incident's grade and personal-information
# answer, looked up in a table per stage by the incident's "shape" (one small number).
_SKIP, _APPLIES, _UNDECIDED_SHAPE = 0, 1, 2


class _Shapes:
    """Grade × personal information (either flag) → a number; per stage, its applicability table."""

    def __init__(self, stage_rules: list[_StageRule]) -> None:
        grades: list[str | None] = [None, *GRADES]
        for st in stage_rules:
            grades.extend(g for g in st.grades if g not in grades)
        self.index = {g: i for i, g in enumerate(grades)}
        self.other = len(grades)          # any other value: not None and in no stage's grades
        self.grades = grades

    def of(self, grade, pi: bool) -> int:
        return self.index.get(grade, self.other) * 2 + (1 if pi else 0)

    def table(self, st: _StageRule) -> tuple[int, ...]:
        out = []
        for i in range(len(self.grades) + 1):
            grade = self.grades[i] if i < len(self.grades) else object()   # the "any other" value
            for pi in (False, True):
                if st.grades and grade is None:
                    out.append(_UNDECIDED_SHAPE)
                elif (st.grades and grade not in st.grades) or (st.personal_info and not pi):
                    out.append(_SKIP)
                else:
                    out.append(_APPLIES)
        return tuple(out)


class _Cols:
    """The incidents the quick pass judges, as columns (one list per fact, aligned)."""

    __slots__ = ("ids", "occurred", "discovered", "handled", "closed_at", "closed", "shape", "over")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.occurred: list[datetime] = []
        self.discovered: list[datetime] = []
        self.handled: list[datetime | None] = []
        self.closed_at: list[datetime | None] = []
        self.closed: list[bool] = []
        self.shape: list[int] = []
        self.over: dict[int, frozenset[str]] = {}   # index → the stages a leader closed over


class _Firsts:
    """The first submission of every report of the period's real incidents (a correction keeps the
    original's time): what the engine reads of the reports. Report number 1 — nearly all of them —
    in ``one[(regime, stage)][incident]``; the other numbers in ``more[(regime, stage)][incident][n]``."""

    __slots__ = ("one", "more", "later")

    def __init__(self, rows, now: datetime, ids: set[int] | None = None) -> None:
        """``rows``: ``(incident, regime, stage, number, submitted_at text)``; only the incidents
        in ``ids`` are kept (all if None)."""
        one: dict[tuple[str, str], dict[int, datetime]] = {}
        more: dict[tuple[str, str], dict[int, dict[int, datetime]]] = {}
        later: set[int] = set()        # a submission after ``now``: the engine reads as of then
        get_one = one.get
        for iid, regime, stage, seq, at in rows:
            if ids is not None and iid not in ids:
                continue
            at = _iso(at)
            if at > now:
                later.add(iid)
            if seq == 1:
                d = get_one((regime, stage))
                if d is None:
                    d = one[(regime, stage)] = {}
                old = d.get(iid)
                if old is None or at < old:
                    d[iid] = at
            else:
                seqs = more.setdefault((regime, stage), {}).setdefault(iid, {})
                old = seqs.get(seq)
                if old is None or at < old:
                    seqs[seq] = at
        self.one, self.more, self.later = one, more, later

    @classmethod
    def of_row(cls, row: _Row) -> "_Firsts":
        """The same for one incident read into a ``_Row``."""
        out = cls((), datetime.max.replace(tzinfo=timezone.utc))
        iid = row.facts.id
        for pair, seqs in row.by_stage.items():
            for seq, at in seqs.items():
                if seq == 1:
                    out.one.setdefault(pair, {})[iid] = at
                else:
                    out.more.setdefault(pair, {}).setdefault(iid, {})[seq] = at
        return out

    def of(self, pair: tuple[str, str], iid: int) -> dict[int, datetime]:
        """{report number → first submission} of one stage of one incident."""
        out = {}
        at = self.one.get(pair, {}).get(iid)
        if at is not None:
            out[1] = at
        out.update(self.more.get(pair, {}).get(iid, {}))
        return dict(sorted(out.items()))

    def by_stage(self, iid: int) -> dict[tuple[str, str], dict[int, datetime]]:
        """What ``_Row.by_stage`` holds for one incident (for the engine)."""
        out = {}
        for pair in dict.fromkeys([*self.one, *self.more]):
            seqs = self.of(pair, iid)
            if seqs:
                out[pair] = seqs
        return out


def _latest(ids: list[int], ones: list[dict], mores: list[dict]) -> list[datetime | None]:
    """Per incident of ``ids``, the latest first submission among some stages (any report number):
    ``ones`` their report number 1 ({incident: time}), ``mores`` the others ({incident: {n: time}})."""
    if not ones:
        top: list = [None] * len(ids)
    else:
        top = list(map(ones[0].get, ids))
        for d in ones[1:]:
            top = [b if a is None or (b is not None and b > a) else a for a, b in zip(top, map(d.get, ids))]
    if any(mores):
        where = {iid: j for j, iid in enumerate(ids)}
        for d in mores:
            for iid, seqs in d.items():
                j = where.get(iid)
                if j is not None:
                    t = max(seqs.values())
                    if top[j] is None or t > top[j]:
                        top[j] = t
    return top


def _stage_dues(st: _StageRule, cols: _Cols, firsts: _Firsts, zone, memo, depth: int = 0) -> list:
    """The deadline of ``st`` for every incident of ``cols``: the engine's ``due_of`` column-wise
    (the anchor, the offset, the cap to three levels as the engine caps)."""
    key = (st.key, depth)
    if key in memo:
        return memo[key]
    a = st.anchor
    if a == "occurred_at":
        anchors = cols.occurred
    elif a == "discovered_at":
        anchors = cols.discovered
    elif a == "handling_closed_at":
        anchors = cols.handled
    elif a == "none":
        anchors = [None] * len(cols.ids)
    else:
        # The latest first submission of the anchor stages, any report number.
        anchors = _latest(cols.ids, [firsts.one[p] for p in st.anchor_pairs if p in firsts.one],
                          [firsts.more[p] for p in st.anchor_pairs if p in firsts.more])
    off = st.offset
    if off is not None and st.window is None:
        dues = [x + off if x is not None else None for x in anchors]
    else:
        due = st.due
        dues = [due(x, zone) if x is not None else None for x in anchors]
    if st.cap is not None and depth < 3:
        caps = _stage_dues(st.cap, cols, firsts, zone, memo, depth + 1)
        dues = [c if c is not None and (d is None or c < d) else d for d, c in zip(dues, caps)]
    memo[key] = dues
    return dues


def _judge_columns(cols: _Cols, firsts: _Firsts, stage_rules: list[_StageRule], now: datetime, zone,
                   shapes: _Shapes) -> dict[str, list]:
    """``judge_fast`` for many incidents at once, one stage at a time: per stage key, the
    verdicts in ``cols`` order — for a repeatable stage (续报) a list of each incident's
    verdicts, else each incident's one verdict or None (the stage does not apply or is not counted).

    The branches are the engine's (``deadlines.obligations``), in its order: the submission, an
    undecided grade, a stage that ends with the handling, the close, the deadline against ``now``.
    """
    memo: dict = {}
    out: dict[str, list] = {}
    empty: dict = {}
    ids, handled, closed_at, closed, over = cols.ids, cols.handled, cols.closed_at, cols.closed, cols.over
    n = len(ids)
    for st in stage_rules:
        table = shapes.table(st)
        dues = _stage_dues(st, cols, firsts, zone, memo)
        if st.repeatable:
            out[st.key] = _judge_series(st, cols, firsts, dues, table, now, zone)
            continue
        key, while_open = st.key, st.while_open
        # A stage sent once: its report number 1 (the engine's ``originals.get((regime, stage, 1))``).
        mine = firsts.one.get(st.pair, empty)
        verdicts: list[str | None] = [None] * n
        for j, shape in enumerate(cols.shape):
            applies = table[shape]
            if applies == _SKIP:
                continue
            due = dues[j]
            sub = mine.get(ids[j])
            if sub is not None:
                verdicts[j] = "met_late" if due is not None and sub > due else "met"
            elif applies == _UNDECIDED_SHAPE:
                if not closed[j]:
                    verdicts[j] = "open"    # its clock runs while the leaders decide
            elif while_open and handled[j] is not None:
                if due is not None and due < handled[j]:
                    verdicts[j] = "missed"
            elif closed[j]:
                # Owed at the close and never sent (or closed over with a leader's reason): missed.
                if due is not None and ((closed_at[j] is not None and due < closed_at[j])
                                        or (j in over and key in over[j])):
                    verdicts[j] = "missed"
            elif due is None or due >= now:
                verdicts[j] = "open"
            else:
                verdicts[j] = "missed"
        out[key] = verdicts
    return out


def _judge_series(st: _StageRule, cols: _Cols, firsts: _Firsts, dues, table, now: datetime, zone) -> list[list[str]]:
    """A repeatable stage: each sent report judged against the latest earlier report of an anchor
    stage plus the offset, then the next report of the series as a plain obligation."""
    empty: dict = {}
    mine = firsts.one.get(st.pair, empty)
    mine_more = firsts.more.get(st.pair, empty)
    ones = [firsts.one[p] for p in st.anchor_pairs if p in firsts.one]
    mores = [firsts.more[p] for p in st.anchor_pairs if p in firsts.more]
    off = st.offset
    handled, closed_at, closed, over = cols.handled, cols.closed_at, cols.closed, cols.over
    key, while_open = st.key, st.while_open
    out = []
    for j, (iid, due, shape) in enumerate(zip(cols.ids, dues, cols.shape)):
        verdicts: list[str] = []
        one = mine.get(iid)
        many = mine_more.get(iid) if mine_more else None
        if one is not None or many:
            if many or mores:
                times = [t for d in ones if (t := d.get(iid)) is not None]
                for d in mores:
                    times.extend(d.get(iid, empty).values())
                both = dict(many or {})
                if one is not None:
                    both[1] = one
                sent = [at for _, at in sorted(both.items())]
            else:
                times, sent = [t for d in ones if (t := d.get(iid)) is not None], (one,)
            for at in sent:
                before = None
                for t in times:
                    if t < at and (before is None or t > before):
                        before = t
                if before is not None:
                    sdue = before + off if off is not None and st.window is None else st.due(before, zone)
                    verdicts.append("met" if at <= sdue else "met_late")
        applies = table[shape]
        if applies == _SKIP:
            pass
        elif applies == _UNDECIDED_SHAPE:
            if not closed[j]:
                verdicts.append("open")
        elif while_open and handled[j] is not None:
            if due is not None and due < handled[j]:
                verdicts.append("missed")
        elif closed[j]:
            if due is not None and ((closed_at[j] is not None and due < closed_at[j])
                                    or (j in over and key in over[j])):
                verdicts.append("missed")
        elif due is None or due >= now:
            verdicts.append("open")
        else:
            verdicts.append("missed")
        out.append(verdicts)
    return out


# ---------------------------------------------------------------- the figures

def _fetch(db, p: Period):
    """The period's incidents and the submitted reports of its real ones, as plain tuples: the
    reports read from the index on (status, incident, …, submitted_at) alone, over the range of
    the real incidents' ids (the caller keeps those of the period's real incidents)."""
    lo, hi = Incident.occurred_at.db_value(p.start), Incident.occurred_at.db_value(p.end)
    incidents = db.execute_sql(
        "SELECT id, code, title, category, grade, occurred_at, discovered_at, handling_closed_at, "
        "personal_info, personal_info_unsure, status, is_drill, closed_at, created_at, version FROM incident "
        "WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id", (lo, hi)).fetchall()
    ids = [r[0] for r in incidents if not r[11] and r[10] != "withdrawn"]
    if not ids:
        return incidents, []
    # Incidents are mostly entered in the order they happen, so a period's ids lie close together:
    # a range of the index, no join (a join on the period's times, or an IN list of 10,000 ids,
    # costs more than reading the few reports of other periods inside the range).
    reports = db.execute_sql(
        "SELECT incident_id, regime, stage, seq, submitted_at FROM report "
        "WHERE status IN ('submitted', 'superseded') AND incident_id BETWEEN ? AND ? "
        "AND submitted_at IS NOT NULL", (min(ids), max(ids))).fetchall()
    return incidents, reports


class _Known:
    """What ``models.fact_history`` reads of an incident, without a model object (peewee builds
    one in ~60 µs: 0.5 s for a year's incidents); the creation time parsed only for a walk."""

    __slots__ = ("id", "version", "grade", "personal_info", "personal_info_unsure", "_created")

    def __init__(self, row) -> None:
        (self.id, self.grade, self.personal_info, self.personal_info_unsure, self.version, self._created) = (
            row[0], row[4], bool(row[8]), bool(row[9]), row[14], row[13])

    @property
    def created_at(self):
        return _iso(self._created) if self._created else None


def _history_of(real: list) -> tuple[dict[int, tuple[str, str]], dict[int, tuple]]:
    """The grade and personal-information history of the incidents among ``real`` (rows of
    ``_fetch``) that were ever edited (a later version: none for the others), in two parts:
    ``(summaries, walked)``. Summaries ``(last change's time, [[grade, involved], …] as JSON)``
    come from the derived table (``models.fact_history.summaries``) and are all most incidents
    need; the few it cannot answer for are walked from the trail (``FactChange``s)."""
    ids = [r[0] for r in real if r[14] > 1]
    if not ids:
        return {}, {}
    got = fact_history.summaries(ids)
    if got is None:
        got = ({}, set(ids))
    found, stale = got
    walked = {}
    if stale:
        walked = fact_history.walk([_Known(r) for r in real if r[0] in stale])
    return found, walked


def _full_histories(rows: list, summaries: dict, walked: dict) -> dict[int, tuple]:
    """The ``FactChange``s of these incidents (rows of ``_fetch``) for the engine: walked, or read
    whole from the table (what it no longer answers for by then is walked)."""
    out = {r[0]: walked[r[0]] for r in rows if r[0] in walked}
    ask = [_Known(r) for r in rows if r[0] in summaries and r[0] not in out]
    if ask:
        found, left = fact_history.read(ask)
        out.update(found)
        if left:
            out.update(fact_history.walk(left))
    return out


def _close_over_of(ids) -> dict[int, tuple]:
    """The obligations a leader closed over, with the reason (few rows: read them all)."""
    from models.tables import ObligationNote as N
    found: dict[int, list] = {}
    for iid, regime, stage, reason in (N.select(N.incident, N.regime, N.stage, N.reason)
                                       .where(N.kind == "close_over").order_by(N.id).tuples()):
        if iid in ids:
            found.setdefault(iid, []).append((f"{regime}.{stage}", reason))
    return {iid: tuple(v) for iid, v in found.items()}


def _local_minutes(zone, year: int):
    """``at`` → its local wall time as text to the minute (``YYYY-MM-DD HH:MM``): a plain shift when
    the zone keeps one offset around ``year``, else the zone's own conversion."""
    if zone is not None and _fixed_offset(zone, year):
        shift = zone.utcoffset(datetime(year, 7, 1))
        return lambda at: (at + shift).isoformat(" ", "minutes")[:16]
    return lambda at: at.astimezone(zone).isoformat(" ", "minutes")[:16]


def _quiet(last_at: str, facts: str, now: str, shape: int, shapes: _Shapes, tables: list[tuple[int, ...]],
           memo: dict) -> bool:
    """True when the engine reads an incident with this grade and personal-information history
    as it would read it without one, so the column pass may judge it: every change made by
    ``now`` (``deadlines.as_of`` then takes today's values, the last change's), the last one
    today's shape, and no stage that does not apply today applied at any time
    (``deadlines._lapsed_at`` finds no lapse: the stage is plainly not applicable). ``last_at``
    and ``now``: the store's UTC text (``fact_history.at_text``); ``facts``: ``[[grade,
    involved], …]`` as JSON text (the same text: the same answer, so it is remembered)."""
    if last_at > now:
        return False
    key = (shape, facts)
    quiet = memo.get(key)
    if quiet is None:
        of = shapes.of
        past = tuple(of(grade, pi) for grade, pi in json.loads(facts))
        quiet = memo[key] = bool(past) and past[-1] == shape and not any(
            table[shape] == _SKIP and any(table[p] == _APPLIES for p in past) for table in tables)
    return quiet


def _quiet_walked(changes: tuple, now: datetime, shape: int, shapes: _Shapes, tables, memo) -> bool:
    """``_quiet`` for a history walked from the trail."""
    if not changes:
        return False
    return _quiet(max(fact_history.at_text(c.at) for c in changes), fact_history.facts_text(changes),
                  fact_history.at_text(now), shape, shapes, tables, memo)


def _first_submissions(firsts: _Firsts, ids: list[int]) -> list[datetime | None]:
    """Per incident, its earliest submission of the first report (any report number)."""
    pair = ("school_plan", "first")
    one = firsts.one.get(pair, {})
    out = list(map(one.get, ids))
    more = firsts.more.get(pair)
    if more:
        for j, iid in enumerate(ids):
            seqs = more.get(iid)
            if seqs:
                low = min(seqs.values())
                out[j] = low if out[j] is None or low < out[j] else out[j]
    return out


def _judged(ctx, p: Period, now: datetime, policy, stage_rules, keys, engine: bool,
            verdicts_out: dict[int, dict[str, list[str]]] | None = None):
    """The period's real incidents (in its order) as rows ``(code, title, category, grade,
    status, occurred_at)``, per row its first submission of the first report and that report's
    verdict, the on-time counts, and the drills and withdrawn incidents as ``(code, title,
    occurred_at, status)``.

    ``engine``: judge every incident with ``deadlines.obligations()`` (the reference the tests hold
    the quick pass to); otherwise the quick column pass, and the engine for what it leaves: facts
    that changed over time (grade, personal information), and a record read as it stood before its
    later events (a close, a handling end, a record or report after ``now``). ``verdicts_out``
    receives each real incident's ``{regime.stage: [verdict, …]}`` (for the tests).
    """
    counts = {k: dict.fromkeys(OUTCOMES, 0) for k in keys}
    db = ctx.store.db
    inc_rows, rep_rows = _fetch(db, p)
    drills = [(r[1], r[2], _iso(r[5]), r[10]) for r in inc_rows if r[11]]
    withdrawn = [(r[1], r[2], _iso(r[5]), r[10]) for r in inc_rows if not r[11] and r[10] == "withdrawn"]
    real = [r for r in inc_rows if not r[11] and r[10] != "withdrawn"]
    n = len(real)
    if not n:
        return [], [], [], counts, drills, withdrawn
    ids = [r[0] for r in real]
    id_set = set(ids)
    firsts = _Firsts(rep_rows, now, id_set)
    later = firsts.later
    if engine:
        # The reference reads no derived table: every history walked from the audit trail.
        summaries, walked = {}, fact_history.walk([_Known(r) for r in real if r[14] > 1])
    else:
        summaries, walked = _history_of(real)
    overs = _close_over_of(id_set)
    occurred = [_iso(r[5]) for r in real]
    discovered = [_iso(r[6]) for r in real]
    handled = [_iso(r[7]) if r[7] else None for r in real]
    closed_at = [_iso(r[12]) if r[12] else None for r in real]
    first_at = _first_submissions(firsts, ids)
    first_verdict: list[str | None] = [None] * n
    shapes = _Shapes(stage_rules)
    index, other = shapes.index, shapes.other
    shape_of = [index.get(r[4], other) * 2 + (1 if r[8] or r[9] else 0) for r in real]
    if engine:
        slow = list(range(n))
    else:
        tables = [shapes.table(st) for st in stage_rules]
        memo: dict = {}
        now_text = fact_history.at_text(now)
        slow = [j for j, (r, h, c) in enumerate(zip(real, handled, closed_at))
                if r[0] in later or (c is not None and c > now) or (h is not None and h > now)
                or (r[13] and _iso(r[13]) > now)
                or ((sm := summaries.get(r[0])) is not None
                    and not _quiet(sm[0], sm[1], now_text, shape_of[j], shapes, tables, memo))
                or (r[0] in walked and not _quiet_walked(walked[r[0]], now, shape_of[j], shapes, tables, memo))]
    if len(slow) < n:
        cols = _Cols()
        gone = set(slow)
        quick = [j for j in range(n) if j not in gone]
        cols.ids = [ids[j] for j in quick]
        cols.occurred = [occurred[j] for j in quick]
        cols.discovered = [discovered[j] for j in quick]
        cols.handled = [handled[j] for j in quick]
        cols.closed_at = [closed_at[j] for j in quick]
        cols.closed = [real[j][10] == "closed" for j in quick]
        cols.shape = [shape_of[j] for j in quick]
        cols.over = {k: frozenset(key for key, _ in overs[ids[j]]) for k, j in enumerate(quick) if ids[j] in overs}
        verdicts = _judge_columns(cols, firsts, stage_rules, now, policy.zone, shapes)
        for st in stage_rules:
            vs = verdicts[st.key]
            if st.repeatable:
                vs = [v for many in vs for v in many]
            c = counts.get(st.key)
            if c is None:
                c = counts[st.key] = dict.fromkeys(OUTCOMES, 0)
            for o in OUTCOMES:
                c[o] += vs.count(o)
        if verdicts_out is not None:
            for k, iid in enumerate(cols.ids):
                verdicts_out[iid] = {
                    st.key: list(verdicts[st.key][k]) if st.repeatable
                    else [verdicts[st.key][k]] if verdicts[st.key][k] is not None else []
                    for st in stage_rules}
        mine = verdicts.get(FIRST_KEY)
        if mine is not None:
            repeatable = any(st.repeatable for st in stage_rules if st.key == FIRST_KEY)
            for j, v in zip(quick, mine):
                first_verdict[j] = (v[0] if v else None) if repeatable else v
    full = _full_histories([real[j] for j in slow], summaries, walked)
    for j in slow:
        (iid, code, title, cat, grade, _occ, _disc, _hcl, pi, unsure, status, _drill, _closed,
         created, _version) = real[j]
        facts = IncidentFacts(
            id=iid, code=code, title=title, category=cat, grade=grade, occurred_at=occurred[j],
            discovered_at=discovered[j], handling_closed_at=handled[j], personal_info=bool(pi),
            personal_info_unsure=bool(unsure), status=status, is_drill=False, closed_at=closed_at[j],
            created_at=_iso(created) if created else None, close_over=overs.get(iid, ()),
            history=full.get(iid, ()))
        row = _Row(facts, closed_at[j])
        row.by_stage = firsts.by_stage(iid)
        verdicts = judge(row, policy, now)
        if verdicts_out is not None:
            verdicts_out[iid] = verdicts
        for key, outs in verdicts.items():
            if outs:
                c = counts.get(key)
                if c is None:
                    c = counts[key] = dict.fromkeys(OUTCOMES, 0)
                for o in outs:
                    c[o] += 1
        first = verdicts.get(FIRST_KEY)
        first_verdict[j] = first[0] if first else None
    return real, occurred, list(zip(first_at, first_verdict)), counts, drills, withdrawn


def compute(ctx, p: Period, now: datetime | None = None, engine: bool = False) -> dict[str, Any]:
    """Every figure of the period as one JSON-able dict (see the module's docstring).

    ``engine=True`` judges every incident with ``deadlines.obligations()`` itself (slow; the
    reference ``tests/test_stats_fast.py`` compares the quick pass with)."""
    from models.taxonomy import load_taxonomy
    now = now or ctx.now()
    zone = ctx.zone
    tax = load_taxonomy()
    policy = ctx.policy
    cat_class = {c.id: (c.plan_class or NOT_IN_PLAN) for c in tax.categories}
    class_order = [c.plan_class for c in tax.categories if c.plan_class] + [NOT_IN_PLAN]
    # On time: the statutory first report first, then every stage in the policy's order.
    keys = [FIRST_KEY] + [s.key for s in policy.stages() if not s.optional and s.key != FIRST_KEY]
    stage_rules = rules(policy, p.year)
    real, occurred, firsts, counts, drills, withdrawn = _judged(ctx, p, now, policy, stage_rules, keys, engine)
    # The reference converts each time with the zone itself.
    local = _local_minutes(zone, p.year) if not engine else (lambda at: _local_text(at, zone))
    texts = [local(at) for at in occurred]

    by_class = {k: 0 for k in dict.fromkeys(class_order)}
    by_category = {c.id: 0 for c in tax.categories}
    by_grade = {g: 0 for g in GRADES}
    by_grade[UNDECIDED] = 0
    by_month = {m: 0 for m in p.months()}
    for cat, n in Counter(r[3] for r in real).items():
        by_category[cat] = by_category.get(cat, 0) + n
        cls = cat_class.get(cat, NOT_IN_PLAN)
        by_class[cls] = by_class.get(cls, 0) + n
    for grade, n in Counter(r[4] for r in real).items():
        by_grade[grade if grade in GRADES else UNDECIDED] += n
    for month, n in Counter(text[:7] for text in texts).items():
        by_month[month] = by_month.get(month, 0) + n
    by_status = dict(Counter(r[10] for r in real))
    listing = [{"code": r[1], "title": r[2], "occurred_at": text, "category": r[3], "grade": r[4] or "",
                "status": r[10], "first_report": first or "-"}
               for r, text, (_, first) in zip(real, texts, firsts)]
    delays = [((at - occ).total_seconds() / 60, r[1])
              for r, occ, (at, _) in zip(real, occurred, firsts) if at is not None]
    on_time = {k: {**c, "rate": _rate(c)} for k, c in counts.items()
               if k == FIRST_KEY or any(c.values())}

    first_report: dict[str, Any] = {"count": len(delays), "median_minutes": None, "worst_minutes": None,
                                    "worst_code": None}
    if delays:
        worst = max(delays)
        first_report.update(median_minutes=round(statistics.median(d for d, _ in delays), 1),
                            worst_minutes=round(worst[0], 1), worst_code=worst[1])

    return {
        "school": ctx.settings.school_name or "",
        "period": {"year": p.year, "semester": p.semester, "month": p.month,
                   "from": p.first_day.isoformat(), "to": p.last_day.isoformat(),
                   "label": period_label(p), "as_of": now.astimezone(zone).isoformat(timespec="minutes")},
        "incidents": {"real": len(real), "drills": len(drills), "withdrawn": len(withdrawn),
                      "by_class": by_class, "by_category": by_category, "by_grade": by_grade,
                      "by_month": by_month, "by_status": by_status},
        "on_time": on_time,
        "first_report": first_report,
        "checks": _checks(p, zone),
        "drills": [{"code": code, "title": title, "occurred_at": _local_text(occ, zone),
                    "ended": status == "closed"} for code, title, occ, status in drills],
        "withdrawn": [{"code": code, "title": title, "occurred_at": _local_text(occ, zone)}
                      for code, title, occ, _ in withdrawn],
        "list": listing,
    }


# ---------------------------------------------------------------- the earlier, simpler API

@dataclass
class IncidentStats:
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_grade: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    drills_held: int = 0


def incident_stats(since: datetime | None = None, until: datetime | None = None) -> IncidentStats:
    """Counts over any range: real incidents (withdrawn false alarms left out), drills apart."""
    q = Incident.select(Incident.category, Incident.grade, Incident.status, Incident.is_drill)
    if since is not None:
        q = q.where(Incident.occurred_at >= since)
    if until is not None:
        q = q.where(Incident.occurred_at < until)
    rows = list(q.tuples())
    real = [r for r in rows if not r[3] and r[2] != "withdrawn"]
    return IncidentStats(total=len(real), by_category=dict(Counter(r[0] for r in real)),
                         by_grade=dict(Counter(r[1] or "-" for r in real)),
                         by_status=dict(Counter(r[2] for r in real)),
                         drills_held=sum(1 for r in rows if r[3]))
