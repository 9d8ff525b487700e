"""A database written by the previous release opens with today's code, every record intact."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from models.migrations import CURRENT_SCHEMA
from models.store import open_store
from models.tables import ALL_MODELS

DATA = Path(__file__).resolve().parent / "data"


def _rows(store, table: str) -> list[dict]:
    cur = store.db.execute_sql(f'SELECT * FROM "{table}" ORDER BY rowid')
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]


def test_release_0_1_database_opens_with_every_row_intact(tmp_path):
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    shutil.copytree(DATA / "release-0.1-evidence", tmp_path / "duty-evidence")
    before = json.loads((DATA / "release-0.1.json").read_text(encoding="utf-8"))

    store = open_store(db)
    try:
        assert store.backup_made is not None and store.backup_made.exists()
        assert store.meta("schema_version") == str(CURRENT_SCHEMA)
        for table, old_rows in before.items():
            if table == "schema_meta":
                continue
            new_rows = _rows(store, table)
            assert len(new_rows) == len(old_rows), table
            for old, new in zip(old_rows, new_rows):
                # Every column the old release wrote keeps its value; new columns may be added.
                kept = {k: new[k] for k in old}
                assert json.loads(json.dumps(kept, default=str)) == old, table
        assert {m._meta.table_name for m in ALL_MODELS} <= set(store.db.get_tables())
    finally:
        store.close()

    # Opening it again is a no-op: the migration does not run twice.
    again = open_store(db)
    try:
        assert again.backup_made is None
        assert again.meta("schema_version") == str(CURRENT_SCHEMA)
    finally:
        again.close()


def test_previous_release_data_still_reads_through_the_services(tmp_path, clock):
    """Not just rows: the services list what the old file held."""
    from models.incidents import get_incident
    from models.tables import Incident, Report
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    store = open_store(db)
    try:
        codes = [i.code for i in Incident.select().order_by(Incident.id)]
        assert len(codes) == 4
        inc = get_incident(codes[-1])
        assert inc.title == "学籍系统弱口令"
        assert Report.select().where(Report.status == "submitted").count() >= 4
    finally:
        store.close()


def test_migration_never_rebuilds_a_table_that_others_reference(tmp_path):
    """Adding a NOT NULL column makes playhouse rebuild the table (copy, drop, rename); dropping
    ``user`` or ``incident`` with foreign keys on cascades to their tokens or reports. The rows
    release 0.1 had must survive whatever column a step adds (the fixture has no tokens: add one)."""
    import sqlite3
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    con = sqlite3.connect(db)
    con.execute("INSERT INTO login_token (user_id, token_hash, label, created_at) "
                "VALUES (1, 'h', 'registry-pc', '2026-11-25T02:00:00.000000+00:00')")
    con.commit()
    con.close()
    store = open_store(db)
    try:
        assert _rows(store, "login_token")[0]["label"] == "registry-pc"
        assert len(_rows(store, "report")) == 6
        users = _rows(store, "user")
        assert [u["lockouts"] for u in users] == [0, 0] and [u["title"] for u in users] == ["", ""]
    finally:
        store.close()
