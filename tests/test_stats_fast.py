"""The statistics' quick column pass against the deadline engine, on a real random SQLite database.

``models.stats.compute()`` judges most incidents with a column pass (``_judge_columns``) and hands
the rest to ``deadlines.obligations()``; ``compute(..., engine=True)`` judges them all with the
engine. Here both are run over one random database holding every shape the figures meet — grades
I–IV and undecided, personal information yes / no / 不确定, drills, withdrawn false alarms, closed
incidents with and without reports and with a leader's close-over reasons, late, missed and open
stages, 续报 series, handling finished before a deadline, corrections, drafts, reports of other
regimes and of no stage, grade and personal-information changes over time, records and reports
after ``now``, deadlines met to the microsecond and missed by one — over periods that cross the
semester and month boundaries of Asia/Shanghai. Each incident's verdicts must equal what the engine
gives for the incident as the app reads it (``models.incidents.facts``), and every figure of
``compute()`` must equal the engine's.
"""
import random
from datetime import datetime, timedelta, timezone

import pytest

from models import stats
from models.clock import FixedClock
from models.config import Settings
from models.deadlines import obligations
from models.incidents import IncidentInput, create_incident, facts, report_facts, set_grade, update_incident
from models.stats import compute, period
from models.tables import Incident, ObligationNote, Report
from tests.conftest import SH, make_ctx

UTC = timezone.utc
# Local midnights the periods turn on (year, semesters from 03-01 and 09-01, months).
BOUNDARIES = [datetime(2026, 1, 1, tzinfo=SH), datetime(2026, 3, 1, tzinfo=SH), datetime(2026, 4, 1, tzinfo=SH),
              datetime(2026, 9, 1, tzinfo=SH), datetime(2026, 10, 1, tzinfo=SH), datetime(2027, 1, 1, tzinfo=SH),
              datetime(2027, 3, 1, tzinfo=SH), datetime(2026, 2, 1, tzinfo=SH)]
START, END = datetime(2025, 12, 10, tzinfo=UTC), datetime(2027, 3, 10, tzinfo=UTC)
# Within the year 2026: some incidents, closes, reports and records lie after it.
NOW = datetime(2026, 9, 20, 3, 17, 41, 250000, tzinfo=UTC)
LATER_NOW = datetime(2027, 3, 15, 2, 0, tzinfo=UTC)

# (regime, stage, rough anchor, minutes) of every stage a report may be written for, and some of none.
STAGES = [("school_plan", "oral", "disc", 30), ("school_plan", "first", "occ", 180),
          ("school_plan", "follow_up", "first", 1440), ("school_plan", "continuing", "follow_up", 1440),
          ("school_plan", "final", "handled", 43200), ("school_plan", "other", "occ", 600),
          ("cac_2025", "initial", "disc", 240), ("cac_2025", "summary", "handled", 43200),
          ("pipl", "authority_notice", "disc", 1440), ("pipl", "individual_notice", "disc", 4320),
          ("nis2", "early_warning", "disc", 1440), ("nis2", "notification", "disc", 4320),
          ("nis2", "final", "notification", 44640), ("school_plan", "no_such_stage", "occ", 60)]
SETTINGS = {
    "default": Settings(school_name="海峰中学"),
    # NIS2's final report is due a calendar month after the notification (the engine's own rule,
    # not a plain addition); school targets change the school plan's minutes.
    "nis2+targets": Settings(school_name="海峰中学", regimes=["school_plan", "cac_2025", "pipl", "nis2"],
                             targets={"school_plan.first": 120, "school_plan.continuing": 720}),
    # A zone whose clocks change: calendar days are not 24 h across the change (the engine's rule).
    "Europe/Berlin": Settings(school_name="海峰中学", timezone="Europe/Berlin"),
}
VARIANT = "variant policy"   # the shipped policies, with a stage sent once that ends with the handling


