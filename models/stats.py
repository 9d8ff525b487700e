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


def _read(ctx, p: Period) -> list[_Row]:
    """The period's incidents and their submitted reports, in two plain SQL reads (peewee's
    row conversion would cost more than all the judging)."""
    lo, hi = Incident.occurred_at.db_value(p.start), Incident.occurred_at.db_value(p.end)
    db = ctx.store.db
    rows: dict[int, _Row] = {}
    cur = db.execute_sql(
        "SELECT id, code, title, category, grade, occurred_at, discovered_at, handling_closed_at, "
        "personal_info, personal_info_unsure, status, is_drill, closed_at, created_at FROM incident "
        "WHERE occurred_at >= ? AND occurred_at < ? ORDER BY occurred_at, id", (lo, hi))
    for (iid, code, title, cat, grade, occ, disc, hclosed, pi, unsure, status, drill, closed,
         created) in cur.fetchall():
        closed_at = _iso(closed) if closed else None
        rows[iid] = _Row(IncidentFacts(id=iid, code=code, title=title, category=cat, grade=grade,
                                       occurred_at=_iso(occ), discovered_at=_iso(disc),
                                       handling_closed_at=_iso(hclosed) if hclosed else None,
                                       personal_info=bool(pi), personal_info_unsure=bool(unsure),
                                       status=status, is_drill=bool(drill),
                                       closed_at=closed_at, created_at=_iso(created) if created else None),
                         closed_at)
    if not rows:
        return []
    _add_history(db, rows)
    _add_close_over(rows)
    # A join on the same range: an IN list of 10,000 ids is slower.
    cur = db.execute_sql(
        "SELECT r.incident_id, r.regime, r.stage, r.seq, r.submitted_at FROM report r "
        "JOIN incident i ON i.id = r.incident_id WHERE i.occurred_at >= ? AND i.occurred_at < ? "
        "AND r.status IN ('submitted', 'superseded') AND r.submitted_at IS NOT NULL", (lo, hi))
    get = rows.get
    for iid, regime, stage, seq, sub_at in cur.fetchall():
        row = get(iid)
        if row is not None:
            at = _iso(sub_at)
            if row.latest is None or at > row.latest:
                row.latest = at
            firsts = row.by_stage.get((regime, stage))
            if firsts is None:
                row.by_stage[(regime, stage)] = {seq: at}
            elif seq not in firsts or at < firsts[seq]:
                firsts[seq] = at
    return list(rows.values())


def _add_history(db, rows: dict[int, _Row]) -> None:
    """Grade and personal-information history (models.incidents.fact_history) for the few
    incidents whose audit trail shows more than their creation among the fact-changing actions."""
    from models.incidents import FACT_ACTIONS, fact_history
    marks = ",".join("?" for _ in FACT_ACTIONS)
    from models.tables import AuditEvent
    cur = db.execute_sql(
        f"SELECT entity_id FROM {AuditEvent._meta.table_name} WHERE entity = 'incident' "
        f"AND action IN ({marks}) GROUP BY entity_id HAVING COUNT(*) > 1", FACT_ACTIONS)
    ids = [int(r[0]) for r in cur.fetchall() if str(r[0]).isdigit() and int(r[0]) in rows]
    if not ids:
        return
    history = fact_history(list(Incident.select().where(Incident.id.in_(ids))))
    for iid, changes in history.items():
        row = rows[iid]
        row.facts = replace(row.facts, history=changes)


def _add_close_over(rows: dict[int, _Row]) -> None:
    """The obligations a leader closed over, with the reason (few rows: read them all)."""
    from models.tables import ObligationNote as N
    found: dict[int, list] = {}
    for iid, regime, stage, reason in (N.select(N.incident, N.regime, N.stage, N.reason)
                                       .where(N.kind == "close_over").order_by(N.id).tuples()):
        if iid in rows:
            found.setdefault(iid, []).append((f"{regime}.{stage}", reason))
    for iid, notes in found.items():
        rows[iid].facts = replace(rows[iid].facts, close_over=tuple(notes))


# ---------------------------------------------------------------- judging obligations

def _outcome(state: str) -> str | None:
    if state in ("met", "met_late"):
        return state
    if state in ("overdue", "missed"):
        return "missed"
    if state in ("pending", "due_soon", "waiting", "conditional"):
        return "open"
    return None   # not_applicable


