"""Accounts in the domain: verifiers, password rules, roles, lockout and unlock, tokens — all audited."""
from __future__ import annotations


import pytest

from models import accounts, audit
from models.errors import LockedOut, PermissionDenied, ValidationError
from models.incidents import IncidentInput, create_incident
from models.passwords import check_password, make_verifier, token_hash
from models.tables import AuditEvent, LoginFailure, LoginToken, User
from tests.conftest import T0, make_ctx

PW = "Haifeng-2026"


@pytest.fixture
def admin(store, clock):
    ctx = make_ctx(store, clock, username="-")
    accounts.bootstrap_admin(ctx, "admin", "王校长", PW)
    return make_ctx(store, clock, role="admin", username="admin")


def anon(store, clock, origin="ssh 203.0.113.5"):
    ctx = make_ctx(store, clock, role="viewer", username="-")
    ctx.actor.origin = origin
    return ctx


def events(action):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_verifier_is_scrypt_and_never_the_password():
    v = make_verifier(PW)
    assert v.startswith("scrypt$n=") and PW not in v
    assert check_password(PW, v) and not check_password(PW + "x", v)
    assert make_verifier(PW) != v  # salted
    assert not check_password(PW, None) and not check_password(PW, "garbage")


@pytest.mark.parametrize("password, key", [
    ("Short-1", "error.password_short"),
    ("zhangsan01", "error.password_is_username"),
    ("abcdefghijkl", "error.password_one_class"),
    ("123456789012", "error.password_one_class"),
])
def test_password_rules(admin, password, key):
    name = "zhangsan01" if key == "error.password_is_username" else "zhang"
    with pytest.raises(ValidationError) as exc:
        accounts.create_user(admin, name, "officer", "", password)
    assert exc.value.fields["password"][0] == key
    assert not User.select().where(User.username == name).exists()


def test_minimum_length_is_configurable(admin):
    admin.settings.password_min_length = 16
    with pytest.raises(ValidationError):
        accounts.create_user(admin, "li", "officer", "", "Abcdefg-12345")
    admin.settings.password_min_length = 10
    assert accounts.create_user(admin, "li", "officer", "李老师", "Abcdefg-12345").role == "officer"


def test_bootstrap_only_on_an_empty_database(admin, store, clock):
    with pytest.raises(Exception) as exc:
        accounts.bootstrap_admin(make_ctx(store, clock), "other", "", PW)
    assert "error.users_exist" == exc.value.key
    assert [e.actor for e in events("user.bootstrap")] == ["admin"]


def test_only_an_admin_manages_accounts(admin, store, clock):
    accounts.create_user(admin, "zhou", "leader", "", PW)
    leader = make_ctx(store, clock, role="leader", username="zhou")
    with pytest.raises(PermissionDenied) as exc:
        accounts.create_user(leader, "x1", "viewer", "", PW)
    assert "管理员" in exc.value.message
    for call in (lambda: accounts.unlock_user(leader, "admin"), lambda: accounts.set_disabled(leader, "admin", True),
                 lambda: accounts.set_role(leader, "zhou", "admin"), lambda: accounts.revoke_logins(leader, "admin")):
        with pytest.raises(PermissionDenied):
            call()


def test_a_viewer_cannot_write_through_the_domain(admin, store, clock):
    accounts.create_user(admin, "guest", "viewer", "", PW)
    viewer = accounts.authenticate(anon(store, clock), "guest", PW)
    ctx = make_ctx(store, clock, role=viewer.role, username=viewer.username)
    with pytest.raises(PermissionDenied) as exc:
        create_incident(ctx, IncidentInput(title="x", category="malware", occurred_at=T0, discovered_at=T0))
    assert "值班员" in exc.value.message   # names the role it needs


def test_lockout_after_five_failures_then_admin_unlock_all_audited(admin, store, clock):
    accounts.create_user(admin, "zhang", "officer", "张老师", PW)
    a = anon(store, clock)
    for i in range(4):
        with pytest.raises(accounts.AuthenticationFailed):
            accounts.authenticate(a, "zhang", f"wrong-{i}")
        clock.advance(minutes=1)
    with pytest.raises(LockedOut):
        accounts.authenticate(a, "zhang", "wrong-5")
    # Locked: even the right password is refused, and says until when.
    with pytest.raises(LockedOut) as exc:
        accounts.authenticate(a, "zhang", PW)
    assert "请管理员解锁" in exc.value.message
    fails = events("login.fail")
    assert len(fails) == 5 and all(e.origin == "ssh 203.0.113.5" and e.actor == "zhang" for e in fails)
    assert [e.entity_id for e in events("user.lockout")] == ["zhang"]
    assert events("login.refused")[-1].changes["why"] == "locked"

    accounts.unlock_user(admin, "zhang")
    assert User.get(User.username == "zhang").locked_until is None
    assert events("user.unlock")[-1].actor == "admin"
    actor = accounts.authenticate(a, "zhang", PW)
    assert actor.role == "officer" and actor.display_name == "张老师"
    assert audit.verify().ok


