"""Backup → restore on a real database with incidents, reports, evidence and audit events."""
import hashlib
import subprocess
import sys
import textwrap
from datetime import timedelta

import keyring
import pytest
from keyring.backend import KeyringBackend

from models import audit, fact_history
from models.archive import ArchiveError
from models.backup import (banners, create_backup, key_lookup, prune, restore_backup, run_auto_backup,
                           verify_archive)
from models.errors import StoreError
from models.incidents import IncidentInput, create_incident
from models.store import open_store
from models.tables import AuditEvent, BackupRecord
from tests.conftest import ROOT, T0, make_ctx, run_cli
from tests.safety_data import dump, files_of, populate

PASS = "正确的口令 correct horse"


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def full(ctx):
    populate(ctx)
    return ctx


@pytest.mark.parametrize("passphrase", [None, PASS])
def test_round_trip_gives_back_identical_content_and_a_valid_chain(full, db_path, tmp_path, passphrase):
    ctx = full
    result = create_backup(ctx, tmp_path / "out", passphrase=passphrase)
    assert result.encrypted == bool(passphrase)
    assert result.path.suffix == (".xjbak" if passphrase else ".zip")
    assert result.path.name.startswith("海峰中学-20261125-1000")
    ctx.store.close()
    before = dump(db_path)
    before_files = files_of(ctx.store.evidence_dir)
    assert len(before_files) == 3 and before["incident"] and before["report"] and before["evidence"]

    # Life goes on after the backup: a new incident, a lost evidence file.
    s = open_store(db_path)
    ctx2 = make_ctx(s, ctx.clock)
    create_incident(ctx2, IncidentInput(title="备份之后", category="malware",
                                        occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
    next(iter(s.evidence_dir.rglob("*.log"))).unlink()
    s.close()
    assert dump(db_path) != before

    res = restore_backup(db_path, result.path, passphrase=passphrase, now=T0 + timedelta(hours=1))
    after = dump(db_path)
    # The backup's own record and audit event were written after its snapshot: all else is equal.
    assert before["audit_event"][-1][4] == "backup.create"
    assert after["audit_event"] == before["audit_event"][:-1]
    # The derived history table's mark (models.fact_history) follows the trail: the backup's
    # event moved it after the snapshot, so each file's mark is its own last event.
    mark = fact_history.MARK_KEY
    for state in (before, after):
        assert dict(state["schema_meta"])[mark] == str(state["audit_event"][-1][0])
        state["schema_meta"] = [row for row in state["schema_meta"] if row[0] != mark]
    assert {k: v for k, v in after.items() if k not in ("backup_record", "audit_event")} == \
           {k: v for k, v in before.items() if k not in ("backup_record", "audit_event")}
    assert files_of(ctx.store.evidence_dir) == before_files
    s = open_store(db_path)
    assert audit.verify().ok and audit.verify().checked == len(before["audit_event"]) - 1
    s.close()
    # What was there before the restore is kept, whole.
    assert res.pre_restore.exists() and res.pre_restore_evidence.is_dir()
    pre = dump(res.pre_restore)
    assert any(r[2] == "备份之后" for r in pre["incident"])


def _flip(path, pos):
    data = bytearray(path.read_bytes())
    data[pos] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("passphrase", [None, PASS])
def test_a_one_byte_change_anywhere_is_caught_before_restore(full, db_path, tmp_path, passphrase):
    ctx = full
    good = create_backup(ctx, tmp_path / "out", passphrase=passphrase).path
    ctx.store.close()
    live_before = digest(db_path)
    size = good.stat().st_size
    positions = sorted({0, 5, 20, 40, 100, size // 4, size // 3, size // 2, 2 * size // 3,
                        size - 200, size - 80, size - 65, size - 64, size - 30, size - 1})
    for pos in positions:
        bad = tmp_path / f"bad-{pos}{good.suffix}"
        bad.write_bytes(good.read_bytes())
        _flip(bad, pos)
        with pytest.raises(ArchiveError) as exc:
            verify_archive(bad, passphrase)
        assert exc.value.key.startswith("backup.error."), pos
        with pytest.raises(ArchiveError):
            restore_backup(db_path, bad, passphrase=passphrase, now=T0)
        assert digest(db_path) == live_before, pos
    # Truncated and extended copies are refused too.
    for data in (good.read_bytes()[:-1], good.read_bytes() + b"\0"):
        bad = tmp_path / f"cut{good.suffix}"
        bad.write_bytes(data)
        with pytest.raises(ArchiveError):
            verify_archive(bad, passphrase)
    assert not list(db_path.parent.glob("*.pre-restore-*"))
    # A plain archive is checked with its database's key (beside the database: issue 13).
    assert verify_archive(good, passphrase, key_for=key_lookup(db_path))["school"] == "海峰中学"


def test_wrong_passphrase_is_refused_with_its_own_message(full, db_path, tmp_path):
    good = create_backup(full, tmp_path / "out", passphrase=PASS).path
    full.store.close()
    before = digest(db_path)
    with pytest.raises(ArchiveError) as exc:
        restore_backup(db_path, good, passphrase="not the passphrase", now=T0)
    assert exc.value.key == "backup.error.wrong_passphrase"
    assert "口令错误" in exc.value.message
    with pytest.raises(ArchiveError) as exc:
        verify_archive(good, None)
    assert exc.value.key == "backup.error.needs_passphrase"
    assert digest(db_path) == before


HOLDER = textwrap.dedent("""
    import sys, time
    from models.store import open_store
    from models.tables import Incident
    s = open_store(sys.argv[1])
    Incident.select().count()       # an idle board: connected, not writing
    print("open", flush=True)
    sys.stdin.readline()
""")


def test_restore_is_refused_while_another_session_has_the_database_open(full, db_path, tmp_path):
    archive = create_backup(full, tmp_path / "out").path
    full.store.close()
    before = digest(db_path)
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path)], cwd=str(ROOT), text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert p.stdout.readline().strip() == "open"
        with pytest.raises(StoreError) as exc:
            restore_backup(db_path, archive, now=T0)
        assert exc.value.key == "backup.error.in_use"
        assert "退出" in exc.value.message
        assert digest(db_path) == before
        assert not list(db_path.parent.glob("*.pre-restore-*"))
    finally:
        p.communicate("bye\n", timeout=30)
    restore_backup(db_path, archive, now=T0)   # once it closed, the restore goes through


