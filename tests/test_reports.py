"""Report services: prefill, autosave with versions, check, submit/freeze, late reason, corrections."""
from datetime import timedelta

import pytest

from models import audit
from models.errors import ConflictError, PermissionDenied, ValidationError
from models.incidents import IncidentInput, create_incident, incident_obligations, mark_handled
from models.reports import (Submission, check, correct, current, in_force, next_seq, open_report,
                            record_oral_report, save_draft, start_correction, submit, versions)
from models.tables import Report
from tests.conftest import T0, make_ctx


def _incident(ctx, **kw):
    data = dict(title="学籍系统账号异常登录", category="network_attack", grade="IV",
                occurred_at=T0 - timedelta(minutes=40), discovered_at=T0 - timedelta(minutes=20),
                location="教务处学籍终端", asset="全国中小学生学籍信息管理系统（学校端）",
                reported_by="值班员李老师", description="发现学籍账号在凌晨异地登录。")
    data.update(kw)
    return create_incident(ctx, IncidentInput(**data))


FIRST_FULL = {"affected_scope": "约 120 名学生记录", "damage": "无", "threat": "较低", "trend": "已控制",
              "measures_taken": "已修改口令、断网", "next_steps": "配合排查", "contact_phone": "0874-1234567"}


def test_open_prefills_from_incident_and_settings(ctx):
    inc = _incident(ctx)
    r = open_report(ctx, inc.code, "school_plan", "first")
    f = r.fields
    assert r.status == "draft" and r.seq == 1 and r.revision == 1
    assert f["occurred_at"] == "2026年11月25日9时20分"      # 02:00Z − 40 min, in Shanghai
    assert f["location"] == "教务处学籍终端"
    assert f["info_source"] == "值班员李老师"
    assert f["event_category"] == "网络攻击事件"
    assert f["event_level"] == "一般（Ⅳ级）"
    assert f["reporting_unit"] == "海峰中学" and f["recipient"] == "县教育局基教科"
    assert f["contact_person"] == "tester"
    assert f["summary"] == "发现学籍账号在凌晨异地登录。"
    # opening again returns the same draft, not a second one
    assert open_report(ctx, inc.id, "school_plan", "first").id == r.id
    assert Report.select().count() == 1


def test_save_draft_versions_and_conflict_keeps_both(ctx):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    a = save_draft(ctx, r.id, r.version, {"damage": "A 写的"})
    assert a.version == r.version + 1 and a.fields["damage"] == "A 写的"
    with pytest.raises(ConflictError) as exc:
        save_draft(ctx, r.id, r.version, {"damage": "B 写的"})
    assert exc.value.current["fields"]["damage"] == "A 写的"
    assert exc.value.attempted["fields"]["damage"] == "B 写的"
    assert Report.get_by_id(r.id).fields["damage"] == "A 写的"


def test_unknown_field_and_control_characters(ctx):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    with pytest.raises(ValidationError) as exc:
        save_draft(ctx, r.id, r.version, {"no_such": "x"})
    assert "no_such" in exc.value.fields
    r = save_draft(ctx, r.id, r.version, {"damage": "[bold]x[/] \x1b[2J ok"})
    assert r.fields["damage"] == "[bold]x[/] [2J ok"


def test_check_lists_missing_and_submit_refuses_until_complete(ctx):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    missing = {m.field for m in check(ctx, r)}
    assert {"affected_scope", "damage", "contact_phone", "next_steps"} <= missing
    assert "location" not in missing
    with pytest.raises(ValidationError) as exc:
        submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax", recipient="王科长"))
    assert "damage" in exc.value.fields
    assert Report.get_by_id(r.id).status == "draft"


def test_submit_freezes_and_meets_the_obligation(ctx):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    with pytest.raises(ValidationError) as exc:
        submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="pigeon", recipient="王科长"))
    assert "submit_channel" in exc.value.fields
    r = submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax", recipient="县教育局基教科王科长",
                                                confirmed_by="王科长"))
    assert r.status == "submitted" and r.submitted_at == T0 and r.submitted_by == "tester"
    assert r.channel == "fax" and r.receipt_confirmed_by == "王科长" and r.late_reason is None
    with pytest.raises(ValidationError):
        save_draft(ctx, r.id, r.version, {"damage": "改"})
    first = [o for o in incident_obligations(ctx, inc) if o.stage == "first"][0]
    assert first.state == "met"
    events = [e.action for e in audit.events_for("report", r.id)]
    assert "report.submit" in events and "report.draft" in events
    assert audit.verify().ok


def test_late_submission_needs_a_reason(ctx, clock):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    clock.advance(hours=3)  # occurred 40 min before T0: the 3 h ran out 20 min ago
    with pytest.raises(ValidationError) as exc:
        submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="phone", recipient="王科长"))
    assert "submit_late_reason" in exc.value.fields
    r = submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="phone", recipient="王科长",
                                                late_reason="值班员在处置现场"))
    assert r.late_reason == "值班员在处置现场"
    first = [o for o in incident_obligations(ctx, inc) if o.stage == "first"][0]
    assert first.state == "met_late"