def test_lockout_expires_by_itself_and_old_failures_fall_out_of_the_window(admin, store, clock):
    accounts.create_user(admin, "zhang", "officer", "", PW)
    a = anon(store, clock)
    for _ in range(4):
        with pytest.raises(accounts.AuthenticationFailed):
            accounts.authenticate(a, "zhang", "nope-nope")
    clock.advance(minutes=16)   # the four failures are now outside the 15-minute window
    with pytest.raises(accounts.AuthenticationFailed):
        accounts.authenticate(a, "zhang", "nope-nope")
    assert User.get(User.username == "zhang").locked_until is None
    for _ in range(4):
        with pytest.raises((accounts.AuthenticationFailed, LockedOut)):
            accounts.authenticate(a, "zhang", "nope-nope")
    with pytest.raises(LockedOut):
        accounts.authenticate(a, "zhang", PW)
    clock.advance(minutes=15, seconds=1)
    assert accounts.authenticate(a, "zhang", PW).username == "zhang"
    assert LoginFailure.select().where(LoginFailure.username == "zhang").count() == 0


def test_unknown_user_and_disabled_account(admin, store, clock):
    accounts.create_user(admin, "gone", "officer", "", PW)
    a = anon(store, clock)
    with pytest.raises(accounts.AuthenticationFailed) as exc:
        accounts.authenticate(a, "nobody", PW)
    assert exc.value.message == "用户名或密码不正确"
    accounts.set_disabled(admin, "gone", True)
    with pytest.raises(accounts.AuthenticationFailed) as exc:
        accounts.authenticate(a, "gone", PW)
    assert "停用" in exc.value.message


def test_the_last_admin_cannot_be_disabled_or_demoted(admin):
    with pytest.raises(Exception) as exc:
        accounts.set_disabled(admin, "admin", True)
    assert exc.value.key == "error.last_admin"
    with pytest.raises(Exception):
        accounts.set_role(admin, "admin", "officer")
    accounts.create_user(admin, "deputy", "admin", "", PW)
    accounts.set_role(admin, "admin", "leader")
    assert User.get(User.username == "admin").role == "leader"


def test_remembered_token_is_hashed_revocable_and_dies_with_password_change(admin, store, clock):
    a = anon(store, clock)
    token = accounts.issue_token(admin, "admin", "registry-pc")
    assert LoginToken.get().token_hash == token_hash(token) != token
    assert accounts.login_with_token(a, token).username == "admin"
    assert accounts.login_with_token(a, token + "x") is None
    own = make_ctx(store, clock, role="admin", username="admin")
    accounts.change_password(own, None, "Another-pass-99", current_password=PW)
    assert accounts.login_with_token(a, token) is None      # revoked by the change
    token2 = accounts.issue_token(admin, "admin", "")
    assert accounts.revoke_logins(admin, "admin") == 1
    assert accounts.login_with_token(a, token2) is None
    token3 = accounts.issue_token(admin, "admin", "")
    clock.advance(days=31)
    assert accounts.login_with_token(a, token3) is None      # unused for a month


def test_changing_your_own_password_needs_the_current_one(admin, store, clock):
    accounts.create_user(admin, "zhang", "officer", "", PW)
    me = make_ctx(store, clock, role="officer", username="zhang")
    with pytest.raises(accounts.AuthenticationFailed):
        accounts.change_password(me, None, "Brand-new-pass1", current_password="guess-guess")
    with pytest.raises(PermissionDenied):
        accounts.change_password(me, "admin", "Brand-new-pass1")
    accounts.change_password(me, None, "Brand-new-pass1", current_password=PW)
    assert accounts.authenticate(anon(store, clock), "zhang", "Brand-new-pass1").username == "zhang"
    accounts.change_password(admin, "zhang", "Reset-by-admin-2")   # admin reset, no current password
    ev = events("user.passwd")[-1]
    assert ev.actor == "admin" and ev.changes["by"] == "admin" and "Reset-by-admin-2" not in str(ev.changes)


def test_raw_database_file_holds_no_password_or_token(admin, store, clock, db_path):
    accounts.create_user(admin, "zhang", "officer", "", "Zhang-secret-77")
    accounts.change_password(admin, "zhang", "Zhang-newer-88")
    with pytest.raises(accounts.AuthenticationFailed):
        accounts.authenticate(anon(store, clock), "zhang", "Typo-secret-99")
    token = accounts.issue_token(admin, "admin", "pc")
    store.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert b"Zhang" not in raw.replace(b"zhang", b"")  # usernames are lowercase; passwords are not there
    for secret in (PW, "Zhang-secret-77", "Zhang-newer-88", "Typo-secret-99", token):
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw
    assert token_hash(token).encode() in raw   # the hash is there, which is what an admin revokes


def test_after_a_lockout_ends_the_count_starts_again(admin, store, clock):
    accounts.create_user(admin, "zhang", "officer", "", PW)
    a = anon(store, clock)
    a.settings.lockout_minutes = 5      # shorter than the 15-minute window
    for _ in range(5):
        with pytest.raises((accounts.AuthenticationFailed, LockedOut)):
            accounts.authenticate(a, "zhang", "nope-nope")
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(accounts.AuthenticationFailed):      # one slip is not a new lockout
        accounts.authenticate(a, "zhang", "nope-nope")
    assert accounts.authenticate(a, "zhang", PW).username == "zhang"