def _ctx(store, now, name):
    import dataclasses
    ctx = make_ctx(store, FixedClock(now), settings=SETTINGS.get(name, SETTINGS["default"]))
    if name == VARIANT:
        # No shipped stage sent once ends with the handling, nor runs calendar days from a report:
        # make the follow-up one and the PIPL individual notice the other (the engine's own rules apply).
        def change(st):
            if st.key == "school_plan.follow_up":
                return dataclasses.replace(st, while_open=True)
            if st.key == "pipl.individual_notice":
                return dataclasses.replace(st, anchor="stage:authority_notice", offset_minutes=0, offset_days=3)
            return st
        policy = ctx.policy
        regimes = tuple(dataclasses.replace(r, stages=tuple(change(st) for st in r.stages)) for r in policy.regimes)
        ctx.__dict__["policy"] = dataclasses.replace(policy, regimes=regimes)
    return ctx


PERIODS = [dict(), dict(semester=1), dict(semester=2), dict(month=2), dict(month=3), dict(month=8),
           dict(month=9), dict(month=12)]


def _when(rnd: random.Random) -> datetime:
    if rnd.random() < 0.35:   # close to a local midnight a period turns on
        edge = rnd.choice(BOUNDARIES).astimezone(UTC)
        return edge + timedelta(minutes=rnd.randrange(-200, 200), microseconds=rnd.randrange(0, 10**6))
    span = int((END - START).total_seconds())
    return START + timedelta(seconds=rnd.randrange(span), microseconds=rnd.randrange(0, 10**6))


def _report_time(rnd, anchor: datetime, minutes: int) -> datetime:
    due = anchor + timedelta(minutes=minutes)
    roll = rnd.random()
    if roll < 0.12:
        return due                                     # on the deadline to the microsecond: met
    if roll < 0.22:
        return due + timedelta(microseconds=1)         # one microsecond after: late
    return anchor + timedelta(minutes=minutes * rnd.choice([0.1, 0.5, 0.9, 1.2, 2, 5]),
                              microseconds=rnd.randrange(0, 10**6))


def _add_reports(rnd, inc, occ, disc, handled):
    sent: dict[str, datetime] = {}
    for _ in range(rnd.choice([0, 0, 1, 2, 3, 4, 5, 6, 8])):
        regime, stage, anchor_kind, minutes = rnd.choice(STAGES)
        anchor = {"occ": occ, "disc": disc, "handled": handled or occ}.get(anchor_kind) \
            or sent.get(anchor_kind) or occ
        seq = 1
        if stage == "continuing":
            seq = rnd.choice([1, 1, 2, 3, 4])
        elif rnd.random() < 0.04:
            seq = 2                                     # a second number of a stage sent once
        at = _report_time(rnd, anchor, minutes)
        if rnd.random() < 0.06:
            at = NOW + timedelta(seconds=rnd.choice([-30, 20, 50, 90, 3600]))   # around now (and its skew)
        sent[stage] = at
        existing = Report.select().where((Report.incident == inc) & (Report.regime == regime)
                                         & (Report.stage == stage) & (Report.seq == seq)).count()
        roll = rnd.random()
        base = dict(incident=inc, regime=regime, stage=stage, seq=seq, fields={}, created_at=at, updated_at=at)
        if roll < 0.08:
            Report.create(**base, revision=existing + 1, status="draft", submitted_at=None)
        elif roll < 0.16:
            # A correction: the original superseded, the corrected text sent later (it keeps the first time).
            Report.create(**base, revision=existing + 1, status="superseded", submitted_at=at)
            Report.create(**base, revision=existing + 2, status="submitted",
                          submitted_at=at + timedelta(minutes=rnd.randrange(1, 5000)))
        else:
            Report.create(**base, revision=existing + 1, status="submitted", submitted_at=at)


def _series(rnd, inc, occ):
    """A follow-up and a 续报 series each sent on its deadline to the microsecond, or one after."""
    at = occ + timedelta(minutes=rnd.choice([100, 180]), microseconds=rnd.randrange(10**6))
    Report.create(incident=inc, regime="school_plan", stage="first", seq=1, fields={}, status="submitted",
                  submitted_at=at, created_at=at, updated_at=at)
    at += timedelta(minutes=1440)
    for seq, stage in enumerate(["follow_up", "continuing", "continuing", "continuing"]):
        at += timedelta(minutes=1440 if stage == "continuing" else 0, microseconds=rnd.choice([0, 0, 1]))
        Report.create(incident=inc, regime="school_plan", stage=stage, seq=max(seq, 1), fields={},
                      status="submitted", submitted_at=at, created_at=at, updated_at=at)


