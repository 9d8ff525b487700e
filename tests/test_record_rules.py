"""Issue 12, the engine: table-driven, with ``now`` passed in (obligations() is pure).

Missed stays missed; corrections keep their clocks; oral before written; the past as it was;
conditional and lowered grades; calendar months.
"""
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from models.deadlines import FactChange, IncidentFacts, ReportFacts, obligations
from models.policy import add_months, build_policy
from tests.test_deadlines import by_stage

UTC = timezone.utc
SH = ZoneInfo("Asia/Shanghai")
OCC = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)   # 09:00 Shanghai
DISC = OCC + timedelta(minutes=20)
POLICY = build_policy(["school_plan", "cac_2025", "pipl"], zone=SH)
H = timedelta(hours=1)


def inc(**kw) -> IncidentFacts:
    base = IncidentFacts(id=1, code="2026-001", occurred_at=OCC, discovered_at=DISC, category="data_security",
                         grade="IV", created_at=DISC + timedelta(minutes=5))
    return replace(base, **kw)


def rep(stage, at, status="submitted", seq=1, regime="school_plan", rid=None):
    return ReportFacts(regime, stage, seq, status, at, rid)


def ob(facts, reports, now, key=("school_plan", "first"), policy=POLICY):
    return by_stage(obligations(facts, reports, policy, now))[key]


# ---------------------------------------------------------------- 1. missed stays missed

@pytest.mark.parametrize("facts, now, key, state, reason", [
    # closed after the first report's deadline, never sent: missed, not "not applicable (closed)"
    (inc(status="closed", handling_closed_at=OCC + 4 * H, closed_at=OCC + 5 * H), OCC + 9 * H,
     ("school_plan", "first"), "missed", "reason.closed_unmet"),
    # a leader closed over it with a reason, before its 3 hours were up: missed for good, and
    # said to have been closed over before it was due (it reads 未报, never 逾期未报)
    (inc(status="closed", handling_closed_at=OCC + H, closed_at=OCC + 2 * H,
         close_over=(("school_plan.first", "局长指示"),)), OCC + 9 * H,
     ("school_plan", "first"), "missed", "reason.closed_over_before_due"),
    # closed over after its deadline had passed: missed, with the leader's reason
    (inc(status="closed", handling_closed_at=OCC + 4 * H, closed_at=OCC + 5 * H,
         close_over=(("school_plan.first", "局长指示"),)), OCC + 9 * H,
     ("school_plan", "first"), "missed", "reason.closed_over"),
    # withdrawn after a deadline: what was overdue stays missed
    (inc(status="withdrawn", closed_at=OCC + 4 * H), OCC + 9 * H, ("school_plan", "first"), "missed",
     "reason.withdrawn_after_due"),
    # withdrawn before any deadline: nothing was owed
    (inc(status="withdrawn", closed_at=OCC + H), OCC + 9 * H, ("school_plan", "first"), "not_applicable",
     "reason.withdrawn"),
    # PIPL notices pending at a close without a reason, overdue by then: missed
    (inc(personal_info=True, status="closed", handling_closed_at=OCC + 30 * H, closed_at=OCC + 30 * H),
     OCC + 40 * H, ("pipl", "authority_notice"), "missed", "reason.closed_unmet"),
])
def test_owed_obligations_stay_missed(facts, now, key, state, reason):
    o = ob(facts, [], now, key)
    assert (o.state, o.reason) == (state, reason)
    if state == "missed":
        assert o.due_at is not None and not o.is_open


def test_close_over_reason_is_the_note():
    facts = inc(status="closed", handling_closed_at=OCC + H, closed_at=OCC + 2 * H,
                close_over=(("school_plan.first", "局长指示先处置"),))
    assert ob(facts, [], OCC + 9 * H).note == "局长指示先处置"