def _series(stage, by_stage: dict[tuple[str, str], dict[int, datetime]], offset: timedelta | None = None) -> list[str]:
    """Each submitted report of a repeatable stage (续报) against its own deadline: the latest
    report of an anchor stage before it, plus the stage's offset (met / met_late)."""
    subs = by_stage.get((stage.regime, stage.id))
    if not subs:
        return []
    anchor_times = [at for a in stage.anchor_stages for at in by_stage.get((stage.regime, a), {}).values()]
    out = []
    for seq in sorted(subs):
        at = subs[seq]
        before = max((a for a in anchor_times if a < at), default=None)
        if before is not None:
            due = before + offset if offset is not None else stage.due_from(before)
            out.append("met" if at <= due else "met_late")
    return out


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
                 "anchor_pairs", "anchor_stages", "while_open", "pair", "cap", "offset")

    def __init__(self, spec, policy, fixed_zone: bool = False) -> None:
        self.spec = spec
        self.key, self.regime, self.id = spec.key, spec.regime, spec.id
        self.grades = frozenset(spec.grades)
        self.personal_info = spec.personal_info is True
        self.repeatable, self.anchor, self.while_open = spec.repeatable, spec.anchor, spec.while_open
        self.pair = (spec.regime, spec.id)
        self.anchor_stages = spec.anchor_stages       # a property of the spec: split once here
        self.anchor_pairs = tuple((spec.regime, a) for a in self.anchor_stages)
        # Minutes only: a plain addition; calendar days or months go through the policy's own rule.
        # Calendar days are 24 h in a zone without clock changes around the period (Asia/Shanghai).
        plain = not spec.offset_months and (fixed_zone or not spec.offset_days)
        self.offset = timedelta(minutes=spec.offset_minutes, days=spec.offset_days) if plain else None
        self.cap = None
        if spec.capped_by:
            try:
                self.cap = _StageRule(policy.stage(spec.regime, spec.capped_by), policy, fixed_zone)
            except KeyError:
                self.cap = None


    def due_from(self, anchor: datetime, zone=None) -> datetime:
        return self.spec.due_from(anchor, zone)


def _fixed_offset(zone, year: int) -> bool:
    """True when ``zone`` keeps one UTC offset from the year before to the year after ``year``."""
    if zone is None:
        return True
    offsets = {zone.utcoffset(datetime(y, m, 15)) for y in (year - 1, year, year + 1) for m in range(1, 13)}
    return len(offsets) == 1


def rules(policy, year: int | None = None) -> list[_StageRule]:
    fixed = year is not None and _fixed_offset(policy.zone, year)
    return [_StageRule(s, policy, fixed) for s in policy.stages() if not s.optional]


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


def _due(st: _StageRule, f: IncidentFacts, by_stage, zone, depth: int = 0) -> datetime | None:
    a = st.anchor
    if a == "occurred_at":
        anchor = f.occurred_at
    elif a == "discovered_at":
        anchor = f.discovered_at
    elif a == "handling_closed_at":
        anchor = f.handling_closed_at
    elif a == "none":
        anchor = None
    else:
        anchor = None
        for pair in st.anchor_pairs:
            firsts = by_stage.get(pair)
            if firsts:
                top = max(firsts.values())
                if anchor is None or top > anchor:
                    anchor = top
    if anchor is None:
        due = None
    elif st.offset is not None:
        due = anchor + st.offset
    else:
        due = st.spec.due_from(anchor, zone)
    if st.cap is not None and depth < 3:
        cap = _due(st.cap, f, by_stage, zone, depth + 1)
        if cap is not None and (due is None or cap < due):
            due = cap
    return due


def judge_fast(row: _Row, stage_rules: list[_StageRule], now: datetime, policy=None) -> dict[str, list[str]]:
    """What ``judge`` answers, without building the obligations (10,000 incidents in a year).

    The engine's rules read for a verdict (applicability, the anchor, the deadline with its cap,
    the first submission, what closing or finishing the handling leaves missed); the rare cases
    in ``_needs_engine`` go to the engine itself. ``tests/test_stats.py`` checks on random
    incidents that both give the same verdicts, so a change of the deadline rules shows up there.
    """
    f = row.facts
    if f.status == "withdrawn":
        return {}
    if policy is not None and _needs_engine(row, now):
        return judge(row, policy, now)
    zone = policy.zone if policy is not None else None
    out: dict[str, list[str]] = {}
    by_stage = row.by_stage
    closed = f.status == "closed"
    pi = f.personal_info or f.personal_info_unsure
    for st in stage_rules:
        mine = by_stage.get(st.pair)
        verdicts: list[str] = []
        if st.repeatable:
            if mine:
                verdicts.extend(_series(st, by_stage, st.offset))
                seq = max(mine) + 1
            else:
                seq = 1
            sub = None
        else:
            seq = 1
            sub = mine.get(1) if mine else None
        undecided = bool(st.grades) and f.grade is None
        if not undecided and ((st.grades and f.grade not in st.grades) or (st.personal_info and not pi)):
            out[st.key] = verdicts
            continue   # does not apply (no history: it never did)
        due = _due(st, f, by_stage, zone)
        if sub is not None:
            verdicts.append("met_late" if due is not None and sub > due else "met")
        elif undecided:
            if not closed:
                verdicts.append("open")       # conditional: its clock runs while the leaders decide
        elif st.while_open and f.handling_closed_at is not None:
            if due is not None and due < f.handling_closed_at:
                verdicts.append("missed")
        elif closed:
            # Owed at the close and never sent (or closed over with a leader's reason): missed.
            if due is not None and ((f.closed_at is not None and due < f.closed_at)
                                    or any(k == st.key for k, _ in f.close_over)):
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
    firsts = row.by_stage.get(("school_plan", "first"))
    return min(firsts.values()) if firsts else None


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
    stage_rules = rules(policy, p.year)
    for r in real:
        f = r.facts
        cls = cat_class.get(f.category, NOT_IN_PLAN)
        by_class[cls] = by_class.get(cls, 0) + 1
        by_category[f.category] = by_category.get(f.category, 0) + 1
        by_grade[f.grade if f.grade in GRADES else UNDECIDED] += 1
        local = f.occurred_at.astimezone(zone).isoformat(" ", "minutes")
        by_month[local[:7]] = by_month.get(local[:7], 0) + 1
        verdicts = judge_fast(r, stage_rules, now, policy)
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
