"""Contacts, call trees and calls through the real services on a real SQLite file."""
from datetime import timedelta

import pytest

from models.audit import events_for, verify
from models.calls import log_call
from models.calltree import incident_progress, set_tree, steps, tree_version
from models.contacts import (add_contact, edit_contact, ensure_seeded, get_contact, grouped, in_quiet_hours,
                             list_contacts, remove_contact)
from models.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from models.incidents import IncidentInput, create_incident, incident_obligations
from models.tables import CallLog, CallTreeStep, Contact, Report
from tests.conftest import SH, T0, make_ctx


def _incident(ctx, minutes_ago=40):
    return create_incident(ctx, IncidentInput(title="学籍账号异常登录", category="network_attack",
                                              occurred_at=T0 - timedelta(minutes=minutes_ago),
                                              discovered_at=T0 - timedelta(minutes=minutes_ago - 5),
                                              description="管理员账号在凌晨异地登录"))


def _fill(ctx, role, name, mobile, **extra):
    slot = next(c for c in list_contacts() if c.role == role)
    return edit_contact(ctx, slot.id, {"name": name, "mobile": mobile, **extra})


def _oral(ctx, inc):
    return next(o for o in incident_obligations(ctx, inc) if (o.regime, o.stage) == ("school_plan", "oral"))


def test_seeding_ships_every_role_without_personal_data_and_runs_once(ctx):
    assert ensure_seeded(ctx) is True
    assert ensure_seeded(ctx) is False
    rows = list_contacts()
    roles = [c.role for c in rows]
    assert roles == ["leader", "deputy", "academic_affairs", "administration", "student_affairs",
                     "general_affairs", "registrar", "class_teacher", "bureau", "cac", "police"]
    assert all(c.name == "" and c.mobile == "" and c.office == "" for c in rows)
    assert [c.upstream for c in rows][-3:] == [True, True, True] and not rows[0].upstream
    assert [s.role for s in steps("new_incident")] == ["registrar", "academic_affairs", "deputy", "leader", "bureau"]
    groups = grouped(rows)
    assert [g.id for g, _ in groups][:2] == ["leader", "deputy"] and groups[-1][0].upstream


def test_contact_validation_collects_every_problem(ctx):
    ensure_seeded(ctx)
    with pytest.raises(ValidationError) as exc:
        add_contact(ctx, {"role": "janitor", "mobile": "call me", "quiet_hours": "late"})
    assert set(exc.value.fields) == {"contact.role", "contact.mobile", "contact.quiet_hours"}
    c = add_contact(ctx, {"role": "副组长", "name": "王有长", "mobile": "１３８－0000－1111",
                          "quiet_hours": "22:00～07:00"})
    assert (c.role, c.mobile, c.quiet_hours) == ("deputy", "138-0000-1111", "22:00-07:00")
    night = T0.replace(hour=15)   # 23:00 in Shanghai
    assert in_quiet_hours(c.quiet_hours, night, SH) and not in_quiet_hours(c.quiet_hours, T0, SH)


def test_only_admins_edit_contacts_and_versions_guard_against_overwrites(store, clock):
    admin = make_ctx(store, clock)
    ensure_seeded(admin)
    officer = make_ctx(store, clock, role="officer", username="li")
    with pytest.raises(PermissionDenied):
        add_contact(officer, {"role": "leader", "name": "陈云柱"})
    c = _fill(admin, "leader", "陈云柱", "13900000001")
    edit_contact(admin, c.id, {"office": "0874-1234567"}, expected_version=c.version)
    # From the same stale version, another field merges: both changes are kept.
    edit_contact(admin, c.id, {"notes": "夜间先打手机"}, expected_version=c.version)
    got = get_contact(c.id)
    assert (got.office, got.notes) == ("0874-1234567", "夜间先打手机")
    # The same field changed differently by both is a conflict for that field only.
    with pytest.raises(ConflictError) as exc:
        edit_contact(admin, c.id, {"office": "0874-7654321", "department": "校办"}, expected_version=c.version)
    assert [f.field for f in exc.value.conflicts] == ["office"]
    assert exc.value.saved == ["department"] and "陈云柱" in exc.value.message
    got = get_contact(c.id)
    assert (got.office, got.department) == ("0874-1234567", "校办")


def test_get_contact_by_id_name_or_unique_role(ctx):
    ensure_seeded(ctx)
    bureau = _fill(ctx, "bureau", "基教科值班室", "0874-3000000")
    assert get_contact("bureau").id == bureau.id == get_contact("县教育局基教科").id
    assert get_contact(f"#{bureau.id}").id == bureau.id == get_contact("基教科值班室").id
    add_contact(ctx, {"role": "deputy", "name": "张学荣", "mobile": "13900000002"})
    add_contact(ctx, {"role": "deputy", "name": "王有长", "mobile": "13900000003"})
    with pytest.raises(ValidationError) as exc:
        get_contact("deputy")
    assert "张学荣" in exc.value.message and "王有长" in exc.value.message
    with pytest.raises(NotFound):
        get_contact("nobody")


