"""Issue 13, item 5: a keyed audit chain, anchored outside its table, that also vouches for the rows.

Each attack is made the way an intruder with the sqlite3 shell would (a plain sqlite3
connection on the real file, the program closed), then ``audit verify`` and ``check`` run
as real commands and must both fail and say what they found.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from models import accounts, audit, auditkey
from models.incidents import IncidentInput, create_incident, update_incident
from models.store import open_store
from models.tables import AuditEvent
from tests.conftest import T0, make_ctx, run_cli
from tests.db_templates import copy_of

PW = "Haifeng-2026"
DATA = Path(__file__).resolve().parent / "data"


def _make_desk(path: Path) -> None:
    from models.clock import FixedClock
    store = open_store(path)
    try:
        clock = FixedClock(T0)
        accounts.bootstrap_admin(make_ctx(store, clock, username="-"), "admin", "王校长", PW)
        admin = make_ctx(store, clock, role="admin", username="admin")
        accounts.create_user(admin, "zhang", "officer", "张老师", "Zhang-pass-2026")
        for i in range(3):
            inc = create_incident(admin, IncidentInput(title=f"学籍系统异常 {i}", category="malware",
                                                       occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
            update_incident(admin, inc.code, inc.version, {"location": "教务处"})
    finally:
        store.close()


@pytest.fixture
def db_path(request, tmp_path_factory, tmp_path):
    """Overrides conftest's: for the tests of ``desk``, a copy of its database, made once (its two
    scrypt verifiers, slow on purpose, were most of each test's set-up)."""
    if "desk" not in request.fixturenames:
        return tmp_path / "duty.db"
    return copy_of("test_audit_keyed.desk", "duty.db", _make_desk, tmp_path_factory, tmp_path)


@pytest.fixture
def desk(store, clock):
    """The admin of a desk with the admin, zhang and three incidents edited once each."""
    from models.tables import Incident, User
    assert sorted(u.username for u in User.select()) == ["admin", "zhang"] and Incident.select().count() == 3
    return make_ctx(store, clock, role="admin", username="admin")


