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

Speed: one query for the incidents of the period and one for their submitted reports, read as
tuples (no model objects), and the pure ``deadlines.obligations()`` per incident.
"""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from models.deadlines import IncidentFacts, ReportFacts, obligations
from models.errors import ValidationError
from models.tables import CheckRun, Incident, Report

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


def _dt(value) -> datetime | None:
    """The store's UTC text (``UTCDateTimeField``: ISO 8601 with +00:00) as an aware datetime."""
    return _iso(value) if value else None


class _Row:
    """One incident of the period: its facts, and its submitted reports as plain tuples
    ``(regime, stage, seq, status, submitted_at, id)`` by (regime, stage) (no model objects)."""

    __slots__ = ("facts", "closed_at", "by_stage")

    def __init__(self, facts: IncidentFacts, closed_at: datetime | None) -> None:
        self.facts = facts
        self.closed_at = closed_at
        self.by_stage: dict[tuple[str, str], list[tuple]] = {}

    def report_facts(self) -> list[ReportFacts]:
        return [ReportFacts(regime=r[0], stage=r[1], seq=r[2], status=r[3], submitted_at=r[4], id=r[5])
                for reps in self.by_stage.values() for r in reps]


def _read(ctx, p: Period) -> list[_Row]:
    """The period's incidents and their submitted reports, in two plain SQL reads (peewee's
    row conversion would cost more than all the judging)."""
    lo, hi = Incident.occurred_at.db_value(p.start), Incident.occurred_at.db_value(p.end)
    db = ctx.store.db
    rows: dict[int, _Row] = {}
    cur = db.execute_sql(
        "SELECT id, code, title, category, grade, occurred_at, discovered_at, handling_closed_at, "
        "personal_info, status, is_drill, closed_at FROM incident "
        "WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id", (lo, hi))
    for (iid, code, title, cat, grade, occ, disc, hclosed, pi, status, drill, closed) in cur.fetchall():
        rows[iid] = _Row(IncidentFacts(iid, code, title, cat, grade, _iso(occ), _iso(disc),
                                       _iso(hclosed) if hclosed else None, bool(pi), status, bool(drill)),
                         _iso(closed) if closed else None)
    if not rows:
        return []
    # A join on the same range: an IN list of 10,000 ids is slower.
    cur = db.execute_sql(
        "SELECT r.incident_id, r.regime, r.stage, r.seq, r.status, r.submitted_at, r.id FROM report r "
        "JOIN incident i ON i.id = r.incident_id WHERE i.occurred_at >= ? AND i.occurred_at < ? "
        "AND r.status IN ('submitted', 'superseded') AND r.submitted_at IS NOT NULL", (lo, hi))
    get = rows.get
    for iid, regime, stage, seq, status, sub_at, rid in cur.fetchall():
        row = get(iid)
        if row is not None:
            rep = (regime, stage, seq, status, _iso(sub_at), rid)
            lst = row.by_stage.get((regime, stage))
            if lst is None:
                row.by_stage[(regime, stage)] = [rep]
            else:
                lst.append(rep)
    return list(rows.values())


# ---------------------------------------------------------------- judging obligations

def _outcome(state: str) -> str | None:
    if state in ("met", "met_late"):
        return state
    if state in ("overdue", "missed"):
        return "missed"
    if state in ("pending", "due_soon", "waiting"):
        return "open"
    return None   # not_applicable


def _series(stage, by_stage: dict[tuple[str, str], list[tuple]]) -> list[str]:
    """Each submitted report of a repeatable stage against its own deadline (met / met_late): the
    latest report of an anchor stage before it, plus the stage's offset."""
    subs: dict[int, datetime] = {}
    regime = stage.regime
    for r in by_stage.get((regime, stage.id), ()):
        if r[2] not in subs or r[4] < subs[r[2]]:
            subs[r[2]] = r[4]
    if not subs:
        return []
    anchor_times = sorted(r[4] for a in stage.anchor_stages for r in by_stage.get((regime, a), ()))
    offset = timedelta(minutes=stage.offset_minutes)
    out = []
    for _, at in sorted(subs.items()):
        before = [a for a in anchor_times if a < at]
        if before:
            out.append("met" if at <= before[-1] + offset else "met_late")
    return out