def test_reached_call_to_the_bureau_is_the_oral_report(ctx):
    ensure_seeded(ctx)
    inc = _incident(ctx)
    bureau = _fill(ctx, "bureau", "李科长", "0874-3000000")
    assert _oral(ctx, inc).state == "overdue"     # 35 min after discovery, target 30

    first = log_call(ctx, inc.code, bureau.id, "no_answer")
    assert first.oral_reports == [] and _oral(ctx, inc).state == "overdue"
    with pytest.raises(ValidationError) as exc:
        log_call(ctx, inc.code, bureau.id, "reached")
    assert "call.said" in exc.value.fields

    # Issue 12: the call is a late oral report, so it asks why (no placeholder text), and logs nothing until then.
    with pytest.raises(ValidationError) as exc:
        log_call(ctx, inc.code, "bureau", "接通", said="报告学籍账号异常登录，已改密", instructions="3小时内报首报")
    assert "call.late_reason" in exc.value.fields and "迟报原因" in exc.value.message
    done = log_call(ctx, inc.code, "bureau", "接通", said="报告学籍账号异常登录，已改密", instructions="3小时内报首报",
                    late_reason="科长在开会，第一次未接通")
    rep = done.oral_reports[0]
    assert rep.late_reason == "科长在开会，第一次未接通"
    assert (rep.regime, rep.stage, rep.status, rep.channel, rep.recipient) == ("school_plan", "oral", "submitted", "phone", "李科长")
    assert rep.fields == {"summary": "报告学籍账号异常登录，已改密", "instructions": "3小时内报首报"}
    assert rep.submitted_at == T0 and done.call.number == "0874-3000000"
    assert _oral(ctx, inc).state == "met_late"

    again = log_call(ctx, inc.code, bureau.id, "reached")   # a second call needs no new report
    assert again.oral_reports == [] and again.already_met == ["school_plan.oral"]
    assert Report.select().where(Report.stage == "oral").count() == 1
    actions = [e.action for e in events_for("incident", inc.id)]
    assert actions.count("call.log") == 3 and actions.count("call.oral_report") == 1
    assert "report.submit" in [e.action for e in events_for("report", rep.id)]   # the reports feature's own event
    assert verify().ok


def test_an_oral_draft_is_submitted_not_duplicated(ctx):
    ensure_seeded(ctx)
    inc = _incident(ctx, minutes_ago=20)
    _fill(ctx, "bureau", "李科长", "0874-3000000")
    with ctx.store.write():
        Report.create(incident=inc, regime="school_plan", stage="oral", fields={"summary": "草稿", "extra": "x"},
                      created_at=T0, updated_at=T0)
    log_call(ctx, inc.id, "bureau", "reached", said="已口头报告")
    reps = list(Report.select().where(Report.stage == "oral"))
    assert len(reps) == 1 and reps[0].status == "submitted"
    assert reps[0].fields == {"summary": "已口头报告", "extra": "x"}
    assert _oral(ctx, inc).state == "met"


def test_calls_to_others_do_not_count_and_future_times_are_refused(ctx):
    ensure_seeded(ctx)
    inc = _incident(ctx)
    leader = _fill(ctx, "leader", "陈云柱", "13900000001")
    assert log_call(ctx, inc.code, leader.id, "reached").oral_reports == []
    assert _oral(ctx, inc).state == "overdue"
    with pytest.raises(ValidationError) as exc:
        log_call(ctx, inc.code, leader.id, "maybe", at=T0 + timedelta(hours=1))
    assert set(exc.value.fields) == {"call.outcome", "call.at"}
    viewer = make_ctx(ctx.store, ctx.clock, role="viewer", username="v")
    with pytest.raises(PermissionDenied):
        log_call(viewer, inc.code, leader.id, "reached")


def test_call_tree_progress_next_and_reached(ctx):
    ensure_seeded(ctx)
    inc = _incident(ctx)
    reg = _fill(ctx, "registrar", "张石全", "13900000010")
    aa = _fill(ctx, "academic_affairs", "张勤", "13900000011")
    d1 = _fill(ctx, "deputy", "张学荣", "13900000012")
    d2 = add_contact(ctx, {"role": "deputy", "name": "王有长", "mobile": "13900000013"})
    p = incident_progress(inc.id)
    # The leader and the bureau have no number yet: nobody to phone there.
    assert p.next_contact.id == reg.id and [s.state for s in p.steps] == ["pending"] * 3 + ["empty"] * 2

    log_call(ctx, inc.id, reg.id, "reached", said="通知")
    log_call(ctx, inc.id, aa.id, "busy")
    p = incident_progress(inc.id)
    assert [s.state for s in p.steps][:2] == ["reached", "tried"] and p.next_contact.id == aa.id
    log_call(ctx, inc.id, aa.id, "reached", said="通知")
    log_call(ctx, inc.id, d1.id, "no_answer")
    p = incident_progress(inc.id)
    assert p.next_step.role == "deputy" and p.next_contact.id == d2.id   # the other deputy next
    assert p.steps[2].attempts == 1
    log_call(ctx, inc.id, d2.id, "reached", said="通知")
    _fill(ctx, "leader", "陈云柱", "13900000001")
    p = incident_progress(inc.id)
    assert p.next_step.role == "leader" and p.reached_contact_ids == {reg.id, aa.id, d2.id}