def test_cli_backup_verify_restore_with_passphrase_on_stdin(full, db_path, tmp_path):
    full.store.close()
    out = tmp_path / "usb"
    r = run_cli("backup", str(out), "--passphrase-stdin", "--user", "tester", "--db", str(db_path),
                input=PASS + "\n")
    assert r.returncode == 0, r.stderr
    archive = next(out.glob("*.xjbak"))
    assert "已备份" in r.stdout and "未加密" not in r.stdout
    r = run_cli("backup", "--verify", str(archive), "--passphrase-stdin", "--db", str(db_path), input=PASS + "\n")
    assert r.returncode == 0 and "备份完好" in r.stdout, r.stderr
    r = run_cli("restore", str(archive), "--passphrase-stdin", "--user", "tester", "--db", str(db_path),
                input="wrong passphrase\n")
    assert r.returncode == 1 and "口令错误" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("restore", str(archive), "--passphrase-stdin", "--user", "tester", "--db", str(db_path),
                input=PASS + "\n")
    assert r.returncode == 1 and "--yes" in r.stderr      # no terminal to confirm on
    r = run_cli("restore", str(archive), "--passphrase-stdin", "--yes", "--user", "tester",
                "--db", str(db_path), input=PASS + "\n")
    assert r.returncode == 0, r.stderr
    assert "已恢复" in r.stdout and "pre-restore" in r.stdout
    s = open_store(db_path)
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert last.action == "backup.restore" and last.actor == "tester"
    assert audit.verify().ok
    s.close()