def _random_incident(rnd, i: int):
    occ = _when(rnd)
    disc = occ + timedelta(minutes=rnd.choice([0, 0, 5, 40, 300, 2000]), microseconds=rnd.randrange(10**6))
    kind = rnd.random()
    status = ("open" if kind < 0.15 else "handled" if kind < 0.3 else "withdrawn" if kind < 0.36 else "closed")
    handled = closed = None
    if status in ("handled", "closed") or rnd.random() < 0.1:
        # Sometimes before the follow-up or the 续报 is due (handling finished early).
        handled = disc + timedelta(minutes=rnd.choice([10, 100, 900, 3000, 20000, 60000]),
                                   microseconds=rnd.randrange(10**6))
    if status == "closed":
        closed = (handled if handled and rnd.random() < 0.9 else disc) + timedelta(
            minutes=rnd.choice([0, 30, 2000, 40000, 90000]))
        if rnd.random() < 0.05:
            handled = None                             # closed without a handling end recorded
    if status == "withdrawn":
        closed = disc + timedelta(minutes=rnd.choice([20, 500, 5000]))
    created = disc + timedelta(minutes=rnd.choice([0, 1, 30, 600]))
    if rnd.random() < 0.04:
        created = NOW + timedelta(hours=rnd.randrange(1, 500))   # recorded after now
    inc = Incident.create(
        code=f"R-{i:05d}", title=f"随机事件 {i}", category=rnd.choice(["malware", "network_attack", "data_security",
                                                                      "facility_failure", "other", "no_such_cat"]),
        grade=rnd.choice(["I", "II", "III", "IV", "IV", None, None]), occurred_at=occ, discovered_at=disc,
        personal_info=rnd.random() < 0.3, personal_info_unsure=rnd.random() < 0.15, status=status,
        is_drill=rnd.random() < 0.05, handling_closed_at=handled, closed_at=closed, created_at=created,
        updated_at=created, grade_decided=True)
    if status == "closed" and rnd.random() < 0.25 or status == "handled" and rnd.random() < 0.1:
        for key in rnd.sample(["school_plan.oral", "school_plan.follow_up", "school_plan.final",
                               "school_plan.continuing", "cac_2025.summary", "pipl.individual_notice"],
                              rnd.randrange(1, 3)):
            regime, stage = key.split(".")
            ObligationNote.create(incident=inc, regime=regime, stage=stage, kind="close_over",
                                  reason="领导决定结案", by="leader", at=closed or NOW)
    if rnd.random() < 0.08:
        _series(rnd, inc, occ)
    else:
        _add_reports(rnd, inc, occ, disc, handled)


def _changed_over_time(store, rnd, i: int):
    """An incident entered through the services whose grade and personal-information answer change."""
    occ = _when(rnd)
    clock = FixedClock(occ + timedelta(hours=1))
    ctx = make_ctx(store, clock)
    inc = create_incident(ctx, IncidentInput(title=f"定级变更 {i}", category="malware", occurred_at=occ,
                                             discovered_at=occ, grade=rnd.choice(["II", "IV", None]),
                                             personal_info=rnd.choice([True, False, None])))
    for _ in range(rnd.randrange(1, 4)):
        clock.advance(hours=rnd.choice([1, 5, 30, 200, 2000]))
        if rnd.random() < 0.6:
            set_grade(ctx, inc.id, rnd.choice(["I", "III", "IV"]), "领导小组定级")
        else:
            update_incident(ctx, inc.id, None, {"personal_info": rnd.choice([True, False, None])})
    if rnd.random() < 0.6:
        handled = clock.advance(hours=rnd.choice([1, 50]))
        closed = handled + timedelta(hours=rnd.choice([1, 300]))
        Incident.update(status="closed", handling_closed_at=handled, closed_at=closed).where(
            Incident.id == inc.id).execute()
    inc = Incident.get_by_id(inc.id)
    _add_reports(rnd, inc, occ, occ, inc.handling_closed_at)


