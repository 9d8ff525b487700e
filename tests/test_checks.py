"""Scheduled prevention checks: defaults, due order, completion, findings, banners."""
from datetime import date, timedelta

import pytest

from models import audit
from models.banners import collect
from models.cadence import day_start, local_day
from models.checks import (FollowUp, add_check, complete_check, due_counts, edit_check, get_check, list_checks,
                           seed_defaults)
from models.errors import ConflictError, PermissionDenied, ValidationError
from models.incidents import IncidentInput, list_incidents
from models.tables import AuditEvent, Check, CheckRun
from tests.conftest import SH, T0, make_ctx

BUILTINS = {"hazard_check", "security_check", "backup_check", "password_rotation", "training", "drill",
            "five_looks"}


def test_defaults_are_seeded_once_and_edits_survive_reseeding(ctx):
    assert seed_defaults(ctx) == 7
    assert {c.builtin for c in Check.select()} == BUILTINS
    five = get_check("five_looks")
    assert len(five.checklist) == 5 and "一看人" in five.checklist[0]["zh"]
    edit_check(ctx, five.id, five.version, {"title": "五看自查（本校）", "active": False})
    assert seed_defaults(ctx) == 0
    assert Check.select().count() == 7
    assert get_check("five_looks").title == "五看自查（本校）"
    assert AuditEvent.select().where(AuditEvent.action == "check.seed").count() == 7
    assert audit.verify().ok


def test_list_puts_overdue_then_due_today_first(ctx, clock):
    today = local_day(T0, SH)
    a = add_check(ctx, "每日巡查", "daily", first_due=today)
    b = add_check(ctx, "周检", "weekly", first_due=today - timedelta(days=3))
    c = add_check(ctx, "月检", "monthly", first_due=today + timedelta(days=5))
    views = list_checks(ctx, T0)
    assert [v.id for v in views] == [b.id, a.id, c.id]
    assert [v.state for v in views] == ["overdue", "due_today", "upcoming"]
    assert views[0].days == 3
    assert [v.id for v in list_checks(ctx, T0, due_only=True)] == [b.id, a.id]


def test_completing_moves_due_date_from_the_due_date_and_records_who_and_what(ctx, clock):
    today = local_day(T0, SH)
    chk = add_check(ctx, "安全检查", "weekly", checklist=["杀毒软件", "补丁"], first_due=today - timedelta(days=2))
    res = complete_check(ctx, chk.id, findings="补丁缺 KB5030219", ticks={"补丁": False})
    assert res.late_days == 2
    assert local_day(res.check.next_due_at, SH) == today + timedelta(days=5)   # due + 7, not done + 7
    run = CheckRun.get()
    assert run.done_by == "tester" and run.done_at == T0
    assert run.items == {"杀毒软件": True, "补丁": False}
    assert run.due_at == day_start(today - timedelta(days=2), SH)
    assert AuditEvent.select().where(AuditEvent.action == "check.done").get().reason == "补丁缺 KB5030219"


def test_an_unticked_item_needs_findings_and_nothing_is_written(ctx):
    chk = add_check(ctx, "安全检查", "weekly", checklist=["杀毒软件"])
    with pytest.raises(ValidationError) as err:
        complete_check(ctx, chk.id, ticks={"杀毒软件": False})
    assert "check_findings" in err.value.fields
    assert CheckRun.select().count() == 0
    assert get_check(chk.id).version == chk.version