def test_call_tree_is_editable_by_admins_with_a_version(store, clock):
    admin = make_ctx(store, clock)
    ensure_seeded(admin)
    v = tree_version("new_incident")
    with pytest.raises(PermissionDenied):
        set_tree(make_ctx(store, clock, role="officer"), "new_incident", ["leader"])
    leader = _fill(admin, "leader", "陈云柱", "13900000001")
    set_tree(admin, "new_incident", ["学籍管理员", f"#{leader.id}", "bureau"], expected_version=v)
    got = steps("new_incident")
    assert [(s.role, s.contact_id) for s in got] == [("registrar", None), (None, leader.id), ("bureau", None)]
    with pytest.raises(ConflictError):
        set_tree(admin, "new_incident", ["bureau"], expected_version=v)
    with pytest.raises(ValidationError):
        set_tree(admin, "new_incident", ["janitor"])
    with pytest.raises(ValidationError):
        set_tree(admin, "Bad Name", ["leader"])


def test_removing_a_contact_keeps_its_calls_readable(ctx):
    ensure_seeded(ctx)
    inc = _incident(ctx)
    bureau = _fill(ctx, "bureau", "李科长", "0874-3000000")
    set_tree(ctx, "new_incident", ["registrar", f"#{bureau.id}"])
    log_call(ctx, inc.id, bureau.id, "reached", said="口头报告", late_reason="先处置后报告")
    remove_contact(ctx, bureau.id)
    assert Contact.get_or_none(Contact.id == bureau.id) is None
    call = CallLog.get()
    assert (call.contact_id, call.contact_name, call.contact_role, call.number) == (None, "李科长", "bureau", "0874-3000000")
    # The tree step that named this person falls back to the role, so the tree keeps its shape.
    assert [(s.role, s.contact_id) for s in CallTreeStep.select().where(CallTreeStep.situation == "new_incident")
            .order_by(CallTreeStep.position)] == [("registrar", None), ("bureau", None)]
    assert incident_progress(inc.id).steps[1].state == "reached"   # matched by the role kept in the log
    assert [e.action for e in events_for("contact", bureau.id)][0] == "contact.delete"


def test_the_board_alarm_names_the_recipient_with_a_number(ctx):
    from models.alarms import who_to_call
    from models.contacts import next_contact
    ensure_seeded(ctx)
    inc = _incident(ctx)
    assert next_contact(ctx, incident_id=inc.id, regime="school_plan", stage="oral") is None
    assert who_to_call(ctx, inc.id, "school_plan", "oral") == "县教育局基教科"   # the policy's recipient
    _fill(ctx, "bureau", "李科长", "0874-3000000")
    _fill(ctx, "cac", "", "0874-12377")
    assert who_to_call(ctx, inc.id, "school_plan", "oral") == "县教育局基教科 李科长 0874-3000000"
    assert who_to_call(ctx, inc.id, "cac_2025", "initial") == "网信部门 0874-12377"


def test_a_withdrawn_incident_still_logs_calls_but_takes_no_report(ctx):
    from models.incidents import withdraw_incident
    ensure_seeded(ctx)
    inc = _incident(ctx)
    _fill(ctx, "bureau", "李科长", "0874-3000000")
    withdraw_incident(ctx, inc.id, "误报")
    res = log_call(ctx, inc.id, "bureau", "reached", said="告知误报")
    assert res.oral_reports == [] and res.call.said == "告知误报"
    assert Report.select().count() == 0


def test_a_failed_report_rolls_back_the_call(ctx, monkeypatch):
    """The call, the oral report and their events commit together: a refused report leaves no call behind."""
    import models.reports
    ensure_seeded(ctx)
    inc = _incident(ctx)
    _fill(ctx, "bureau", "李科长", "0874-3000000")
    calls, events = CallLog.select().count(), len(events_for("incident", inc.id))
    real = models.reports.record_oral_report

    def refuse_after_writing(*args, **kw):   # fault injection: the report half-written, then refused
        real(*args, **kw)
        raise ValidationError({"submit_recipient": ("error.required", {})})
    monkeypatch.setattr(models.reports, "record_oral_report", refuse_after_writing)
    with pytest.raises(ValidationError):
        log_call(ctx, inc.id, "bureau", "reached", said="x")
    assert CallLog.select().count() == calls and Report.select().count() == 0
    assert len(events_for("incident", inc.id)) == events and verify().ok


def test_a_step_nobody_can_be_phoned_on_is_skipped(ctx):
    ensure_seeded(ctx)
    inc = _incident(ctx)
    bureau = _fill(ctx, "bureau", "李科长", "0874-3000000")
    p = incident_progress(inc.id)
    assert [s.state for s in p.steps] == ["empty", "empty", "empty", "empty", "pending"]
    assert p.next_contact.id == bureau.id
