"""Registry accounts (dates only, never a password) and the data-use ledger."""
from datetime import timedelta

import pytest

from models.config import Settings
from models.errors import ValidationError
from models.ledger import UseInput, add_use, list_uses
from models.registry_accounts import (add_account, assess, hand_over, list_accounts, password_changed,
                                      record_use, retire)
from models.tables import AuditEvent, RegistryAccount
from tests.conftest import T0, make_ctx, run_cli


def test_register_never_has_a_password_column():
    assert not any("password" in f and not f.endswith("_at") for f in RegistryAccount._meta.fields)


def test_flags_rotation_idle_and_handover(ctx, clock):
    acct = add_account(ctx, "5303280001", "张石全", "学校学籍管理员",
                       password_changed_at=T0 - timedelta(days=30), last_used_at=T0 - timedelta(days=2))
    assert list_accounts(ctx)[0].flags == []
    # 89 days after the change: fine; 90: due for a change (default rotation 90 days).
    assert assess(acct, T0 + timedelta(days=59), ctx.settings).flags == []
    assert assess(acct, T0 + timedelta(days=60), ctx.settings).flags == ["password"]
    # Six calendar months without use: flag for sealing.
    assert "seal" not in assess(acct, T0 - timedelta(days=2) + timedelta(days=180), ctx.settings).flags
    assert "seal" in assess(acct, T0 - timedelta(days=2) + timedelta(days=184), ctx.settings).flags
    # A hand-over needs a password change recorded after it.
    clock.advance(days=1)
    acct = hand_over(ctx, acct.id, "李明")
    assert acct.holder == "李明" and list_accounts(ctx)[0].flags == ["handover"]
    clock.advance(hours=2)
    password_changed(ctx, "5303280001")
    assert list_accounts(ctx)[0].flags == []
    record_use(ctx, acct.id)
    retire(ctx, acct.id, "县里已封存")
    assert list_accounts(ctx) == [] and len(list_accounts(ctx, include_retired=True)) == 1
    with pytest.raises(ValidationError):
        password_changed(ctx, acct.id)
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert actions == ["account.create", "account.handover", "account.password_changed", "account.used",
                       "account.retire"]


def test_rotation_period_is_a_school_setting(store, clock):
    ctx = make_ctx(store, clock, settings=Settings(school_name="x", extra={"password_rotation_days": 30}))
    acct = add_account(ctx, "a1", "王", password_changed_at=T0 - timedelta(days=31), last_used_at=T0)
    assert list_accounts(ctx)[0].flags == ["password"]
    assert "password" not in assess(acct, T0, Settings()).flags   # default 90


def test_an_unrecorded_password_change_is_flagged_and_duplicates_refused(ctx):
    add_account(ctx, "a1", "王")
    assert list_accounts(ctx)[0].flags == ["password"]
    with pytest.raises(ValidationError) as err:
        add_account(ctx, "a1", "李")
    assert "account_login" in err.value.fields
    with pytest.raises(ValidationError) as err:
        add_account(ctx, "", "", password_changed_at=T0 + timedelta(days=1))
    assert set(err.value.fields) == {"account_login", "account_holder", "account_password_changed_at"}


def test_ledger_needs_who_what_why_and_approver(ctx, clock):
    with pytest.raises(ValidationError) as err:
        add_use(ctx, UseInput(who="", data="", purpose="", approved_by=""))
    assert set(err.value.fields) == {"ledger_who", "ledger_data", "ledger_purpose", "ledger_approved_by"}
    add_use(ctx, UseInput(who="张石全", data="初一新生名单（姓名、班级）", purpose="分班", approved_by="陈云柱",
                          recipient="教务处", at=T0 - timedelta(days=1)))
    add_use(ctx, UseInput(who="张石全", data="毕业生名册", purpose="毕业证办理", approved_by="张学荣"))
    rows = list_uses()
    assert [r.data for r in rows] == ["毕业生名册", "初一新生名单（姓名、班级）"]
    assert rows[0].recorded_by == "tester"
    assert [r.purpose for r in list_uses(since=T0 - timedelta(hours=1))] == ["毕业证办理"]


def test_account_and_ledger_cli(tmp_path):
    db = str(tmp_path / "d.db")
    r = run_cli("--db", db, "account", "add", "--login", "5303", "--holder", "张石全", "--role", "学籍管理员",
                "--password-changed", "-100d", "--last-used", "-1d", "--user", "chen")
    assert r.returncode == 0, r.stderr
    r = run_cli("--db", db, "account", "list", "--flagged")
    assert "5303" in r.stdout and "口令超过轮换期" in r.stdout
    assert run_cli("--db", db, "account", "password-changed", "5303", "--user", "zhang").returncode == 0
    assert "5303" not in run_cli("--db", db, "account", "list", "--flagged").stdout
    r = run_cli("--db", db, "account", "handover", "5303", "--to", "李明", "--user", "chen")
    assert "李明" in r.stdout
    assert "交接后尚未更换口令" in run_cli("--db", db, "account", "list").stdout
    assert run_cli("--db", db, "account", "retire", "1", "--reason", "封存", "--user", "chen").returncode == 0
    assert "登记册为空" in run_cli("--db", db, "account", "list").stdout
    r = run_cli("--db", db, "ledger", "add", "--who", "张石全", "--data", "全校学生名册", "--purpose", "体检",
                "--approved-by", "陈云柱", "--recipient", "卫生院", "--user", "zhang")
    assert r.returncode == 0, r.stderr
    r = run_cli("--db", db, "ledger", "list")
    assert "全校学生名册 → 卫生院" in r.stdout and "陈云柱" in r.stdout
    r = run_cli("--db", db, "ledger", "add", "--who", "x", "--data", "y", "--purpose", "z", "--approved-by", " ",
                "--user", "zhang")
    assert r.returncode == 1 and "审批人" in r.stderr


def test_flagged_accounts_show_on_the_board_banner(ctx):
    from models.banners import collect
    assert collect(ctx, T0) == []
    add_account(ctx, "5303", "张", password_changed_at=T0 - timedelta(days=120), last_used_at=T0)
    [b] = collect(ctx, T0)
    assert b.key == "accounts-flagged" and "5303" in b.text and b.level == "warning"
