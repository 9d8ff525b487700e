"""The policy engine, table-driven, with ``now`` passed in."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from models.deadlines import IncidentFacts, ReportFacts, needs_delay_reason, obligations
from models.policy import build_policy

UTC = timezone.utc
OCC = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)   # 09:00 Shanghai
POLICY = build_policy(["school_plan", "cac_2025", "pipl"])


def inc(**kw) -> IncidentFacts:
    base = IncidentFacts(id=1, code="2026-001", occurred_at=OCC, discovered_at=OCC + timedelta(minutes=20),
                         category="data_security", grade="IV")
    return replace(base, **kw)


def by_stage(obls):
    """Each stage's obligation; for a series (续报), the one owed next (the highest number)."""
    out = {}
    for o in obls:
        k = (o.regime, o.stage)
        if k not in out or o.seq > out[k].seq:
            out[k] = o
    return out


def test_first_report_due_three_hours_after_occurrence_is_statutory():
    obls = by_stage(obligations(inc(), [], POLICY, OCC + timedelta(hours=1)))
    first = obls[("school_plan", "first")]
    assert first.due_at == OCC + timedelta(hours=3)
    assert first.figure == "statutory" and first.state == "pending"
    assert first.seconds_left == 2 * 3600
    oral = obls[("school_plan", "oral")]
    assert oral.due_at == OCC + timedelta(minutes=50) and oral.figure == "school_target"
    assert oral.state == "overdue"


@pytest.mark.parametrize("minutes_after, state", [
    (0, "pending"), (119, "pending"), (121, "due_soon"), (179, "due_soon"), (181, "overdue"),
])
def test_state_thresholds(minutes_after, state):
    obls = by_stage(obligations(inc(), [], POLICY, OCC + timedelta(minutes=minutes_after)))
    assert obls[("school_plan", "first")].state == state


def test_late_discovery_is_overdue_from_intake_and_needs_a_reason():
    late = inc(discovered_at=OCC + timedelta(hours=5))
    assert needs_delay_reason(late, POLICY)
    assert not needs_delay_reason(inc(), POLICY)
    obls = by_stage(obligations(late, [], POLICY, late.discovered_at))
    assert obls[("school_plan", "first")].state == "overdue"
    assert obls[("school_plan", "first")].seconds_left == -2 * 3600


def test_grade_raised_to_significant_starts_cac_clock_from_original_discovery():
    now = OCC + timedelta(hours=5)
    general = by_stage(obligations(inc(grade="IV"), [], POLICY, now))
    assert general[("cac_2025", "initial")].state == "not_applicable"
    assert general[("cac_2025", "initial")].reason == "reason.grade_below"
    # Issue 12: while the grade is undecided the CAC clock is running: conditional, with its would-be deadline.
    undecided = by_stage(obligations(inc(grade=None), [], POLICY, now))
    assert undecided[("cac_2025", "initial")].state == "conditional"
    assert undecided[("cac_2025", "initial")].due_at == OCC + timedelta(minutes=20) + timedelta(hours=4)
    raised = by_stage(obligations(inc(grade="III"), [], POLICY, now))
    cac = raised[("cac_2025", "initial")]
    assert cac.due_at == OCC + timedelta(minutes=20) + timedelta(hours=4)
    assert cac.state == "overdue"


def test_handling_closed_makes_final_and_summary_due():
    now = OCC + timedelta(days=2)
    open_ = by_stage(obligations(inc(grade="II"), [], POLICY, now))
    assert open_[("school_plan", "final")].state == "waiting"
    assert open_[("cac_2025", "summary")].state == "waiting"
    closed_at = OCC + timedelta(days=1)
    handled = by_stage(obligations(inc(grade="II", handling_closed_at=closed_at, status="handled"), [], POLICY, now))
    assert handled[("school_plan", "final")].due_at == closed_at + timedelta(days=30)
    assert handled[("cac_2025", "summary")].due_at == closed_at + timedelta(days=30)
    assert handled[("cac_2025", "summary")].figure == "statutory"
    assert handled[("school_plan", "continuing")].state == "not_applicable"


def test_submission_meets_and_late_submission_is_met_late():
    on_time = [ReportFacts("school_plan", "first", 1, "submitted", OCC + timedelta(hours=2))]
    late = [ReportFacts("school_plan", "first", 1, "submitted", OCC + timedelta(hours=4))]
    now = OCC + timedelta(hours=6)
    assert by_stage(obligations(inc(), on_time, POLICY, now))[("school_plan", "first")].state == "met"
    assert by_stage(obligations(inc(), late, POLICY, now))[("school_plan", "first")].state == "met_late"
    draft = [ReportFacts("school_plan", "first", 1, "draft", None)]
    assert by_stage(obligations(inc(), draft, POLICY, now))[("school_plan", "first")].state == "overdue"


