"""Opening the file: pragmas, refusal of foreign/newer/corrupt files, backed-up migrations."""
import hashlib
import sqlite3

import pytest

from models import store as store_mod
from models.errors import StoreError
from models.store import CURRENT_SCHEMA, open_store
from models.tables import SchemaMeta


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_new_database_uses_wal_foreign_keys_and_records_identity(db_path):
    s = open_store(db_path)
    assert s.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert s.db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert int(s.meta("schema_version")) == CURRENT_SCHEMA
    assert len(s.identity) == 36
    ident = s.identity
    s.close()
    assert open_store(db_path).identity == ident


def test_a_file_that_is_not_a_database_is_refused_untouched(db_path):
    db_path.write_text("学籍 名单\n张三,李四\n", encoding="utf-8")
    before = digest(db_path)
    with pytest.raises(StoreError) as exc:
        open_store(db_path)
    assert exc.value.key == "error.db_not_ours"
    assert digest(db_path) == before


def test_someone_elses_sqlite_database_is_refused_untouched(db_path):
    con = sqlite3.connect(db_path)
    con.execute("CREATE TABLE notes(x)")
    con.commit()
    con.close()
    before = digest(db_path)
    with pytest.raises(StoreError) as exc:
        open_store(db_path)
    assert exc.value.key == "error.db_not_ours"
    assert digest(db_path) == before


def test_a_newer_schema_is_refused_untouched(db_path):
    s = open_store(db_path)
    SchemaMeta.update(value=str(CURRENT_SCHEMA + 1)).where(SchemaMeta.key == "schema_version").execute()
    s.close()
    before = digest(db_path)
    with pytest.raises(StoreError) as exc:
        open_store(db_path)
    assert exc.value.key == "error.db_newer"
    assert "supported" in exc.value.params
    assert digest(db_path) == before


def test_a_corrupt_file_gets_a_message_not_a_traceback(db_path):
    s = open_store(db_path)
    s.close()
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)   # keep the header, wreck the schema page
    db_path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as exc:
        open_store(db_path)
    assert exc.value.key in ("error.db_corrupt", "error.db_not_ours")


def test_an_older_database_is_backed_up_then_migrated(db_path, monkeypatch):
    s = open_store(db_path)
    s.close()
    calls = []

    def to_v2(db):
        calls.append("v2")
        db.execute_sql("ALTER TABLE incident ADD COLUMN severity_note TEXT")

    monkeypatch.setattr(store_mod, "CURRENT_SCHEMA", CURRENT_SCHEMA + 1)
    monkeypatch.setitem(store_mod.MIGRATIONS, CURRENT_SCHEMA + 1, to_v2)
    s = open_store(db_path)
    assert calls == ["v2"]
    assert int(s.meta("schema_version")) == CURRENT_SCHEMA + 1
    assert s.backup_made is not None and s.backup_made.exists()
    cols = [r[1] for r in s.db.execute_sql("PRAGMA table_info(incident)").fetchall()]
    assert "severity_note" in cols
    bak = sqlite3.connect(s.backup_made)
    assert bak.execute("SELECT value FROM schema_meta WHERE key='schema_version'").fetchone()[0] == str(CURRENT_SCHEMA)
    bak.close()
    s.close()


def test_missing_database_without_create(tmp_path):
    with pytest.raises(StoreError) as exc:
        open_store(tmp_path / "none.db", create=False)
    assert exc.value.key == "error.db_missing"


def test_a_new_database_is_not_world_readable(tmp_path):
    import os
    import stat as st
    if os.name == "nt":
        assert open_store(tmp_path / "w.db").path.exists()
        return
    private = tmp_path / "private"
    private.mkdir(mode=0o755)
    s = open_store(private / "duty.db")
    s.db.execute_sql("CREATE TABLE IF NOT EXISTS probe(x)")  # makes the -wal file exist
    mode = st.S_IMODE((private / "duty.db").stat().st_mode)
    assert mode == 0o600
    assert not st.S_IMODE((private / "duty.db-wal").stat().st_mode) & 0o077
    s.close()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o2770)
    s = open_store(shared / "duty.db")
    assert st.S_IMODE((shared / "duty.db").stat().st_mode) == 0o660
    s.close()