def _graded_after_now(store, grade_then: str, grade_later: str):
    """Recorded before ``NOW`` with one grade, graded otherwise after it: at ``NOW`` the record
    still reads the first grade (as the engine reads it), later the second."""
    occ = NOW - timedelta(days=10)
    clock = FixedClock(occ + timedelta(hours=1))
    ctx = make_ctx(store, clock)
    inc = create_incident(ctx, IncidentInput(title=f"事后定级 {grade_then}→{grade_later}", category="malware",
                                             occurred_at=occ, discovered_at=occ, grade=grade_then,
                                             personal_info=False))
    clock.set(NOW + timedelta(days=5))
    set_grade(ctx, inc.id, grade_later, "领导小组定级")


@pytest.fixture(scope="module")
def random_db(tmp_path_factory):
    from models.store import open_store
    path = tmp_path_factory.mktemp("stats_fast") / "random.db"
    store = open_store(path)
    rnd = random.Random(20261201)
    with store.db.atomic():
        for i in range(500):
            _random_incident(rnd, i)
    for i in range(40):
        _changed_over_time(store, rnd, i)
    _graded_after_now(store, "IV", "III")
    _graded_after_now(store, "III", "IV")
    yield store
    store.close()


def _engine_verdicts(ctx, p, now) -> dict[int, dict[str, list[str]]]:
    """Each real incident of the period as the app reads it (models.incidents.facts), judged by
    deadlines.obligations() and read as the module's docstring defines the statistics."""
    incs = list(Incident.select().where((Incident.occurred_at >= p.start) & (Incident.occurred_at < p.end)
                                        & (Incident.is_drill == False) & (Incident.status != "withdrawn")))  # noqa: E712
    reports: dict[int, list] = {i.id: [] for i in incs}
    for r in Report.select().where(Report.incident.in_(list(reports))):
        reports[r.incident_id].append(r)
    out = {}
    for inc in incs:
        verdicts: dict[str, list[str]] = {}
        for ob in obligations(facts(inc), report_facts(reports[inc.id]), ctx.policy, now):
            spec = ob.stage_spec
            if spec.repeatable and ob.submitted_at is not None and ob.due_at is None:
                continue     # a 续报 sent before anything it runs from: no deadline to judge
            outcome = {"met": "met", "met_late": "met_late", "overdue": "missed", "missed": "missed",
                       "pending": "open", "due_soon": "open", "waiting": "open",
                       "conditional": "open"}.get(ob.state)
            if outcome:
                verdicts.setdefault(ob.key, []).append(outcome)
        out[inc.id] = {k: sorted(v) for k, v in verdicts.items()}
    return out


@pytest.mark.parametrize("name", [*SETTINGS, VARIANT])
@pytest.mark.parametrize("now", [NOW, LATER_NOW], ids=["now-in-year", "year-over"])
def test_quick_pass_gives_the_engines_verdicts_per_incident(random_db, name, now, monkeypatch):
    ctx = _ctx(random_db, now, name)
    p = period(ctx.settings, 2026)
    engine_calls = []
    real_judge = stats.judge
    monkeypatch.setattr(stats, "judge", lambda row, policy, at: engine_calls.append(row.facts.id)
                        or real_judge(row, policy, at))
    stage_rules = stats.rules(ctx.policy, p.year)
    keys = [s.key for s in ctx.policy.stages() if not s.optional]
    quick: dict[int, dict[str, list[str]]] = {}
    stats._judged(ctx, p, now, ctx.policy, stage_rules, keys, False, quick)
    expected = _engine_verdicts(ctx, p, now)
    got = {iid: {k: sorted(v) for k, v in verdicts.items() if v} for iid, verdicts in quick.items()}
    assert got.keys() == expected.keys()
    for iid in expected:
        assert got[iid] == expected[iid], (Incident.get_by_id(iid).code, got[iid], expected[iid])
    # The quick pass did most of the judging, over every outcome and a 续报 series, and judged
    # incidents whose grade or personal-information answer changed without changing what applies.
    judged_quickly = set(got) - set(engine_calls)
    changed = {i.id for i in Incident.select(Incident.id, Incident.code) if not i.code.startswith("R-")}
    assert changed & judged_quickly and changed & set(engine_calls)
    assert len(judged_quickly) > (0.4 if now == NOW else 0.75) * len(got) and engine_calls, len(judged_quickly) / len(got)
    outcomes = {o for iid in judged_quickly for v in got[iid].values() for o in v}
    assert outcomes == {"met", "met_late", "missed", "open"}
    assert any(len(got[iid].get("school_plan.continuing", [])) >= 2 for iid in judged_quickly)