def test_a_finding_opens_an_incident_and_a_follow_up_check_in_one_go(ctx):
    chk = add_check(ctx, "五看", "monthly", checklist=["三看数据导出"])
    res = complete_check(
        ctx, chk.id, findings="发现未登记的导出", ticks={"三看数据导出": False},
        incident=IncidentInput(title="未登记的学籍数据导出", category="data_security",
                               occurred_at=T0 - timedelta(hours=1), discovered_at=T0),
        follow_up=FollowUp(title="补登学籍使用台账", due=local_day(T0, SH) + timedelta(days=3), responsible="registrar"))
    assert res.incident is not None and res.incident.title == "未登记的学籍数据导出"
    assert [i.id for i in list_incidents()] == [res.incident.id]
    assert res.follow_up.cadence == "once" and res.follow_up.responsible == "registrar"
    assert CheckRun.get().incident_id == res.incident.id and CheckRun.get().follow_up_id == res.follow_up.id
    done = complete_check(ctx, res.follow_up.id, findings="已补登")
    assert done.check.active is False and done.check.next_due_at is None


def test_a_bad_incident_from_a_finding_rolls_back_the_completion(ctx):
    chk = add_check(ctx, "五看", "monthly")
    with pytest.raises(ValidationError):
        complete_check(ctx, chk.id, findings="x", incident=IncidentInput(
            title="", category="data_security", occurred_at=T0, discovered_at=T0))
    assert CheckRun.select().count() == 0 and get_check(chk.id).last_done_at is None


def test_a_stale_version_is_refused(ctx):
    chk = add_check(ctx, "周检", "weekly")
    complete_check(ctx, chk.id, expected_version=chk.version)
    with pytest.raises(ConflictError):
        complete_check(ctx, chk.id, expected_version=chk.version)
    assert CheckRun.select().count() == 1


def test_roles(store, clock):
    viewer = make_ctx(store, clock, role="viewer")
    officer = make_ctx(store, clock, role="officer")
    with pytest.raises(PermissionDenied):
        add_check(officer, "周检", "weekly")
    chk = add_check(make_ctx(store, clock, role="leader"), "周检", "weekly")
    with pytest.raises(PermissionDenied):
        complete_check(viewer, chk.id)
    complete_check(officer, chk.id)


def test_validation_names_each_field(ctx):
    with pytest.raises(ValidationError) as err:
        add_check(ctx, "", "fortnightly")
    assert set(err.value.fields) == {"title", "check_cadence"}
    with pytest.raises(ValidationError) as err:
        add_check(ctx, "x", "every_n_days", every_days=0)
    assert "check_every_days" in err.value.fields


def test_done_in_the_future_is_refused(ctx):
    chk = add_check(ctx, "周检", "weekly")
    with pytest.raises(ValidationError):
        complete_check(ctx, chk.id, done_at=T0 + timedelta(hours=2))


def test_banner_counts_and_escalates_overdue(ctx, clock):
    today = local_day(T0, SH)
    assert collect(ctx, T0) == []
    add_check(ctx, "今日", "daily", first_due=today)
    [b] = collect(ctx, T0)
    assert b.key == "checks-due" and b.level == "info" and "今日到期 1 项" in b.text
    add_check(ctx, "周检", "weekly", first_due=today - timedelta(days=2))
    [b] = collect(ctx, T0)
    assert b.level == "warning" and "逾期 1 项" in b.text
    # A week later both are long overdue: the banner turns red, like a missed deadline.
    later = T0 + timedelta(days=7)
    [b] = collect(ctx, later)
    assert b.level == "error" and "最久 9 天" in b.text
    assert due_counts(ctx, later).overdue == 2


def test_monthly_edit_keeps_month_end_anchor(ctx):
    chk = add_check(ctx, "月末检查", "monthly", first_due=date(2026, 11, 30))
    chk = edit_check(ctx, chk.id, chk.version, {"next_due": date(2027, 1, 31)})
    ctx.clock.set(day_start(date(2027, 1, 31), SH) + timedelta(hours=2))
    res = complete_check(ctx, chk.id)
    assert local_day(res.check.next_due_at, SH) == date(2027, 2, 28)
    ctx.clock.set(day_start(date(2027, 2, 28), SH) + timedelta(hours=2))
    res = complete_check(ctx, chk.id)
    assert local_day(res.check.next_due_at, SH) == date(2027, 3, 31)
