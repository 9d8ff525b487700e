"""A throwaway demo database: a fictional school with something on every screen.

``xueji-duty demo`` creates it in a temporary folder, starts the app on it,
and deletes it on exit; it never touches the user's real database. Every
name, number and event here is invented. Times are relative to ``now`` so
that the deadlines are live whenever the demo is started: one incident is
overdue, one is due within the hour, one was handled and awaits its final
report; a warning is active and prevention checks are due.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import audit
from models.cadence import local_day
from models.checks import edit_check, get_check, seed_defaults
from models.context import Context
from models.incidents import IncidentInput, create_incident, mark_handled
from models.ledger import UseInput, add_use
from models.registry_accounts import add_account
from models.school import save_school_settings
from models.tables import Contact, Incident, Report
from models.warnings import actions_of, add_warning, set_action_done

DEMO_SCHOOL = "青松县示范中学（DEMO 演示）"
DEMO_BUREAU = "青松县教育局基教科"

# (role, name, department, mobile): fictional people, numbers in a reserved-looking 1390000xxxx block.
CONTACTS = (
    ("leader", "林校长（演示）", "校长室", "13900000001"),
    ("deputy", "周副校长（演示）", "校长室", "13900000002"),
    ("academic_affairs", "吴主任（演示）", "教务处", "13900000003"),
    ("registrar", "郑老师（演示）", "教务处", "13900000004"),
    ("bureau", "县教育局基教科值班室（演示）", "青松县教育局", "13900000005"),
    ("police", "城关派出所网安值班（演示）", "公安", "13900000006"),
)


@dataclass
class DemoIncidents:
    overdue: Incident
    due_soon: Incident
    awaiting_final: Incident


def _submit(inc: Incident, regime: str, stage: str, at: datetime, by: str, fields: dict | None = None,
            seq: int = 1, channel: str = "phone") -> Report:
    """A report as the reports work would leave it once submitted (written directly: demo data)."""
    return Report.create(incident=inc, regime=regime, stage=stage, seq=seq, fields=fields or {},
                         status="submitted", submitted_at=at, submitted_by=by, channel=channel,
                         recipient=DEMO_BUREAU, created_by=by, created_at=at, updated_at=at)


def _contacts(ctx: Context) -> None:
    try:
        from models import contacts as contact_service
    except ImportError:
        contact_service = None
    for role, name, dept, mobile in CONTACTS:
        data = {"role": role, "name": name, "department": dept, "mobile": mobile}
        if contact_service is not None and hasattr(contact_service, "add_contact"):
            contact_service.add_contact(ctx, data)
        else:
            with ctx.store.write():
                c = Contact.create(upstream=role in ("bureau", "police"), sort=0, active=True, **data)
                audit.record(ctx, "contact.create", "contact", c.id, {"name": [None, name], "role": [None, role]})


def seed_demo(ctx: Context) -> DemoIncidents:
    """Fill an empty database with the demo school, relative to ``ctx.now()``; the actor must be an admin."""
    from models.roles import require
    require(ctx.actor, "admin")
    now = ctx.now()
    who = ctx.actor.username
    save_school_settings(ctx, {"school_name": DEMO_SCHOOL, "bureau": DEMO_BUREAU,
                               "timezone": ctx.settings.timezone})
    ctx.settings.school_name, ctx.settings.bureau = DEMO_SCHOOL, DEMO_BUREAU
    _contacts(ctx)

    # 1. Overdue: a virus on the registry PC found 3 h 30 min ago; oral report made, first report late.
    overdue = create_incident(ctx, IncidentInput(
        title="学籍专用电脑发现勒索病毒", category="malware", occurred_at=now - timedelta(hours=4),
        discovered_at=now - timedelta(hours=3, minutes=30), location="教务处学籍室", asset="学籍专用电脑",
        reported_by="郑老师（演示）", description="开机后桌面文件被加密，出现勒索提示。已断网隔离。（演示数据）"))
    with ctx.store.write():
        _submit(overdue, "school_plan", "oral", now - timedelta(hours=3, minutes=10), who)

    # 2. Due within the hour: an abnormal login 2 h 20 min ago; the first report is due in 40 min.
    due_soon = create_incident(ctx, IncidentInput(
        title="学籍账号异地异常登录", category="network_attack", occurred_at=now - timedelta(hours=2, minutes=20),
        discovered_at=now - timedelta(hours=2), location="全国学籍系统", asset="学校学籍管理员账号",
        reported_by="郑老师（演示）", description="系统提示账号在外省登录，已联系县级管理员冻结。（演示数据）"))
    with ctx.store.write():
        _submit(due_soon, "school_plan", "oral", now - timedelta(hours=1, minutes=45), who)

    # 3. Handled yesterday, awaiting its final report (due 30 days after handling finished).
    occurred = now - timedelta(days=3, hours=2)
    handled = create_incident(ctx, IncidentInput(
        title="学籍信息误删（已恢复）", category="data_security", occurred_at=occurred,
        discovered_at=occurred + timedelta(minutes=20), location="教务处学籍室", asset="全国学籍系统",
        reported_by="吴主任（演示）", description="批量操作误删 3 名学生信息，已由县级管理员协助恢复。（演示数据）"))
    with ctx.store.write():
        _submit(handled, "school_plan", "oral", occurred + timedelta(minutes=35), who)
        first = _submit(handled, "school_plan", "first", occurred + timedelta(hours=2), who, channel="email")
        _submit(handled, "school_plan", "follow_up", first.submitted_at + timedelta(hours=20), who, channel="email")
    handled = mark_handled(ctx, handled.id, at=now - timedelta(days=1))

    # An active warning from the bureau, with one department done.
    w = add_warning(ctx, "orange", source=DEMO_BUREAU, content="近期针对学籍系统的钓鱼邮件增多，请各校加强防范（演示数据）",
                    received_at=now - timedelta(hours=5), valid_until=now + timedelta(days=3))
    set_action_done(ctx, actions_of(w)[0].id)

    # Prevention checks: the shipped duties, two of them due.
    seed_defaults(ctx)
    today = local_day(now, ctx.zone)
    for builtin, days in (("security_check", -3), ("backup_check", 0), ("five_looks", 2)):
        chk = get_check(builtin)
        edit_check(ctx, chk.id, chk.version, {"next_due": today + timedelta(days=days)})

    # Registry accounts (dates only) and one ledger entry.
    add_account(ctx, "530300000001", "郑老师（演示）", "学校学籍管理员",
                password_changed_at=now - timedelta(days=120), last_used_at=now - timedelta(hours=3))
    add_account(ctx, "530300000002", "吴主任（演示）", "学籍主管",
                password_changed_at=now - timedelta(days=20), last_used_at=now - timedelta(days=200))
    add_use(ctx, UseInput(who="郑老师（演示）", data="初一新生名单（姓名、班级）", purpose="分班（演示）",
                          approved_by="林校长（演示）", recipient="教务处", at=now - timedelta(days=2)))
    return DemoIncidents(overdue=overdue, due_soon=due_soon, awaiting_final=handled)