@pytest.mark.parametrize("name", [*SETTINGS, VARIANT])
@pytest.mark.parametrize("now", [NOW, LATER_NOW], ids=["now-in-year", "year-over"])
def test_figures_equal_the_engines_for_every_period(random_db, name, now):
    ctx = _ctx(random_db, now, name)
    for kw in PERIODS:
        for year in (2026, 2025):
            p = period(ctx.settings, year, **kw)
            quick = compute(ctx, p)
            assert quick == compute(ctx, p, engine=True), (year, kw)
            if year == 2026 and not kw:
                assert quick["incidents"]["real"] > 300 and quick["incidents"]["drills"] > 10
                assert quick["incidents"]["withdrawn"] > 10 and quick["first_report"]["count"] > 50


def test_fact_history_of_a_years_incidents_reads_as_that_of_a_few(random_db):
    """``_read_history`` reads every incident's fact events for many incidents (the statistics
    ask for a year's) instead of a list of ids: the same history as asked a few at a time."""
    from models.incidents import _read_history
    incs = list(Incident.select())
    assert len(incs) > 500
    few: dict = {}
    for start in range(0, len(incs), 400):
        few.update(_read_history(incs[start:start + 400]))
    assert _read_history(incs) == few and len(few) >= 30


def _history_decoded_in_python(incs):
    """The reading before SQLite picked the keys: each event's JSON decoded whole by the field (the
    reference); the same walk from events to states (``states_from_events``) after it."""
    from models.incidents import FACT_ACTIONS, FACT_KEYS, states_from_events
    from models.tables import AuditEvent as A
    by_id = {i.id: i for i in incs}
    events: dict = {}
    for entity_id, at, changes in (A.select(A.entity_id, A.at, A.changes)
                                   .where((A.entity == "incident") & A.action.in_(FACT_ACTIONS))
                                   .order_by(A.id).tuples()):
        if not entity_id.isdigit() or int(entity_id) not in by_id:
            continue
        if isinstance(changes, dict) and any(k in changes for k in FACT_KEYS):
            events.setdefault(int(entity_id), []).append((at, changes))
    return states_from_events(by_id, events)


def test_fact_history_picked_by_sqlite_equals_the_events_decoded_whole(random_db):
    """``_read_history`` has SQLite pick the grade and personal-information keys out of each event's
    JSON: the same history as decoding every event whole, on the random year and on odd events
    (true/false/null old values, 不确定 recorded without its own key, a key present with a plain
    value, an event that is not an object, a fact action without fact keys)."""
    from datetime import timedelta

    from models.incidents import _read_history
    from models.tables import AuditEvent
    incs = list(Incident.select().order_by(Incident.id))
    odd = incs[:6]
    odd_changes = [
        {"personal_info": [True, False]},
        {"personal_info": [None, True]},
        {"personal_info": [False, None], "personal_info_unsure": [False, True]},
        {"grade": "III"},
        ["grade", ["IV", "III"]],
        {"title": ["旧", "新"]},
        {"grade": [None, "II"], "personal_info": [False, True], "description": "长" * 300},
    ]
    with random_db.db.atomic():
        for n, inc in enumerate(odd):
            for k, changes in enumerate(odd_changes[n:] + odd_changes[:n]):
                AuditEvent.create(at=inc.created_at + timedelta(minutes=10 + k), actor="tester",
                                  action="incident.edit", entity="incident", entity_id=str(inc.id),
                                  changes=changes, prev_hash="-", hash="-")
    # (Last in this file: the random year keeps these odd events; its chain is not checked here.)
    incs = list(Incident.select().order_by(Incident.id))
    picked = _read_history(incs)
    assert picked == _history_decoded_in_python(incs)
    assert all(inc.id in picked for inc in odd) and len(picked) >= 36
    assert _read_history(incs[:300]) == _history_decoded_in_python(incs[:300])   # the path with ids
