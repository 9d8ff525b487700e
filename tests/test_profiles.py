"""The officer's profile: name, title and phone, checked, audited, and used by every report."""
from datetime import timedelta

import pytest

from models import accounts
from models.errors import PermissionDenied, ValidationError
from models.incidents import IncidentInput, create_incident
from models.profiles import profile_of, set_profile, validate_phone
from models.reports import open_report
from models.tables import AuditEvent
from tests.conftest import T0, make_ctx, run_cli

PW = "Admin-pass-2026"


@pytest.mark.parametrize("typed, kept", [
    ("13987654321", "13987654321"),
    ("139 8765 4321", "13987654321"),
    ("139-8765-4321", "13987654321"),
    ("+86 139 8765 4321", "13987654321"),
    ("８６１３９８７６５４３２１", "13987654321"),
    ("0874-3123456", "0874-3123456"),
    ("08743123456", "0874-3123456"),
    ("(0874) 3123456", "0874-3123456"),
    ("010-62345678", "010-62345678"),
    ("021 52345678", "021-52345678"),
    ("0874-3123456转8021", "0874-3123456转8021"),
    ("0874-3123456-8021", "0874-3123456转8021"),
    ("0874 3123456 分机 8021", "0874-3123456转8021"),
    ("0874-3123456 ext 21", "0874-3123456转21"),
    ("", ""),
])
def test_phone_numbers_accepted_in_their_written_form(typed, kept):
    assert validate_phone(typed) == kept


@pytest.mark.parametrize("typed, words", [
    ("3123456", "区号"),            # a landline without its area code
    ("12345", "无法识别"),
    ("1398765432", "无法识别"),     # one digit short
    ("电话找王老师", "无法识别"),
    ("0874-123", "无法识别"),
])
def test_phone_numbers_refused_with_a_clear_message(typed, words):
    with pytest.raises(ValidationError) as exc:
        validate_phone(typed)
    assert words in exc.value.message and typed in exc.value.message


def _users(ctx):
    accounts.create_user(ctx, "li", "officer", "李老师", "Li-pass-2026-x")
    accounts.create_user(ctx, "chen", "leader", "陈云柱", "Chen-pass-2026-x")


def test_own_profile_and_admin_sets_others_audited(store, clock):
    admin = make_ctx(store, clock, role="admin", username="admin")
    _users(admin)
    li = make_ctx(store, clock, role="officer", username="li")
    set_profile(li, None, title="学籍管理员", phone="139 8765 4321")
    p = profile_of("li")
    assert (p.name, p.title, p.phone) == ("李老师", "学籍管理员", "13987654321")
    with pytest.raises(PermissionDenied):
        set_profile(li, "chen", phone="13900000000")
    set_profile(admin, "chen", title="副校长", phone="0874-3123456转8021")
    assert profile_of("chen").phone == "0874-3123456转8021"
    with pytest.raises(ValidationError):
        set_profile(li, None, phone="3123456")
    assert profile_of("li").phone == "13987654321"
    events = list(AuditEvent.select().where(AuditEvent.action == "user.profile").order_by(AuditEvent.id))
    assert [e.entity_id for e in events] == ["li", "chen"] and events[0].changes["phone"] == [
        "", "13987654321"]


def test_reports_take_contact_phone_and_signer_from_the_profile(store, clock):
    admin = make_ctx(store, clock, role="admin", username="admin")
    _users(admin)
    li = make_ctx(store, clock, role="officer", username="li")
    chen = make_ctx(store, clock, role="leader", username="chen")
    set_profile(li, None, title="学籍管理员", phone="13987654321")
    set_profile(chen, None, title="副校长", phone="0874-3123456")
    inc = create_incident(li, IncidentInput(title="学籍账号异常登录", category="network_attack", grade="IV",
                                            occurred_at=T0 - timedelta(minutes=40), discovered_at=T0))
    f = open_report(li, inc.id, "school_plan", "first").fields
    assert (f["contact_person"], f["contact_phone"], f["signer"]) == ("李老师", "13987654321", "")
    f = open_report(chen, inc.id, "school_plan", "follow_up").fields
    assert (f["contact_person"], f["contact_phone"], f["signer"]) == ("陈云柱", "0874-3123456", "陈云柱")


def test_cli_user_profile(tmp_path):
    db = str(tmp_path / "p.db")
    r = run_cli("init", "--school", "海峰中学", "--admin", "admin", "--name", "王老师", "--password-stdin",
                "--db", db, input=PW + "\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("user", "profile", "admin", "--title", "信息中心主任", "--phone", "0874 3123456 转 8021",
                "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n")
    assert r.returncode == 0, r.stderr
    assert "0874-3123456转8021" in r.stdout
    r = run_cli("user", "profile", "admin", "--phone", "3123456", "--user", "admin", "--password-stdin",
                "--db", db, input=PW + "\n")
    assert r.returncode == 1 and "区号" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("user", "profile", "admin", "--user", "admin", "--password-stdin", "--db", db, input=PW + "\n")
    assert r.returncode == 0 and "信息中心主任" in r.stdout and "王老师" in r.stdout


async def test_my_profile_from_the_board_by_keys(db_path, clock):
    from tests.conftest import make_app
    from tests.ui_helpers import fill_form
    app = make_app(db_path, clock, role="officer", username="li")
    admin = make_ctx(app.store, clock, role="admin", username="admin")
    accounts.create_user(admin, "li", "officer", "李老师", "Li-pass-2026-x")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "p")
        await pilot.pause()
        assert type(app.screen).__name__ == "ProfileForm"
        await fill_form(pilot, None, "学籍管理员", "3123456")
        assert type(app.screen).__name__ == "ProfileForm" and "区号" in str(app.screen.query_one("#m-phone").render())
        await fill_form(pilot, "0874-3123456")
        assert type(app.screen).__name__ == "BoardScreen"
        p = profile_of("li")
        assert (p.name, p.title, p.phone) == ("李老师", "学籍管理员", "0874-3123456")