def judge(row: _Row, policy, now: datetime) -> dict[str, list[str]]:
    """``{regime.stage: [outcome, …]}`` for one real incident, read off ``deadlines.obligations()``.

    The reference: ``judge_fast`` gives the same answer quicker (checked by the tests)."""
    out: dict[str, list[str]] = {}
    reports = row.report_facts()
    at_close = None
    for ob in obligations(row.facts, reports, policy, now):
        spec = ob.stage_spec
        verdicts = out.setdefault(f"{ob.regime}.{ob.stage}", [])
        if spec is not None and spec.repeatable:
            verdicts.extend(_series(spec, row.by_stage))
        outcome = _outcome(ob.state)
        if outcome is None and ob.reason == "reason.closed" and row.closed_at is not None:
            # Closed without this report: judged as things stood at closing (an overdue one was missed).
            if at_close is None:
                facts = replace(row.facts, status="handled")
                at_close = {(o.regime, o.stage): o for o in obligations(facts, reports, policy,
                                                                        min(row.closed_at, now))}
            then = at_close.get((ob.regime, ob.stage))
            outcome = "missed" if then is not None and _outcome(then.state) == "missed" else None
        if outcome is not None:
            verdicts.append(outcome)
    return out


class _StageRule:
    """A stage's figures, looked up once per computation rather than once per incident."""

    __slots__ = ("spec", "key", "regime", "id", "grades", "personal_info", "repeatable", "anchor",
                 "anchor_stages", "offset", "while_open", "pair", "anchor_pairs")

    def __init__(self, spec) -> None:
        self.spec = spec
        self.key, self.regime, self.id = spec.key, spec.regime, spec.id
        self.grades = frozenset(spec.grades)
        self.personal_info = spec.personal_info is True
        self.repeatable, self.anchor, self.while_open = spec.repeatable, spec.anchor, spec.while_open
        self.anchor_stages = frozenset(spec.anchor_stages)
        self.offset = timedelta(minutes=spec.offset_minutes)
        self.pair = (spec.regime, spec.id)
        self.anchor_pairs = tuple((spec.regime, a) for a in spec.anchor_stages)


def rules(policy) -> list[_StageRule]:
    return [_StageRule(s) for s in policy.stages() if not s.optional]


def judge_fast(row: _Row, stage_rules: list[_StageRule], now: datetime) -> dict[str, list[str]]:
    """What ``judge`` answers, without building the obligations (10,000 incidents in a year).

    The same rules as ``deadlines.obligations()`` read for a verdict: applicability, the anchor,
    the deadline, the first submission; ``tests/test_stats.py`` checks on random incidents that
    both give the same verdicts, so a change of the deadline rules shows up there.
    """
    f = row.facts
    out: dict[str, list[str]] = {}
    if f.status == "withdrawn":
        return out
    by_stage = row.by_stage
    closed = f.status == "closed"
    for st in stage_rules:
        if st.grades and f.grade not in st.grades:
            continue
        if st.personal_info and not f.personal_info:
            continue
        verdicts: list[str] = []
        mine = by_stage.get(st.pair)
        if st.repeatable:
            if mine:
                verdicts.extend(_series(st.spec, by_stage))
                seq = max(r[2] for r in mine) + 1
            else:
                seq = 1
        else:
            seq = 1
        a = st.anchor
        if a == "occurred_at":
            anchor = f.occurred_at
        elif a == "discovered_at":
            anchor = f.discovered_at
        elif a == "handling_closed_at":
            anchor = f.handling_closed_at
        else:
            anchor = None
            for pair in st.anchor_pairs:
                for r in by_stage.get(pair, ()):
                    if r[3] == "submitted" and (anchor is None or r[4] > anchor):
                        anchor = r[4]
        due = anchor + st.offset if anchor is not None else None
        sub = None
        if not st.repeatable and mine:
            hits = [r[4] for r in mine if r[2] == seq]
            sub = min(hits) if hits else None
        if sub is not None:
            verdicts.append("met_late" if due is not None and sub > due else "met")
        elif st.while_open and f.handling_closed_at is not None:
            pass
        elif closed:
            if due is not None and row.closed_at is not None and due < min(row.closed_at, now):
                verdicts.append("missed")
        elif due is None or due >= now:
            verdicts.append("open")
        else:
            verdicts.append("missed")
        out[st.key] = verdicts
    return out


