"""Issue 12, the services: times in order (each refusal names both times), oral first, codes
without a ceiling, alarms only for what is still owed, late calls ask why."""
from datetime import timedelta

import pytest

from models.errors import ValidationError
from models.incidents import (IncidentInput, close_incident, create_incident, get_incident,
                              incident_obligations, mark_handled, set_grade)
from models.reports import Submission, open_report, save_draft, submit
from models.tables import Incident, ObligationNote, Report
from models.timeparse import fmt_local
from tests.conftest import T0

OCC = T0 - timedelta(hours=2)
DISC = T0 - timedelta(hours=1)

FULL = {
    "first": {"affected_scope": "120 名学生", "damage": "无", "threat": "低", "trend": "已控制",
              "measures_taken": "断网", "next_steps": "排查", "contact_phone": "0874-1234567"},
    "oral": {"summary": "电话报告"},
    "follow_up": {"ref_previous": "首报", "cause_analysis": "弱口令", "nature": "攻击", "impact_assessment": "小",
                  "planned_measures": "改口令", "contact_phone": "1"},
    "continuing": {"ref_previous": "跟报", "reactions": "无", "tracking": "稳定", "handling": "完成",
                   "contact_phone": "1"},
    "final": {"closed_at": "处置结束", "root_cause": "弱口令", "damage": "无", "evaluation": "一般", "accountability": "无",
              "rectification": "改口令", "lessons": "加强", "contact_phone": "1"},
}


def _incident(ctx, **kw):
    data = dict(title="学籍账号异常登录", category="network_attack", grade="IV", occurred_at=OCC,
                discovered_at=DISC, location="教务处", reported_by="值班员", description="异地登录")
    data.update(kw)
    return create_incident(ctx, IncidentInput(**data))


def _send(ctx, inc, stage, at, **sub):
    r = open_report(ctx, inc.id, "school_plan", stage)
    r = save_draft(ctx, r.id, r.version, FULL[stage])
    sub.setdefault("late_reason", "夜间")
    return submit(ctx, r.id, r.version, Submission(channel="fax", recipient="王科长", at=at, **sub))


def _refusal(fn) -> str:
    with pytest.raises(ValidationError) as exc:
        fn()
    return exc.value.message


def _t(ctx, when):
    return fmt_local(when, ctx.zone)


# ---------------------------------------------------------------- 4. times in order

def test_each_ordering_refusal_names_both_times(ctx, clock):
    inc = _incident(ctx)
    cases = [
        # (what, stage, at, the other time named)
        ("written before occurrence", "first", OCC - timedelta(days=1), OCC),
        ("oral before discovery", "oral", DISC - timedelta(minutes=10), DISC),
    ]
    for what, stage, at, other in cases:
        msg = _refusal(lambda: _send(ctx, inc, stage, at, before_oral_reason="电话不通"))
        assert _t(ctx, at) in msg and _t(ctx, other) in msg, (what, msg)
    msg = _refusal(lambda: mark_handled(ctx, inc.id, OCC - timedelta(minutes=5)))
    assert _t(ctx, OCC - timedelta(minutes=5)) in msg and _t(ctx, OCC) in msg
    # the follow-up before any first report, then before the first report's time
    msg = _refusal(lambda: _send(ctx, inc, "follow_up", T0))
    assert "首报" in msg and "跟报" in msg
    first_at = T0 - timedelta(minutes=30)
    _send(ctx, inc, "oral", DISC + timedelta(minutes=5))
    _send(ctx, inc, "first", first_at)
    msg = _refusal(lambda: _send(ctx, inc, "follow_up", first_at - timedelta(minutes=10)))
    assert _t(ctx, first_at - timedelta(minutes=10)) in msg and _t(ctx, first_at) in msg
    fu_at = T0 - timedelta(minutes=20)
    _send(ctx, inc, "follow_up", fu_at)
    msg = _refusal(lambda: _send(ctx, inc, "continuing", fu_at - timedelta(minutes=5)))
    assert _t(ctx, fu_at - timedelta(minutes=5)) in msg and _t(ctx, fu_at) in msg
    _send(ctx, inc, "continuing", fu_at + timedelta(minutes=5))
    # a final report only once handling has finished, and not before it finished
    msg = _refusal(lambda: _send(ctx, inc, "final", T0))
    assert "处置尚未结束" in msg
    handled_at = T0 - timedelta(minutes=10)
    mark_handled(ctx, inc.id, handled_at)
    msg = _refusal(lambda: _send(ctx, inc, "final", handled_at - timedelta(minutes=1)))
    assert _t(ctx, handled_at - timedelta(minutes=1)) in msg and _t(ctx, handled_at) in msg
    _send(ctx, inc, "final", T0)
    assert Report.select().where(Report.status == "submitted").count() == 5


