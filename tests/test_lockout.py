"""Issue 13: a lockout that cannot be raced, cannot be turned against the desk, and keeps no typed text."""
from __future__ import annotations

import threading
import time

import pytest

from models import accounts, audit
from models.errors import LockedOut
from models.tables import AuditEvent, LoginFailure, User
from tests.conftest import make_ctx, run_cli
from tests.db_templates import copy_of

PW = "Haifeng-2026"
ZPW = "Zhang-pass-2026"


def _make_accounts(path) -> None:
    from models.clock import FixedClock
    from models.store import open_store
    from tests.conftest import T0
    store = open_store(path)
    try:
        clock = FixedClock(T0)
        accounts.bootstrap_admin(make_ctx(store, clock, username="-"), "admin", "王校长", PW)
        accounts.create_user(make_ctx(store, clock, role="admin", username="admin"), "zhang", "officer", "张老师", ZPW)
    finally:
        store.close()


@pytest.fixture
def db_path(tmp_path_factory, tmp_path):
    """Overrides conftest's: a copy of the database with the admin and zhang, made once (their two
    scrypt verifiers, slow on purpose, were ~1.4 s of each test here)."""
    return copy_of("test_lockout.admin", "duty.db", _make_accounts, tmp_path_factory, tmp_path)


@pytest.fixture
def admin(store, clock):
    assert {u.username: u.role for u in User.select()} == {"admin": "admin", "zhang": "officer"}
    return make_ctx(store, clock, role="admin", username="admin")


def anon(store, clock):
    ctx = make_ctx(store, clock, role="viewer", username="-")
    ctx.actor.origin = "ssh 203.0.113.5"
    return ctx


def events(action):
    return list(AuditEvent.select().where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_25_parallel_attempts_compare_at_most_5_and_the_right_one_is_refused(admin, store, clock, monkeypatch):
    compared = []
    real = accounts.check_password
    guard = threading.Lock()

    def counting(password, verifier):
        with guard:
            compared.append(password)
        return real(password, verifier)

    monkeypatch.setattr(accounts, "check_password", counting)
    outcomes: dict[str, list[str]] = {"wrong": [], "right": []}
    start = threading.Barrier(24)

    def guess(i):
        start.wait()
        try:
            accounts.authenticate(anon(store, clock), "zhang", f"wrong-guess-{i}")
            outcomes["wrong"].append("accepted")
        except LockedOut:
            outcomes["wrong"].append("locked")
        except accounts.AuthenticationFailed:
            outcomes["wrong"].append("failed")

    def right():
        # The right password arrives once five failures are in: a real file, polled, no sleeps on deadlines.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if AuditEvent.select().where(AuditEvent.action == "login.fail").count() >= 5:
                break
            time.sleep(0.01)
        try:
            accounts.authenticate(anon(store, clock), "zhang", ZPW)
            outcomes["right"].append("accepted")
        except LockedOut:
            outcomes["right"].append("locked")

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(24)] + [threading.Thread(target=right)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(90)
    assert not any(th.is_alive() for th in threads)
    assert len(compared) <= 5, len(compared)
    assert ZPW not in compared
    assert outcomes["right"] == ["locked"]
    assert "accepted" not in outcomes["wrong"] and len(outcomes["wrong"]) == 24
    assert len(events("login.fail")) <= 5
    assert User.get(User.username == "zhang").locked_until is not None
    assert audit.verify().ok


def test_each_lockout_in_a_row_doubles_until_a_good_password(admin, store, clock, monkeypatch):
    # The lockout's arithmetic, not scrypt: a quick comparison keeps 20 attempts fast.
    monkeypatch.setattr(accounts, "check_password", lambda password, verifier: password == ZPW)
    a = anon(store, clock)
    lengths = []
    for _ in range(3):
        for i in range(5):
            with pytest.raises((accounts.AuthenticationFailed, LockedOut)):
                accounts.authenticate(a, "zhang", f"nope-{i}-x")
        user = User.get(User.username == "zhang")
        lengths.append(round((user.locked_until - clock.now()).total_seconds() / 60))
        clock.advance(minutes=lengths[-1], seconds=1)
    assert lengths == [15, 30, 60]
    assert accounts.authenticate(a, "zhang", ZPW).username == "zhang"
    assert User.get(User.username == "zhang").lockouts == 0
    for i in range(5):
        with pytest.raises((accounts.AuthenticationFailed, LockedOut)):
            accounts.authenticate(a, "zhang", f"nope-{i}-x")
    user = User.get(User.username == "zhang")
    assert user.locked_until - clock.now() == accounts.lock_duration(a.settings, 1)
    assert accounts.lock_duration(a.settings, 40) == accounts.LOCKOUT_CAP


def test_a_remembered_login_keeps_working_while_guesses_lock_the_account(admin, store, clock, monkeypatch):
    monkeypatch.setattr(accounts, "check_password", lambda password, verifier: password == ZPW)
    zhang = make_ctx(store, clock, role="officer", username="zhang")
    token = accounts.issue_token(zhang, "zhang", "registry-pc")
    a = anon(store, clock)
    for i in range(5):
        with pytest.raises((accounts.AuthenticationFailed, LockedOut)):
            accounts.authenticate(a, "zhang", f"guess-{i}-x")
    with pytest.raises(LockedOut):
        accounts.authenticate(a, "zhang", ZPW)
    actor = accounts.login_with_token(make_ctx(store, clock, role="viewer", username="-"), token)
    assert actor is not None and actor.username == "zhang"
    accounts.set_disabled(admin, "zhang", True)      # disabling still closes it everywhere
    assert accounts.login_with_token(a, token) is None


def test_a_name_that_is_no_account_is_recorded_without_what_was_typed(admin, store, clock, db_path):
    typed = "Secret-typed-in-name-99"
    with pytest.raises(accounts.AuthenticationFailed):
        accounts.authenticate(anon(store, clock), typed, "whatever-pw")
    ev = events("login.fail")[-1]
    assert ev.actor == accounts.UNKNOWN_ACCOUNT and ev.entity_id == accounts.UNKNOWN_ACCOUNT
    assert ev.changes == {"purpose": "login", "account": "unknown"}
    assert LoginFailure.select().count() == 0
    store.db.execute_sql("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert typed.encode() not in raw


def test_the_file_owner_unlocks_locally_and_it_is_audited(admin, store, clock, db_path):
    a = anon(store, clock)
    for i in range(5):
        with pytest.raises((accounts.AuthenticationFailed, LockedOut)):
            accounts.authenticate(a, "admin", f"guess-{i}-x")
    with pytest.raises(LockedOut):
        accounts.authenticate(a, "admin", PW)
    store.close()
    r = run_cli("user", "unlock", "admin", "--local", "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    r = run_cli("audit", "verify", "--db", str(db_path))
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("user", "list", "--json", "--user", "admin", "--password-stdin", "--db", str(db_path),
                input=PW + "\n")
    assert r.returncode == 0, r.stderr
    from models.store import open_store
    s = open_store(db_path)
    try:
        ev = events("user.unlock")[-1]
        assert ev.actor == "os:" + accounts.os_user_name() and ev.changes["via"] == "local"
        assert User.get(User.username == "admin").locked_until is None
    finally:
        s.close()


def test_local_unlock_is_refused_to_anyone_but_the_files_owner(admin, store, clock, monkeypatch):
    monkeypatch.setattr(accounts.os, "geteuid", lambda: store.path.stat().st_uid + 1)
    with pytest.raises(accounts.PermissionDenied) as exc:
        accounts.unlock_local(anon(store, clock), "zhang")
    assert str(store.path) in exc.value.message