def test_cli_plain_backup_warns_and_a_damaged_archive_gets_a_message(full, db_path, tmp_path):
    full.store.close()
    r = run_cli("backup", str(tmp_path / "o"), "--user", "tester", "--db", str(db_path))
    assert r.returncode == 0 and "未加密" in r.stdout, r.stderr
    archive = next((tmp_path / "o").glob("*.zip"))
    _flip(archive, archive.stat().st_size // 2)
    r = run_cli("restore", str(archive), "--yes", "--user", "tester", "--db", str(db_path))
    assert r.returncode == 1 and "已损坏" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("restore", str(tmp_path / "nope.zip"), "--yes", "--user", "tester", "--db", str(db_path))
    assert r.returncode == 1 and "找不到备份文件" in r.stderr


def test_restore_onto_a_new_machine_creates_the_database(full, tmp_path):
    archive = create_backup(full, tmp_path / "out", passphrase=PASS).path
    before = dump(full.store.path)
    full.store.close()
    fresh = tmp_path / "new" / "duty.db"
    res = restore_backup(fresh, archive, passphrase=PASS, now=T0)
    assert res.pre_restore is None
    after = dump(fresh)
    assert after["incident"] == before["incident"] and after["audit_event"] == before["audit_event"][:-1]
    assert len(files_of(fresh.parent / "duty-evidence")) == 3


# --- automatic backups, retention, banners ----------------------------------------------------

class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        self.data = {}

    def get_password(self, service, username):
        return self.data.get((service, username))

    def set_password(self, service, username, password):
        self.data[(service, username)] = password

    def delete_password(self, service, username):
        self.data.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    old = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(old)


def test_daily_automatic_backup_once_a_day_encrypted_with_the_remembered_passphrase(
        full, tmp_path, monkeypatch, memory_keyring):
    monkeypatch.setenv("XUEJI_DUTY_AUTO_BACKUP", "1")
    from models.backup import remember_passphrase
    remember_passphrase(full.store.identity, PASS)
    full.settings.backup_dir = str(tmp_path / "auto")
    first = run_auto_backup(full)
    assert first is not None and first.encrypted and first.path.name.endswith("-auto.xjbak")
    assert verify_archive(first.path, PASS)["automatic"] is True
    full.clock.advance(hours=3)
    assert run_auto_backup(full) is None                   # same day: not again
    texts = [b.text for b in banners(full, full.now())]
    assert any("今日备份已完成" in t for t in texts)
    full.clock.advance(days=1)
    assert run_auto_backup(full) is not None               # the next day: again
    rec = BackupRecord.select().where(BackupRecord.ok == True).count()  # noqa: E712
    assert rec == 2
    ev = AuditEvent.select().where(AuditEvent.action == "backup.create").first()
    assert ev.actor == "system"


def test_a_failed_automatic_backup_shows_on_the_board(full, tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_DUTY_AUTO_BACKUP", "1")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    full.settings.backup_dir = str(blocker / "sub")
    assert run_auto_backup(full) is None
    last = BackupRecord.select().order_by(BackupRecord.id.desc()).first()
    assert last.ok is False and str(blocker) in last.message
    bs = banners(full, full.now())
    failed = [b for b in bs if b.key == "backup.failed"]
    assert failed and failed[0].level == "error" and "备份失败" in failed[0].text
    with pytest.raises(StoreError):
        run_auto_backup(full, raise_errors=True)


def test_no_backup_for_days_shows_a_warning(full, tmp_path):
    assert [b.key for b in banners(full, full.now())] == ["backup.never"]
    create_backup(full, tmp_path / "o")
    full.clock.advance(days=3)
    assert [b.key for b in banners(full, full.now())] == ["backup.old"]


def test_retention_keeps_n_daily_and_m_monthly_and_never_hand_made_ones(tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo
    from models.backup import archive_name
    folder = tmp_path / "b"
    folder.mkdir()
    start = datetime(2026, 1, 1, 8, 0)
    made = []
    for d in range(330):       # one automatic backup a day for 11 months, two on some days
        at = start + timedelta(days=d)
        for extra in ((0, 1) if d % 10 == 0 else (0,)):
            p = folder / archive_name("海峰中学", at + timedelta(hours=extra), automatic=True, encrypted=True)
            p.write_bytes(b"x")
            made.append(p)
    manual = folder / archive_name("海峰中学", start, automatic=False, encrypted=False)
    manual.write_bytes(b"x")
    other = folder / archive_name("别的学校", start, automatic=True, encrypted=False)
    other.write_bytes(b"x")
    removed = prune(folder, "海峰中学", keep_daily=7, keep_monthly=3, zone=ZoneInfo("Asia/Shanghai"))
    left = sorted(p.name for p in folder.iterdir())
    assert manual.exists() and other.exists()
    autos = [n for n in left if n.startswith("海峰中学") and n.endswith("-auto.xjbak")]
    # 7 newest days + the newest of the 3 newest months (one is already among the 7 days).
    assert len(autos) == 7 + 2
    assert len(removed) == len(made) - len(autos)
    newest = max(made, key=lambda p: p.name)
    assert newest.exists()


def test_forgetting_the_passphrase_makes_the_next_backup_plain(full, tmp_path, memory_keyring):
    from models.backup import forget_passphrase, remember_passphrase, remembered_passphrase
    ident = full.store.identity
    remember_passphrase(ident, PASS)
    assert remembered_passphrase(ident) == PASS
    forget_passphrase(ident)
    forget_passphrase(ident)                       # twice: still no error
    assert remembered_passphrase(ident) is None


def test_no_keyring_means_a_clear_message_for_remember(full):
    from keyring.backends import fail
    from models.backup import remember_passphrase, remembered_passphrase
    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert remembered_passphrase(full.store.identity) is None     # auto backup: plain, no crash
        with pytest.raises(StoreError) as exc:
            remember_passphrase(full.store.identity, PASS)
        assert exc.value.key == "backup.error.keyring" and "密钥环" in exc.value.message
    finally:
        keyring.set_keyring(old)


def test_a_damaged_database_can_be_restored_and_its_bytes_are_kept(full, db_path, tmp_path):
    archive = create_backup(full, tmp_path / "out").path
    full.store.close()
    good = dump(db_path)
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)          # the header survives, the schema page does not
    db_path.write_bytes(bytes(data))
    wrecked = db_path.read_bytes()
    r = run_cli("incident", "list", "--db", str(db_path))
    assert r.returncode == 1 and "restore" in r.stderr     # the store points the way
    r = run_cli("restore", str(archive), "--yes", "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    pre = next(db_path.parent.glob("duty.pre-restore-*.db"))
    assert pre.read_bytes() == wrecked
    after = dump(db_path)
    assert after["incident"] == good["incident"] and after["audit_event"][:-1] == good["audit_event"][:-1]
    s = open_store(db_path)
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert last.action == "backup.restore" and last.actor.startswith("os:")
    assert audit.verify().ok
    s.close()