def test_written_first_before_any_oral_needs_a_recorded_reason(ctx):
    inc = _incident(ctx)
    msg = _refusal(lambda: _send(ctx, inc, "first", T0))
    assert "口头" in msg
    r = _send(ctx, inc, "first", T0, before_oral_reason="基教科电话无人接听")
    assert r.status == "submitted"
    note = ObligationNote.get()
    assert (note.stage, note.kind, note.reason) == ("first", "before_oral", "基教科电话无人接听")
    from models.reports import report_json
    assert report_json(ctx, r)["before_oral_reason"] == "基教科电话无人接听"


def test_oral_then_first_needs_no_reason(ctx):
    inc = _incident(ctx)
    _send(ctx, inc, "oral", DISC + timedelta(minutes=10))
    assert _send(ctx, inc, "first", T0).status == "submitted"
    assert ObligationNote.select().count() == 0


def test_a_correction_through_the_service_keeps_the_follow_up_clock(ctx, clock):
    from models.reports import correct
    inc = _incident(ctx)
    _send(ctx, inc, "oral", DISC + timedelta(minutes=10))
    first = _send(ctx, inc, "first", T0)
    clock.advance(hours=20)
    correct(ctx, first.id, {"damage": "一台终端"}, "补充")
    clock.advance(hours=6)                       # T0 + 26 h: the follow-up (due T0 + 24 h) is overdue
    obls = {o.stage: o for o in incident_obligations(ctx, get_incident(inc.id))}
    assert obls["first"].state == "met" and obls["first"].submitted_at == T0
    assert obls["follow_up"].due_at == T0 + timedelta(hours=24) and obls["follow_up"].state == "overdue"


# ---------------------------------------------------------------- the close, through the service

def test_close_over_an_open_statutory_report_needs_a_leaders_reason(ctx, clock):
    from models.context import Actor
    from models.errors import PermissionDenied
    from models.incidents import CloseBlocked
    inc = _incident(ctx)
    mark_handled(ctx, inc.id, T0)
    with pytest.raises(CloseBlocked) as exc:
        close_incident(ctx, inc.id)
    assert [o.figure for o in exc.value.checklist][0] == "statutory"
    assert exc.value.checklist[0].stage == "first"
    officer = type(ctx)(store=ctx.store, actor=Actor("zhang", "officer"), clock=ctx.clock, settings=ctx.settings)
    with pytest.raises(PermissionDenied):
        close_incident(officer, inc.id, {"*": "x"})
    close_incident(ctx, inc.id, {"school_plan.first": "局长指示", "*": "事后补记"})
    obls = {o.stage: o for o in incident_obligations(ctx, get_incident(inc.id))}
    assert (obls["first"].state, obls["first"].note) == ("missed", "局长指示")
    assert (obls["oral"].state, obls["oral"].note) == ("missed", "事后补记")
    assert (obls["final"].state, obls["final"].note) == ("missed", "事后补记")
    clock.advance(days=400)
    assert {o.stage: o.state for o in incident_obligations(ctx, get_incident(inc.id))}["first"] == "missed"


def test_lowered_grade_shows_the_cac_report_missed_under_the_higher_grade(ctx, clock):
    inc = _incident(ctx, grade=None)
    cac = {o.stage: o for o in incident_obligations(ctx, inc) if o.regime == "cac_2025"}
    assert cac["initial"].state == "conditional" and cac["initial"].due_at == DISC + timedelta(hours=4)
    set_grade(ctx, inc.id, "III", "涉及全校")
    clock.advance(hours=5)                       # the 4-hour report (due T0 + 3 h) passes unmet
    set_grade(ctx, inc.id, "IV", "复核后降级")
    cac = {o.stage: o for o in incident_obligations(ctx, get_incident(inc.id)) if o.regime == "cac_2025"}
    assert (cac["initial"].state, cac["initial"].reason) == ("missed", "reason.grade_lowered")
    assert cac["summary"].state == "not_applicable"


# ---------------------------------------------------------------- 10. codes without a ceiling

def test_codes_go_past_999_numerically(ctx):
    inc = _incident(ctx)
    year = inc.code.split("-")[0]
    Incident.update(code=f"{year}-999").where(Incident.id == inc.id).execute()
    assert _incident(ctx).code == f"{year}-1000"
    assert _incident(ctx).code == f"{year}-1001"        # "1000" > "999" numerically, not as text
    Incident.update(code=f"{year}-1009").where(Incident.code == f"{year}-1001").execute()
    assert _incident(ctx).code == f"{year}-1010"


