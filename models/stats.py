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

def _dt(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    out = datetime.fromisoformat(value)
    return out if out.tzinfo else out.replace(tzinfo=timezone.utc)


@dataclass
class _Row:
    facts: IncidentFacts
    closed_at: datetime | None
    subcategory: str | None
    reports: list[ReportFacts] = field(default_factory=list)


def _read(p: Period) -> list[_Row]:
    cols = (Incident.id, Incident.code, Incident.title, Incident.category, Incident.grade,
            Incident.occurred_at, Incident.discovered_at, Incident.handling_closed_at,
            Incident.personal_info, Incident.status, Incident.is_drill, Incident.closed_at,
            Incident.subcategory)
    rows: dict[int, _Row] = {}
    q = (Incident.select(*cols).where((Incident.occurred_at >= p.start) & (Incident.occurred_at < p.end))
         .order_by(Incident.occurred_at, Incident.id).tuples())
    for (iid, code, title, cat, grade, occ, disc, hclosed, pi, status, drill, closed, sub) in q:
        rows[iid] = _Row(IncidentFacts(id=iid, code=code, title=title, category=cat, grade=grade,
                                       occurred_at=occ, discovered_at=disc, handling_closed_at=hclosed,
                                       personal_info=bool(pi), status=status, is_drill=bool(drill)),
                         closed, sub)
    if not rows:
        return []
    # Reports of the period's incidents: a join on the same range (an IN list of 10,000 ids is slower).
    rq = (Report.select(Report.incident, Report.regime, Report.stage, Report.seq, Report.status,
                        Report.submitted_at, Report.id)
          .join(Incident, on=(Report.incident == Incident.id))
          .where((Incident.occurred_at >= p.start) & (Incident.occurred_at < p.end)
                 & Report.status.in_(("submitted", "superseded")) & Report.submitted_at.is_null(False))
          .tuples())
    for iid, regime, stage, seq, status, sub_at, rid in rq:
        row = rows.get(iid)
        if row is not None:
            row.reports.append(ReportFacts(regime=regime, stage=stage, seq=seq, status=status,
                                           submitted_at=sub_at, id=rid))
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


def _series(stage, reports: list[ReportFacts]) -> list[str]:
    """Each submitted report of a repeatable stage against its own deadline (met / met_late)."""
    subs: dict[int, datetime] = {}
    for r in reports:
        if r.regime == stage.regime and r.stage == stage.id:
            if r.seq not in subs or r.submitted_at < subs[r.seq]:
                subs[r.seq] = r.submitted_at
    if not subs:
        return []
    anchors = set(stage.anchor_stages)
    anchor_times = sorted(r.submitted_at for r in reports if r.regime == stage.regime and r.stage in anchors)
    out = []
    for seq, at in sorted(subs.items()):
        before = [a for a in anchor_times if a < at]
        if not before:
            continue
        due = before[-1] + timedelta(minutes=stage.offset_minutes)
        out.append("met" if at <= due else "met_late")
    return out


def judge(row: _Row, policy, now: datetime) -> dict[str, list[str]]:
    """``{regime.stage: [outcome, …]}`` for one real incident."""
    out: dict[str, list[str]] = {}
    obls = obligations(row.facts, row.reports, policy, now)
    at_close = None
    for ob in obls:
        spec = ob.stage_spec
        key = f"{ob.regime}.{ob.stage}"
        verdicts = out.setdefault(key, [])
        if spec is not None and spec.repeatable:
            verdicts.extend(_series(spec, row.reports))
        outcome = _outcome(ob.state)
        if outcome is None and ob.reason == "reason.closed" and row.closed_at is not None:
            # Closed without this report: judged as things stood at closing (an overdue one was missed).
            if at_close is None:
                facts = replace(row.facts, status="handled")
                at_close = {(o.regime, o.stage): o for o in obligations(facts, row.reports, policy,
                                                                        min(row.closed_at, now))}
            then = at_close.get((ob.regime, ob.stage))
            outcome = "missed" if then is not None and _outcome(then.state) == "missed" else None
        if outcome is not None:
            verdicts.append(outcome)
    return out


def _first_submission(row: _Row) -> datetime | None:
    times = [r.submitted_at for r in row.reports if r.regime == "school_plan" and r.stage == "first"]
    return min(times) if times else None


def _rate(c: dict[str, int]) -> float | None:
    judged = c["met"] + c["met_late"] + c["missed"]
    return round(c["met"] / judged, 4) if judged else None


# ---------------------------------------------------------------- prevention checks

def _checks(p: Period, zone) -> dict[str, Any]:
    runs = on_time = 0
    for done_at, due_at in (CheckRun.select(CheckRun.done_at, CheckRun.due_at)
                            .where((CheckRun.done_at >= p.start) & (CheckRun.done_at < p.end)).tuples()):
        runs += 1
        if due_at is None or _dt(done_at).astimezone(zone).date() <= _dt(due_at).astimezone(zone).date():
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

    rows = _read(p)
    real = [r for r in rows if not r.facts.is_drill and r.facts.status != "withdrawn"]
    drills = [r for r in rows if r.facts.is_drill]
    withdrawn = [r for r in rows if not r.facts.is_drill and r.facts.status == "withdrawn"]

    by_class = {k: 0 for k in dict.fromkeys(class_order)}
    by_category = {c.id: 0 for c in tax.categories}
    by_grade = {g: 0 for g in GRADES}
    by_grade[UNDECIDED] = 0
    by_month = {m: 0 for m in p.months()}
    for r in real:
        f = r.facts
        cls = cat_class.get(f.category, NOT_IN_PLAN)
        by_class[cls] = by_class.get(cls, 0) + 1
        by_category[f.category] = by_category.get(f.category, 0) + 1
        by_grade[f.grade if f.grade in GRADES else UNDECIDED] += 1
        month = f.occurred_at.astimezone(zone).strftime("%Y-%m")
        by_month[month] = by_month.get(month, 0) + 1

    # On time: the statutory first report first, then every stage in the policy's order.
    keys = [FIRST_KEY] + [s.key for s in policy.stages() if not s.optional and s.key != FIRST_KEY]
    counts = {k: dict.fromkeys(OUTCOMES, 0) for k in keys}
    listing = []
    delays: list[tuple[float, str]] = []
    for r in real:
        verdicts = judge(r, policy, now)
        for key, outs in verdicts.items():
            c = counts.setdefault(key, dict.fromkeys(OUTCOMES, 0))
            for o in outs:
                c[o] += 1
        first_at = _first_submission(r)
        if first_at is not None and r.facts.occurred_at is not None:
            delays.append(((first_at - r.facts.occurred_at).total_seconds() / 60, r.facts.code))
        first = verdicts.get(FIRST_KEY) or ["-"]
        listing.append({
            "code": r.facts.code, "title": r.facts.title,
            "occurred_at": r.facts.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "category": r.facts.category, "grade": r.facts.grade or "", "status": r.facts.status,
            "first_report": first[0],
        })
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
                    "occurred_at": r.facts.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    "ended": r.facts.status == "closed"} for r in drills],
        "withdrawn": [{"code": r.facts.code, "title": r.facts.title,
                       "occurred_at": r.facts.occurred_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")}
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