def test_correction_is_a_new_revision_never_an_edit(ctx, clock):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    r = submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="email", recipient="jjk@example.cn"))
    clock.advance(hours=5)
    with pytest.raises(ValidationError):
        correct(ctx, r.id, {"damage": "一台终端硬盘损坏"}, reason="  ")
    new = correct(ctx, r.id, {"damage": "一台终端硬盘损坏"}, reason="核实后发现硬件受损")
    old = Report.get_by_id(r.id)
    assert old.status == "superseded" and old.fields["damage"] == "无"
    assert new.revision == 2 and new.status == "submitted" and new.supersedes_id == r.id
    assert new.correction_reason == "核实后发现硬件受损" and new.late_reason is None
    assert in_force(inc, "school_plan", "first", 1).id == new.id
    # the deadline is still met by the original time
    first = [o for o in incident_obligations(ctx, inc) if o.stage == "first"][0]
    assert first.state == "met" and first.submitted_at == T0
    assert [v.revision for v in versions(inc, "school_plan", "first", 1)] == [1, 2]


def test_correction_draft_keeps_old_in_force_until_submitted(ctx):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    r = submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="email", recipient="jjk"))
    d = start_correction(ctx, r.id)
    assert d.status == "draft" and d.revision == 2
    assert in_force(inc, "school_plan", "first", 1).id == r.id
    assert current(inc, "school_plan", "first", 1).id == d.id
    with pytest.raises(ValidationError) as exc:
        submit(ctx, d.id, d.version, Submission(before_oral_reason="电话未接通", channel="email", recipient="jjk"))
    assert "correction_reason" in exc.value.fields


def test_repeatable_stage_numbers_1_2_3(ctx, clock):
    inc = _incident(ctx)
    # Issue 12: a continuing report comes after the follow-up (written directly here).
    from models.tables import Report
    Report.create(incident=inc, regime="school_plan", stage="follow_up", fields={}, status="submitted",
                  submitted_at=ctx.now() - timedelta(minutes=1), created_at=ctx.now(), updated_at=ctx.now())
    assert next_seq(ctx, inc, "school_plan", "continuing") == 1
    r1 = open_report(ctx, inc.id, "school_plan", "continuing")
    assert r1.seq == 1
    assert next_seq(ctx, inc, "school_plan", "continuing") == 1   # the draft in progress
    r1 = save_draft(ctx, r1.id, r1.version, {"reactions": "无", "tracking": "t", "handling": "h",
                                              "ref_previous": "跟报", "contact_phone": "1"})
    submit(ctx, r1.id, r1.version, Submission(before_oral_reason="电话未接通", channel="email", recipient="jjk"))
    r2 = open_report(ctx, inc.id, "school_plan", "continuing")
    assert r2.seq == 2 and r2.id != r1.id
    assert "续报" in r2.fields["ref_previous"]
    with pytest.raises(ValidationError):
        open_report(ctx, inc.id, "school_plan", "first", 2)


def test_record_oral_report_for_the_contacts_feature(ctx, clock):
    inc = _incident(ctx)
    at = T0 - timedelta(minutes=5)
    r = record_oral_report(ctx, inc, {"summary": "电话报告基教科王科长"}, recipient="王科长", at=at)
    assert (r.regime, r.stage, r.status, r.channel) == ("school_plan", "oral", "submitted", "phone")
    assert r.submitted_at == at and r.recipient == "王科长" and r.fields["summary"] == "电话报告基教科王科长"
    oral = [o for o in incident_obligations(ctx, inc) if o.stage == "oral"][0]
    assert oral.state == "met"
    # a second reached call does not create a second oral report
    again = record_oral_report(ctx, inc.id, {"summary": "again"}, recipient="李", at=T0)
    assert again.id == r.id and Report.select().count() == 1


def test_late_oral_call_needs_its_reason(ctx, clock):
    # Issue 12: a late oral report asks why it was late; no placeholder text stands in for the reason.
    inc = _incident(ctx)
    clock.advance(hours=2)
    with pytest.raises(ValidationError) as exc:
        record_oral_report(ctx, inc, {}, recipient="王科长")
    assert "submit_late_reason" in exc.value.fields
    r = record_oral_report(ctx, inc, {}, recipient="王科长", late_reason="夜间值班电话故障")
    assert r.status == "submitted" and r.late_reason == "夜间值班电话故障"
    assert r.fields["summary"] == "发现学籍账号在凌晨异地登录。"   # prefilled from the description


def test_viewer_cannot_write(store, clock):
    admin = make_ctx(store, clock)
    inc = _incident(admin)
    viewer = make_ctx(store, clock, role="viewer", username="v")
    with pytest.raises(PermissionDenied):
        open_report(viewer, inc.id, "school_plan", "first")
    r = open_report(admin, inc.id, "school_plan", "first")
    with pytest.raises(PermissionDenied):
        save_draft(viewer, r.id, r.version, {"damage": "x"})


def test_final_prefills_handling_closed(ctx, clock):
    inc = _incident(ctx)
    clock.advance(hours=1)
    mark_handled(ctx, inc.id)
    r = open_report(ctx, inc.id, "school_plan", "final")
    assert r.fields["closed_at"] == "2026年11月25日11时"


def test_repeatable_stage_refuses_a_gap(ctx):
    inc = _incident(ctx)
    with pytest.raises(ValidationError) as exc:
        open_report(ctx, inc.id, "school_plan", "continuing", 3)
    assert "report_seq" in exc.value.fields