def _local_text(at: datetime, zone) -> str:
    return at.astimezone(zone).isoformat(" ", "minutes")[:16]


def _first_submission(row: _Row) -> datetime | None:
    times = row.by_stage.get(("school_plan", "first"))
    return min(r[4] for r in times) if times else None


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


# ---------------------------------------------------------------- the figures

def compute(ctx, p: Period, now: datetime | None = None) -> dict[str, Any]:
    """Every figure of the period as one JSON-able dict (see the module's docstring)."""
    from models.taxonomy import load_taxonomy
    now = now or ctx.now()
    zone = ctx.zone
    tax = load_taxonomy()
    policy = ctx.policy
    cat_class = {c.id: (c.plan_class or NOT_IN_PLAN) for c in tax.categories}
    class_order = [c.plan_class for c in tax.categories if c.plan_class] + [NOT_IN_PLAN]

    rows = _read(ctx, p)
    real = [r for r in rows if not r.facts.is_drill and r.facts.status != "withdrawn"]
    drills = [r for r in rows if r.facts.is_drill]
    withdrawn = [r for r in rows if not r.facts.is_drill and r.facts.status == "withdrawn"]

    by_class = {k: 0 for k in dict.fromkeys(class_order)}
    by_category = {c.id: 0 for c in tax.categories}
    by_grade = {g: 0 for g in GRADES}
    by_grade[UNDECIDED] = 0
    by_month = {m: 0 for m in p.months()}
    # On time: the statutory first report first, then every stage in the policy's order.
    keys = [FIRST_KEY] + [s.key for s in policy.stages() if not s.optional and s.key != FIRST_KEY]
    counts = {k: dict.fromkeys(OUTCOMES, 0) for k in keys}
    listing = []
    delays: list[tuple[float, str]] = []
    stage_rules = rules(policy)
    for r in real:
        f = r.facts
        cls = cat_class.get(f.category, NOT_IN_PLAN)
        by_class[cls] = by_class.get(cls, 0) + 1
        by_category[f.category] = by_category.get(f.category, 0) + 1
        by_grade[f.grade if f.grade in GRADES else UNDECIDED] += 1
        local = f.occurred_at.astimezone(zone).isoformat(" ", "minutes")
        by_month[local[:7]] = by_month.get(local[:7], 0) + 1
        verdicts = judge_fast(r, stage_rules, now)
        for key, outs in verdicts.items():
            if outs:
                c = counts.get(key)
                if c is None:
                    c = counts[key] = dict.fromkeys(OUTCOMES, 0)
                for o in outs:
                    c[o] += 1
        first_at = _first_submission(r)
        if first_at is not None:
            delays.append(((first_at - f.occurred_at).total_seconds() / 60, f.code))
        first = verdicts.get(FIRST_KEY)
        listing.append({"code": f.code, "title": f.title, "occurred_at": local[:16], "category": f.category,
                        "grade": f.grade or "", "status": f.status, "first_report": first[0] if first else "-"})
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
                      "by_month": by_month,
                      "by_status": dict(Counter(r.facts.status for r in real))},
        "on_time": on_time,
        "first_report": first_report,
        "checks": _checks(p, zone),
        "drills": [{"code": r.facts.code, "title": r.facts.title,
                    "occurred_at": _local_text(r.facts.occurred_at, zone),
                    "ended": r.facts.status == "closed"} for r in drills],
        "withdrawn": [{"code": r.facts.code, "title": r.facts.title,
                       "occurred_at": _local_text(r.facts.occurred_at, zone)}
                      for r in withdrawn],
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
