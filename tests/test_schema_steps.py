"""Steps appended to this release's migration reach databases already at its schema.

A database made (or migrated) by an earlier build of release 0.2 says schema 2 but lacks the
steps added since; ``schema_meta.schema_steps`` records which steps a file has had, and
``open_store`` runs the missing ones, after a backup, in one transaction.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from peewee import TextField

from models import migrations
from models.errors import StoreError
from models.incidents import IncidentInput, create_incident
from models.migrations import AUDIT_ENTITY_INDEX, STEPS_KEY, add_columns, all_step_names
from models.store import open_store
from tests.conftest import T0, make_ctx

DATA = Path(__file__).resolve().parent / "data"
POSIX = os.name == "posix"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tables(con: sqlite3.Connection) -> dict[str, list[tuple]]:
    names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                       "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}


def _indexes(con: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in con.execute(f'PRAGMA index_list("{table}")')}


def _recorded(con: sqlite3.Connection) -> list[str] | None:
    row = con.execute("SELECT value FROM schema_meta WHERE key=?", (STEPS_KEY,)).fetchone()
    return json.loads(row[0]) if row else None


def _make_current(db: Path, clock) -> None:
    """A database made by today's code, with some records and their audit trail."""
    store = open_store(db)
    ctx = make_ctx(store, clock)
    for title in ("学籍系统弱口令", "异常登录"):
        create_incident(ctx, IncidentInput(title=title, category="security_hazard",
                                           occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
    store.close()


def _as_an_earlier_build_left_it(db: Path, record: str) -> None:
    """What an earlier build of 0.2 wrote: no entity index, and either no record of steps at all
    (builds before the record existed) or a record without the newest step."""
    con = sqlite3.connect(db)
    con.execute(f'DROP INDEX "{AUDIT_ENTITY_INDEX}"')
    if record == "absent":
        con.execute("DELETE FROM schema_meta WHERE key=?", (STEPS_KEY,))
    else:
        older = [n for n in all_step_names() if n != "_audit_entity_index"]
        con.execute("UPDATE schema_meta SET value=? WHERE key=?", (json.dumps(older), STEPS_KEY))
    con.commit()
    con.close()


def test_a_new_database_records_every_step(tmp_path):
    db = tmp_path / "duty.db"
    open_store(db).close()
    con = sqlite3.connect(db)
    assert _recorded(con) == all_step_names()
    assert AUDIT_ENTITY_INDEX in _indexes(con, "audit_event")
    con.close()


def test_a_new_database_has_each_steps_effect_even_if_a_model_lacks_it(tmp_path, monkeypatch):
    """The record says a new file had every step: each runs at creation (idempotent), so a
    step whose column or index a model forgot to declare is there all the same."""
    def _incident_test_note(db_):
        add_columns(db_, "incident", test_note=TextField(default="-"))

    monkeypatch.setitem(migrations.STEPS, 2, [*migrations.STEPS[2], _incident_test_note])
    db = tmp_path / "duty.db"
    store = open_store(db)
    try:
        cols = [r[1] for r in store.db.execute_sql('PRAGMA table_info("incident")').fetchall()]
        assert "test_note" in cols
        assert json.loads(store.meta(STEPS_KEY))[-1] == "_incident_test_note"
    finally:
        store.close()


def test_a_release_0_1_database_records_every_step_after_its_migration(tmp_path):
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    open_store(db).close()
    con = sqlite3.connect(db)
    assert _recorded(con) == all_step_names()
    con.close()


@pytest.mark.parametrize("record", ["absent", "without_newest"])
def test_a_database_from_an_earlier_build_gets_the_newer_step_with_a_backup(tmp_path, clock, record):
    db = tmp_path / "duty.db"
    _make_current(db, clock)
    _as_an_earlier_build_left_it(db, record)
    con = sqlite3.connect(db)
    before = _tables(con)
    con.close()

    store = open_store(db)
    try:
        assert store.backup_made is not None and store.backup_made.exists()
        assert not store.read_only and store.schema_pending == []
    finally:
        store.close()
    con = sqlite3.connect(db)
    assert AUDIT_ENTITY_INDEX in _indexes(con, "audit_event")
    assert _recorded(con) == all_step_names()
    after = _tables(con)
    con.close()
    for table, rows in before.items():             # every row kept (schema_meta: one row more at most)
        if table == "schema_meta":
            assert set(rows) - set(after[table]) <= {r for r in rows if r[0] == STEPS_KEY}
            continue
        assert after[table] == rows, table
    # The backup is the file as it was: without the index, with every row.
    bak = sqlite3.connect(store.backup_made)
    assert AUDIT_ENTITY_INDEX not in _indexes(bak, "audit_event")
    assert _tables(bak)["incident"] == before["incident"]
    bak.close()


def test_a_column_step_added_later_reaches_a_database_already_at_the_schema(tmp_path, clock, monkeypatch):
    """The case that would crash: a column added by a step appended after the file was made."""
    db = tmp_path / "duty.db"
    _make_current(db, clock)
    con = sqlite3.connect(db)
    before = _tables(con)
    con.close()

    def _incident_test_note(db_):
        add_columns(db_, "incident", test_note=TextField(default="-"))

    monkeypatch.setitem(migrations.STEPS, 2, [*migrations.STEPS[2], _incident_test_note])
    store = open_store(db)
    try:
        assert store.backup_made is not None
        cols = [r[1] for r in store.db.execute_sql('PRAGMA table_info("incident")').fetchall()]
        assert "test_note" in cols
        notes = [r[0] for r in store.db.execute_sql('SELECT test_note FROM incident').fetchall()]
        assert notes == ["-", "-"]                  # old rows get the default
        assert json.loads(store.meta(STEPS_KEY))[-1] == "_incident_test_note"
        rows = [r[:len(before["incident"][0])] for r in
                store.db.execute_sql('SELECT * FROM incident ORDER BY rowid').fetchall()]
        assert rows == before["incident"]
    finally:
        store.close()


def test_a_record_from_a_newer_build_of_this_release_is_kept(tmp_path):
    """A colleague's newer build recorded a step this build does not know: it is kept, not re-run."""
    db = tmp_path / "duty.db"
    open_store(db).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE schema_meta SET value=? WHERE key=?",
                (json.dumps([*all_step_names(), "_from_a_newer_build"]), STEPS_KEY))
    con.commit()
    con.close()
    stamp = _digest(db)
    store = open_store(db)
    assert store.backup_made is None
    store.close()
    assert _digest(db) == stamp


@pytest.mark.parametrize("made_by", ["today", "earlier_build"])
def test_opening_a_second_time_writes_nothing(tmp_path, clock, made_by):
    db = tmp_path / "duty.db"
    _make_current(db, clock)
    if made_by == "earlier_build":
        _as_an_earlier_build_left_it(db, "absent")
    first = open_store(db)
    first.close()
    backups = sorted(tmp_path.glob("*.bak"))
    stat, digest = db.stat(), _digest(db)
    watcher = sqlite3.connect(db)                    # another session, watching for commits
    seen = watcher.execute("PRAGMA data_version").fetchone()[0]

    again = open_store(db)
    try:
        assert again.backup_made is None
        assert again.data_version() == again.data_version()
    finally:
        again.close()
    assert watcher.execute("PRAGMA data_version").fetchone()[0] == seen
    watcher.close()
    assert db.stat().st_mtime_ns == stat.st_mtime_ns and db.stat().st_size == stat.st_size
    assert _digest(db) == digest
    assert sorted(tmp_path.glob("*.bak")) == backups


def _make_read_only(path: Path) -> None:
    """Take write permission away; root ignores modes, so as root the file is made immutable."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        try:
            done = subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0
        except FileNotFoundError:
            done = False
        if not done:
            pytest.skip("running as root where chattr is unavailable: root cannot be denied writes")
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)


def _make_writable(path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)
    path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.fixture
def read_only(tmp_path):
    made: list[Path] = []

    def make(*paths: Path) -> None:
        for p in paths:
            _make_read_only(p)
            made.append(p)
    yield make
    for p in reversed(made):
        _make_writable(p)


def _ro_db(tmp_path, clock, folder_writable: bool, read_only, earlier: bool) -> tuple[Path, Path]:
    folder = tmp_path / "ro"
    db = folder / "duty.db"
    _make_current(db, clock)
    if earlier:
        _as_an_earlier_build_left_it(db, "without_newest")
    read_only(db) if folder_writable else read_only(db, folder)
    return folder, db


@pytest.mark.skipif(not POSIX, reason="file modes are POSIX")
@pytest.mark.parametrize("folder_writable", [True, False])
def test_a_read_only_database_with_every_step_opens_for_reading(tmp_path, clock, read_only, folder_writable):
    folder, db = _ro_db(tmp_path, clock, folder_writable, read_only, earlier=False)
    digest = _digest(db)
    store = open_store(db)
    try:
        assert store.read_only and store.schema_pending == [] and store.backup_made is None
        assert store.db.execute_sql("SELECT count(*) FROM incident").fetchone()[0] == 2
    finally:
        store.close()
    assert _digest(db) == digest and not list(folder.glob("*.bak"))


@pytest.mark.skipif(not POSIX, reason="file modes are POSIX")
@pytest.mark.parametrize("folder_writable", [True, False])
def test_a_read_only_database_lacking_an_index_opens_for_reading_with_a_notice(tmp_path, clock, read_only,
                                                                               folder_writable):
    from models.integrity import check_schema, startup_banners, startup_check
    folder, db = _ro_db(tmp_path, clock, folder_writable, read_only, earlier=True)
    digest = _digest(db)
    store = open_store(db)
    try:
        assert store.read_only and store.backup_made is None
        assert store.schema_pending == ["_audit_entity_index"]
        assert store.db.execute_sql("SELECT count(*) FROM incident").fetchone()[0] == 2
        finding = check_schema(store)
        assert not finding.ok and finding.key == "integrity.schema_steps_pending"
        ctx = make_ctx(store, clock)
        startup_check(ctx)
        keys = [b.key for b in startup_banners(ctx)]
        assert "integrity.read_only" in keys and "integrity.schema" in keys
        assert "_audit_entity_index" in finding.message
    finally:
        store.close()
    assert _digest(db) == digest and not list(folder.glob("*.bak"))


@pytest.mark.skipif(not POSIX, reason="file modes are POSIX")
@pytest.mark.parametrize("folder_writable", [True, False])
def test_a_read_only_database_lacking_a_column_is_refused_with_a_message(tmp_path, clock, read_only,
                                                                         monkeypatch, folder_writable):
    folder, db = _ro_db(tmp_path, clock, folder_writable, read_only, earlier=False)

    def _incident_test_note(db_):
        add_columns(db_, "incident", test_note=TextField(default="-"))

    monkeypatch.setitem(migrations.STEPS, 2, [*migrations.STEPS[2], _incident_test_note])
    digest = _digest(db)
    with pytest.raises(StoreError) as exc:
        open_store(db)
    assert exc.value.key == "error.db_readonly_outdated"
    assert str(db) in exc.value.message and "只读" in exc.value.message
    assert _digest(db) == digest and not list(folder.glob("*.bak"))


def test_an_imported_export_keeps_this_databases_record_of_steps(tmp_path):
    """An export carries its source's schema_meta; one from release 0.1 (or an earlier 0.2 build)
    has no record of steps. The database it is imported into was made by today's code: reopening
    it must not re-run every step and take a backup."""
    from models.export import import_into
    from tests.test_import_validation import _export_of_release_0_1
    db = tmp_path / "new" / "duty.db"
    store = open_store(db)
    try:
        assert import_into(store, _export_of_release_0_1()).chain_ok
        assert json.loads(store.meta(STEPS_KEY)) == all_step_names()
    finally:
        store.close()
    again = open_store(db)
    try:
        assert again.backup_made is None
    finally:
        again.close()
    assert not list(db.parent.glob("*.bak"))