@pytest.mark.parametrize("answer", [True, None])       # 是, 不确定 at intake
def test_personal_information_ruled_out_after_the_notice_was_due_keeps_it_missed(ctx, clock, answer):
    from models.incidents import update_incident
    inc = _incident(ctx, personal_info=answer)
    clock.advance(hours=30)                        # the 24-hour authority notice passes unmet
    inc = update_incident(ctx, inc.id, None, {"personal_info": False}, "核实未涉及个人信息")
    pipl = {o.stage: o for o in incident_obligations(ctx, get_incident(inc.id)) if o.regime == "pipl"}
    assert (pipl["authority_notice"].state, pipl["authority_notice"].reason) == \
        ("missed", "reason.personal_info_ruled_out")
    assert pipl["individual_notice"].state == "not_applicable"     # not yet due when ruled out


def test_at_between_recording_and_submission_through_the_services(ctx, clock):
    from models.incidents import list_incidents, open_obligations
    inc = _incident(ctx)                                      # recorded at T0
    clock.advance(minutes=20)
    _send(ctx, inc, "oral", T0 + timedelta(minutes=5))
    _send(ctx, inc, "first", T0 + timedelta(minutes=15))
    mark_handled(ctx, inc.id, T0 + timedelta(minutes=18))
    close_incident(ctx, inc.id, {"*": "转县局处理"})
    inc = get_incident(inc.id)

    def at(when):
        return {o.stage: o.state for o in incident_obligations(ctx, inc, when)}
    assert at(OCC - timedelta(hours=1)) == {}                 # before occurrence: nothing
    assert at(T0 - timedelta(minutes=5)) == {}                # occurred, not yet recorded
    then = at(T0 + timedelta(minutes=10))                     # oral sent, first not yet
    assert then["oral"] == "met_late" and then["first"] in ("pending", "due_soon") and then["final"] == "waiting"
    assert at(T0 + timedelta(minutes=16))["first"] == "met"
    # deadlines --at: the incident closed since was open then
    pairs = open_obligations(ctx, T0 + timedelta(minutes=10), list_incidents(include_closed=True))
    assert any(o.stage == "first" and o.is_open for _, o in pairs)
    assert at(T0 + timedelta(minutes=30))["final"] == "missed"


def test_close_with_the_grade_undecided_is_refused_until_graded(ctx, clock):
    """The CAC report is owed only from 较大 up: closing with no grade would leave that unanswered."""
    from datetime import timedelta
    from models.errors import ValidationError
    from models.incidents import IncidentInput, close_incident, create_incident, mark_handled, set_grade
    inc = create_incident(ctx, IncidentInput(title="学籍终端中毒", category="malware",
                                             occurred_at=clock.now() - timedelta(hours=1),
                                             discovered_at=clock.now() - timedelta(minutes=50)))
    mark_handled(ctx, inc.id, at=clock.now())
    with pytest.raises(ValidationError) as exc:
        close_incident(ctx, inc.id, over={"*": "事后补记"})
    key, params = exc.value.fields["grade"]
    assert key == "error.close_needs_grade" and "网信首报" in params["stages"]
    set_grade(ctx, inc.id, "IV", "领导定为一般")
    assert close_incident(ctx, inc.id, over={"*": "事后补记"}).status == "closed"


def test_a_report_closed_over_before_its_deadline_reads_not_sent_never_overdue(ctx, clock):
    """The final report is due 30 days after handling; closed over the day after, it is missed for
    good but was never overdue: the word is 未报 with the reason, not 逾期未报 (QA walkthrough)."""
    from datetime import timedelta
    from models.incidents import (IncidentInput, close_incident, create_incident, get_incident,
                                  incident_obligations, mark_handled)
    from tui.present import obligation_line, state_text
    inc = create_incident(ctx, IncidentInput(title="学籍终端中毒", category="malware", grade="IV",
                                             occurred_at=clock.now() - timedelta(hours=1),
                                             discovered_at=clock.now() - timedelta(minutes=50)))
    mark_handled(ctx, inc.id, at=clock.now())
    clock.advance(days=1)
    close_incident(ctx, inc.id, over={"*": "上级同意以处置记录代替"})
    obls = {o.stage: o for o in incident_obligations(ctx, get_incident(inc.id))}
    final, first = obls["final"], obls["first"]
    assert final.state == "missed" and final.due_at > clock.now()
    assert state_text(final) == "未报" and "未到期" in obligation_line(ctx, get_incident(inc.id), final)
    assert first.state == "missed" and state_text(first) == "逾期未报"      # its 3 hours had passed