def test_follow_up_runs_from_first_submission_and_continuing_repeats():
    first_at = OCC + timedelta(hours=2)
    reports = [ReportFacts("school_plan", "first", 1, "submitted", first_at)]
    now = OCC + timedelta(hours=3)
    obls = by_stage(obligations(inc(), reports, POLICY, now))
    assert obls[("school_plan", "follow_up")].due_at == first_at + timedelta(hours=24)
    assert obls[("school_plan", "continuing")].state == "waiting"
    fu_at = OCC + timedelta(hours=20)
    reports.append(ReportFacts("school_plan", "follow_up", 1, "submitted", fu_at))
    reports.append(ReportFacts("school_plan", "continuing", 1, "submitted", fu_at + timedelta(hours=10)))
    # (now after the continuing report was sent: a report sent later does not count yet, issue 12)
    obls = by_stage(obligations(inc(), reports, POLICY, now + timedelta(days=2)))
    cont = obls[("school_plan", "continuing")]
    assert cont.seq == 2 and cont.due_at == fu_at + timedelta(hours=34)
    # The report already sent stays listed, judged against its own deadline (a sent 续报1 vanished).
    sent = [o for o in obligations(inc(), reports, POLICY, now + timedelta(days=2))
            if o.stage == "continuing" and o.seq == 1]
    assert len(sent) == 1 and sent[0].state == "met" and sent[0].submitted_at == fu_at + timedelta(hours=10)
    assert sent[0].due_at == fu_at + timedelta(hours=24)   # the follow-up, plus the series' offset


def test_midnight_crossing():
    # Occurred 22:30 Shanghai; the first report is due 01:30 the next day.
    occ = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    i = inc(occurred_at=occ, discovered_at=occ + timedelta(minutes=5))
    first = by_stage(obligations(i, [], POLICY, occ + timedelta(hours=2, minutes=1)))[("school_plan", "first")]
    from zoneinfo import ZoneInfo
    local = first.due_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert (local.day, local.hour, local.minute) == (26, 1, 30)
    assert first.state == "due_soon"


def test_personal_information_switches_on_pipl_notices():
    now = OCC + timedelta(hours=1)
    without = by_stage(obligations(inc(), [], POLICY, now))
    assert without[("pipl", "authority_notice")].state == "not_applicable"
    with_pi = by_stage(obligations(inc(personal_info=True), [], POLICY, now))
    assert with_pi[("pipl", "authority_notice")].state == "pending"
    assert with_pi[("pipl", "individual_notice")].figure == "school_target"


def test_withdrawn_incident_has_nothing_to_report():
    # Withdrawn before any deadline passed (issue 12: one withdrawn after a deadline keeps it missed).
    obls = obligations(inc(status="withdrawn", closed_at=OCC + timedelta(minutes=25)), [], POLICY,
                       OCC + timedelta(hours=9))
    assert obls and all(o.state == "not_applicable" for o in obls)


def test_school_targets_are_configurable_but_statutory_figures_are_not():
    policy = build_policy(["school_plan"], {"school_plan.oral": 10, "school_plan.first": 600})
    obls = by_stage(obligations(inc(), [], policy, OCC))
    assert obls[("school_plan", "oral")].due_at == OCC + timedelta(minutes=30)
    assert obls[("school_plan", "first")].due_at == OCC + timedelta(hours=3)


def test_nis2_is_off_by_default_and_general_when_enabled():
    assert "nis2" not in [r.id for r in build_policy().regimes]
    nis = build_policy(["nis2"])
    reports = [ReportFacts("nis2", "notification", 1, "submitted", OCC + timedelta(hours=30))]
    obls = by_stage(obligations(inc(), reports, nis, OCC + timedelta(hours=31)))
    assert obls[("nis2", "early_warning")].state == "overdue"
    assert obls[("nis2", "final")].due_at == OCC + timedelta(hours=30, days=30)


def test_most_urgent_first():
    obls = obligations(inc(personal_info=True, grade="III"), [], POLICY, OCC + timedelta(hours=2, minutes=30))
    open_ = [o for o in obls if o.is_open]
    assert [o.state for o in open_][:1] == ["overdue"]
    lefts = [o.seconds_left for o in open_]
    assert lefts == sorted(lefts)


def test_stages_that_are_not_yet_due_are_listed_in_the_plans_order():
    obls = [o for o in obligations(inc(), [], POLICY, OCC) if o.regime == "school_plan" and o.state == "waiting"]
    assert [o.stage for o in obls] == ["follow_up", "continuing", "final"]