def test_continuing_overdue_when_handling_finished_is_missed():
    reports = [rep("oral", OCC + 0.2 * H), rep("first", OCC + H), rep("follow_up", OCC + 2 * H)]
    # continuing 1 due follow_up + 24 h = OCC + 26 h; handling finished at OCC + 30 h
    facts = inc(status="handled", handling_closed_at=OCC + 30 * H)
    assert ob(facts, reports, OCC + 31 * H, ("school_plan", "continuing")).state == "missed"
    facts = inc(status="handled", handling_closed_at=OCC + 20 * H)
    assert ob(facts, reports, OCC + 31 * H, ("school_plan", "continuing")).state == "not_applicable"


# ---------------------------------------------------------------- 3. corrections never move clocks

@pytest.mark.parametrize("stage, anchored, offset", [
    ("first", "follow_up", 24 * H),
    ("follow_up", "continuing", 24 * H),
])
def test_a_correction_keeps_the_original_time_and_the_next_clock(stage, anchored, offset):
    chain = {"first": OCC + 2 * H, "follow_up": OCC + 10 * H}
    reports = [rep("oral", OCC + 0.2 * H)]
    for s, at in chain.items():
        status = "superseded" if s == stage else "submitted"
        reports.append(rep(s, at, status, rid=len(reports)))
        if s == stage:
            break
    corrected_at = chain[stage] + 20 * H
    reports.append(rep(stage, corrected_at, rid=99))            # revision 2, submitted later
    now = chain[stage] + offset + H                              # after the true deadline
    obls = by_stage(obligations(inc(), reports, POLICY, now))
    own = obls[("school_plan", stage)]
    assert own.submitted_at == chain[stage] and own.state == "met"
    nxt = obls[("school_plan", anchored)]
    assert nxt.due_at == chain[stage] + offset                   # not corrected_at + offset
    assert nxt.state == "overdue"


def test_continuing_correction_keeps_the_series_clock():
    reports = [rep("oral", OCC), rep("first", OCC + H), rep("follow_up", OCC + 2 * H),
               rep("continuing", OCC + 20 * H, "superseded"), rep("continuing", OCC + 40 * H)]
    o = ob(inc(), reports, OCC + 50 * H, ("school_plan", "continuing"))
    assert o.seq == 2 and o.due_at == OCC + 44 * H and o.state == "overdue"


def test_nis2_final_runs_from_the_original_notification():
    nis = build_policy(["nis2"], zone=SH)
    reports = [rep("notification", OCC + 30 * H, "superseded", regime="nis2"),
               rep("notification", OCC + 60 * H, regime="nis2")]
    o = ob(inc(), reports, OCC + 70 * H, ("nis2", "final"), nis)
    local = (OCC + 30 * H).astimezone(SH)
    assert o.due_at == add_months(local.replace(tzinfo=None), 1).replace(tzinfo=SH)


# ---------------------------------------------------------------- 5. oral first

@pytest.mark.parametrize("discovered_after, oral_due_after", [
    (timedelta(minutes=20), timedelta(minutes=50)),           # discovery + 30 min
    (timedelta(hours=2, minutes=45), timedelta(hours=3)),     # capped by the 3-hour first report
    (timedelta(hours=5), timedelta(hours=3)),                 # discovered late: both overdue at once
])
def test_oral_is_never_due_after_the_first_report(discovered_after, oral_due_after):
    facts = inc(discovered_at=OCC + discovered_after, created_at=OCC + discovered_after)
    obls = by_stage(obligations(facts, [], POLICY, OCC + discovered_after))
    assert obls[("school_plan", "oral")].due_at == OCC + oral_due_after
    assert obls[("school_plan", "oral")].due_at <= obls[("school_plan", "first")].due_at


# ---------------------------------------------------------------- 6. the past as it was

def test_at_before_the_incident_was_recorded_owes_nothing():
    assert obligations(inc(), [], POLICY, OCC - H) == []
    assert obligations(inc(), [], POLICY, OCC + timedelta(minutes=10)) == []   # occurred, not yet recorded