def both_detect(db_path: Path, words: str) -> None:
    r = run_cli("audit", "verify", "--db", str(db_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert words in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    c = run_cli("check", "--db", str(db_path))
    assert c.returncode == 1, c.stdout + c.stderr
    assert words in c.stdout + c.stderr, c.stdout
    assert "Traceback" not in c.stderr


def shell(db_path: Path, *sql: str) -> None:
    con = sqlite3.connect(db_path)
    for s in sql:
        con.execute(s)
    con.commit()
    con.close()


def test_a_fresh_trail_is_keyed_and_anchored_in_private_files(desk, store, db_path):
    report = audit.verify()
    assert report.ok and report.keyed == report.checked > 5 and report.legacy == 0
    assert {e.alg for e in AuditEvent.select()} == {"hmac1"}
    for path in (auditkey.key_path(db_path), auditkey.witness_path(db_path)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    witness = json.loads(auditkey.witness_path(db_path).read_text())
    assert witness["count"] == report.checked and witness["last"] == AuditEvent.select().order_by(
        AuditEvent.id.desc()).first().hash
    store.close()
    r = run_cli("audit", "verify", "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    assert run_cli("check", "--db", str(db_path)).returncode in (0, 1)   # (never backed up: 1)
    assert "审计链完整" in run_cli("check", "--db", str(db_path)).stdout


def test_truncating_the_audit_table_is_detected(desk, store, db_path, clock):
    store.close()
    shell(db_path, "DELETE FROM audit_event WHERE id > (SELECT max(id) - 3 FROM audit_event)")
    both_detect(db_path, "截短")
    # The next write through the program does not paper over it: the witness keeps the old head.
    s = open_store(db_path)
    try:
        create_incident(make_ctx(s, clock), IncidentInput(title="之后", category="malware",
                                                          occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
    finally:
        s.close()
    both_detect(db_path, "")
    # Nor can the witness be re-anchored: the lost events held the rows' last digests.
    r = run_cli("audit", "anchor", "--db", str(db_path))
    assert r.returncode == 1 and "不能更新见证文件" in r.stderr


def test_a_lost_witness_stays_reported_until_the_owner_anchors_it(desk, store, db_path, clock):
    auditkey.witness_path(db_path).unlink()
    create_incident(desk, IncidentInput(title="之后", category="malware",
                                        occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
    assert not auditkey.witness_path(db_path).exists()      # a write does not quietly make a new one
    store.close()
    both_detect(db_path, "见证文件不见了")
    r = run_cli("audit", "anchor", "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    assert run_cli("audit", "verify", "--db", str(db_path)).returncode == 0


def test_deleting_all_of_the_trail_is_detected_even_without_the_witness(desk, store, db_path):
    store.close()
    shell(db_path, "DELETE FROM audit_event")
    both_detect(db_path, "截短")
    auditkey.witness_path(db_path).unlink()
    both_detect(db_path, "没有任何有密钥的记录")


def _rebuild_unkeyed(db_path: Path, keep_alg: bool) -> None:
    """Forge one event, then recompute every link as release 0.1 did (plain SHA-256, no key)."""
    con = sqlite3.connect(db_path)
    rows = con.execute("SELECT id, at, actor, origin, action, entity, entity_id, changes, reason, rows "
                       "FROM audit_event ORDER BY id").fetchall()
    prev = audit.GENESIS
    from models.fields import UTCDateTimeField
    field = UTCDateTimeField()
    for i, (eid, at, actor, origin, action, entity, entity_id, changes, reason, rws) in enumerate(rows):
        if i == 2:
            actor = "mallory"
        ch = json.loads(changes) if changes else None
        h = audit._digest(prev, field.python_value(at), actor, origin, action, entity, entity_id, ch, reason)
        con.execute("UPDATE audit_event SET actor=?, prev_hash=?, hash=?, alg=?, rows=? WHERE id=?",
                    (actor, prev, h, "hmac1" if keep_alg else None, rws if keep_alg else None, eid))
        prev = h
    con.commit()
    con.close()


@pytest.mark.parametrize("keep_alg", [False, True], ids=["as-legacy", "keeping-alg"])
def test_rebuilding_the_chain_without_the_key_is_detected(desk, store, db_path, keep_alg):
    store.close()
    _rebuild_unkeyed(db_path, keep_alg)
    if keep_alg:
        both_detect(db_path, "第 1 条")
    else:
        both_detect(db_path, "")
        r = run_cli("audit", "verify", "--db", str(db_path))
        assert "见证" in r.stderr or "没有任何有密钥" in r.stderr, r.stderr


def test_editing_a_users_role_directly_is_detected(desk, store, db_path):
    store.close()
    shell(db_path, "UPDATE user SET role='admin' WHERE username='zhang'")
    both_detect(db_path, "user 表第 2 行")


def test_rows_added_or_deleted_directly_are_detected(desk, store, db_path):
    store.close()
    work = db_path.with_name("copy.db")
    for suffix in ("", ".key", ".audit-head"):
        shutil.copy(str(db_path) + suffix, str(work) + suffix)
    shell(db_path, "INSERT INTO user (username, display_name, role, disabled, created_at, version, lockouts) "
                   "VALUES ('mallory', 'm', 'admin', 0, '2026-11-25T02:00:00.000000+00:00', 1, 0)")
    both_detect(db_path, "没有任何审计记录")
    shell(work, "DELETE FROM incident WHERE id = 2")
    both_detect(work, "incident 表第 2 行已不存在")


def test_every_app_write_keeps_rows_and_trail_in_step(desk, store, clock):
    """Writes through the services (including side effects on other rows) never look like tampering."""
    from models import contacts
    contacts.ensure_seeded(desk)
    officer = make_ctx(store, clock, role="officer", username="zhang")
    for i in range(3):
        try:
            accounts.authenticate(officer, "zhang", f"wrong-{i}-pw")
        except accounts.AuthenticationFailed:
            pass
    accounts.authenticate(officer, "zhang", "Zhang-pass-2026")
    accounts.set_role(desk, "zhang", "leader")
    with store.write():     # a transaction that touches a tracked row without an event still seals it
        store.db.execute_sql("UPDATE incident SET location = location WHERE id = 1")
    report = audit.verify()
    assert report.ok, report.message
    assert AuditEvent.select().where(AuditEvent.action == "rows.unrecorded").count() == 1


def test_release_0_1_events_verify_as_a_legacy_prefix_then_the_chain_is_keyed(tmp_path, clock):
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    store = open_store(db)
    try:
        before = audit.verify()
        assert before.ok and before.legacy == before.checked > 0 and before.keyed == 0
        assert not auditkey.key_path(db).exists()
        ctx = make_ctx(store, clock, role="officer", username="tester")
        create_incident(ctx, IncidentInput(title="升级之后", category="malware",
                                           occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
        after = audit.verify()
        assert after.ok and after.legacy == before.checked and after.keyed >= 1
        first_keyed = AuditEvent.select().where(AuditEvent.alg == "hmac1").order_by(AuditEvent.id).first()
        assert set(first_keyed.rows) >= {"incident", "user"}      # the baseline: every tracked row
    finally:
        store.close()
    shell(db, "UPDATE incident SET title='改过' WHERE id = 1")   # a row release 0.1 wrote
    both_detect(db, "incident 表第 1 行")


def test_the_key_lives_in_the_keyring_where_there_is_one(tmp_path, clock, monkeypatch, memory_keyring):
    monkeypatch.delenv("XUEJI_DUTY_AUDIT_KEY")
    db = tmp_path / "kr.db"
    store = open_store(db)
    try:
        ctx = make_ctx(store, clock)
        create_incident(ctx, IncidentInput(title="密钥环", category="malware",
                                           occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
        assert not auditkey.key_path(db).exists()
        from models import secrets
        stored = secrets.recall_audit_key(store.identity)
        assert auditkey.parse_key(stored, store.identity) is not None
        assert audit.verify().ok
        auditkey.forget_cache()
        monkeypatch.setenv("XUEJI_DUTY_AUDIT_KEY", "file")      # a session that cannot reach the keyring
        report = audit.verify()
        assert not report.ok and report.problem == "key_missing"
        from models.errors import StoreError
        with pytest.raises(StoreError) as exc:
            create_incident(ctx, IncidentInput(title="分叉", category="malware",
                                               occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
        assert exc.value.key == "audit.error.key_missing"
    finally:
        auditkey.forget_cache()
        store.close()


def test_a_forged_witness_is_detected(desk, store, db_path):
    path = auditkey.witness_path(db_path)
    doc = json.loads(path.read_text())
    doc["count"] -= 2
    doc["last_id"] -= 2
    doc["last"] = hashlib.sha256(b"x").hexdigest()
    path.write_text(json.dumps(doc))
    report = audit.verify()
    assert not report.ok and report.problem == "witness_forged"


def test_the_key_is_exported_for_the_safe_and_imported_on_a_new_machine(desk, store, db_path, tmp_path):
    store.close()
    safe = tmp_path / "safe" / "audit.key"
    safe.parent.mkdir()
    r = run_cli("audit", "key", "--export", str(safe), "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(safe.stat().st_mode) == 0o600
    auditkey.key_path(db_path).unlink()       # the disk with the key file is gone
    auditkey.forget_cache()
    r = run_cli("audit", "verify", "--db", str(db_path))
    assert r.returncode == 1 and "找不到该密钥" in r.stderr
    r = run_cli("audit", "key", "--import", str(safe), "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    assert run_cli("audit", "verify", "--db", str(db_path)).returncode == 0
    other = tmp_path / "other.key"
    other.write_text(json.dumps({"format": auditkey.KEY_FORMAT, "db": "someone-else", "key": "00" * 32}))
    r = run_cli("audit", "key", "--import", str(other), "--db", str(db_path))
    assert r.returncode == 1 and "不是" in r.stderr