@pytest.mark.parametrize("at, state", [
    (OCC + H, "pending"),              # between recording and submission: not yet met
    (OCC + 2.5 * H, "due_soon"),
    (OCC + 3.5 * H, "overdue"),        # the report sent at +4 h did not exist yet
    (OCC + 5 * H, "met_late"),
])
def test_at_counts_only_reports_submitted_by_then(at, state):
    reports = [rep("first", OCC + 4 * H)]
    assert ob(inc(), reports, at).state == state


def test_at_uses_the_status_of_then():
    closed = inc(status="closed", handling_closed_at=OCC + 50 * H, closed_at=OCC + 60 * H)
    then = by_stage(obligations(closed, [], POLICY, OCC + 2.5 * H))
    assert then[("school_plan", "first")].state == "due_soon"
    assert then[("school_plan", "final")].state == "waiting"          # handling not finished then


# ---------------------------------------------------------------- 7. conditional and lowered grades

def test_undecided_grade_makes_the_cac_stage_conditional_with_its_would_be_deadline():
    o = ob(inc(grade=None), [], DISC + 3.5 * H, ("cac_2025", "initial"))
    assert o.state == "conditional" and o.reason == "reason.conditional"
    assert o.due_at == DISC + 4 * H and o.seconds_left == 1800 and not o.is_open
    decided = ob(inc(grade="III"), [], DISC + 3.5 * H, ("cac_2025", "initial"))
    assert decided.state == "due_soon" and decided.due_at == o.due_at


@pytest.mark.parametrize("lowered_at, reports, state, reason", [
    # graded III, the 4 h report missed, then lowered to IV: what was missed stays visible
    (DISC + 6 * H, [], "missed", "reason.grade_lowered"),
    # graded III, reported, then lowered: met stays visible
    (DISC + 6 * H, [rep("initial", DISC + 3 * H, regime="cac_2025")], "met", "reason.grade_lowered"),
    # lowered before the deadline: it was never owed
    (DISC + 2 * H, [], "not_applicable", "reason.grade_below"),
])
def test_a_lowered_grade_keeps_what_was_met_or_missed(lowered_at, reports, state, reason):
    history = (FactChange(DISC + timedelta(minutes=5), "III", False), FactChange(lowered_at, "IV", False))
    o = ob(inc(grade="IV", history=history), reports, DISC + 10 * H, ("cac_2025", "initial"))
    assert (o.state, o.reason) == (state, reason)
    # and before it was lowered, the stage was simply owed
    before = ob(inc(grade="IV", history=history), [], lowered_at - timedelta(minutes=1), ("cac_2025", "initial"))
    assert before.state in ("pending", "due_soon", "overdue")


# ---------------------------------------------------------------- 9. calendar units

@pytest.mark.parametrize("sent_local, due_local", [
    (datetime(2027, 1, 31, 10, 0), datetime(2027, 2, 28, 10, 0)),     # clamped to the month's end
    (datetime(2028, 1, 31, 10, 0), datetime(2028, 2, 29, 10, 0)),     # leap year
    (datetime(2027, 3, 1, 5, 0), datetime(2027, 4, 1, 5, 0)),         # early morning: local day, not UTC's
    (datetime(2027, 12, 15, 23, 30), datetime(2028, 1, 15, 23, 30)),  # over the year end
])
def test_nis2_one_month_is_the_same_day_next_month(sent_local, due_local):
    nis = build_policy(["nis2"], zone=SH)
    sent = sent_local.replace(tzinfo=SH)
    facts = inc(occurred_at=sent - 50 * H, discovered_at=sent - 49 * H, created_at=sent - 49 * H)
    o = ob(facts, [rep("notification", sent, regime="nis2")], sent + H, ("nis2", "final"), nis)
    assert o.due_at.astimezone(SH).replace(tzinfo=None) == due_local


def test_cac_summary_is_thirty_calendar_days():
    facts = inc(grade="II", status="handled", handling_closed_at=OCC + 5 * H)
    o = ob(facts, [], OCC + 6 * H, ("cac_2025", "summary"))
    assert o.due_at == OCC + 5 * H + timedelta(days=30)
