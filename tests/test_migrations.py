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


def _index_columns(db, table: str) -> dict[str, list[str]]:
    names = [row[1] for row in db.execute_sql(f'PRAGMA index_list("{table}")').fetchall()]
    return {n: [c[2] for c in db.execute_sql(f'PRAGMA index_info("{n}")').fetchall()] for n in names}


def _fact_history_plans(store, clock, caplog) -> list[str]:
    """Edit the newest incident, walk its fact history from the audit trail through the real
    function (what each edit's write hook runs, and any read the derived table cannot answer),
    and return SQLite's plan for each audit_event query that read sent (captured from peewee's log)."""
    import logging
    from models.incidents import _HISTORY_CACHE, _read_history, get_incident, update_incident
    from models.tables import Incident
    from tests.conftest import make_ctx
    ctx = make_ctx(store, clock)
    inc = Incident.select().order_by(Incident.id.desc()).get()
    update_incident(ctx, inc.id, inc.version, {"location": inc.location + " 机房"})
    inc = get_incident(inc.id)
    assert inc.version > 1
    _HISTORY_CACHE.clear()
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        _read_history([inc])
    sent = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and '"audit_event"' in r.msg[0]]
    assert sent, "the walk read no audit events"
    plans = []
    for sql, params in sent:
        rows = store.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        plans.append(" | ".join(str(r[-1]) for r in rows))
    return plans


def test_release_0_1_audit_trail_gets_the_entity_index_and_fact_history_uses_it(tmp_path, clock, caplog):
    """fact_history runs after every edit (and in the county outbox hook, and on the incident
    screen): it must find one incident's events through (entity, entity_id), not scan the trail."""
    from models.migrations import AUDIT_ENTITY_INDEX
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    before = json.loads((DATA / "release-0.1.json").read_text(encoding="utf-8"))["audit_event"]
    store = open_store(db)
    try:
        assert _index_columns(store.db, "audit_event")[AUDIT_ENTITY_INDEX] == ["entity", "entity_id"]
        rows = _rows(store, "audit_event")
        assert len(rows) == len(before)                          # every event intact
        assert json.loads(json.dumps([{k: r[k] for k in old} for r, old in zip(rows, before)],
                                     default=str)) == before
        for plan in _fact_history_plans(store, clock, caplog):
            # SEARCH … USING INDEX: a lookup; SCAN (even of an index) reads the whole trail.
            assert f"USING INDEX {AUDIT_ENTITY_INDEX}" in plan and "SCAN" not in plan, plan
    finally:
        store.close()
    # Re-running the step (a crash between it and the version bump) changes nothing.
    from models.migrations import _audit_entity_index
    store = open_store(db)
    try:
        _audit_entity_index(store.db)
        assert AUDIT_ENTITY_INDEX in _index_columns(store.db, "audit_event")
    finally:
        store.close()


def test_a_new_database_has_the_audit_entity_index(tmp_path, clock, caplog):
    from models.migrations import AUDIT_ENTITY_INDEX
    from models.incidents import IncidentInput, create_incident
    from tests.conftest import make_ctx
    store = open_store(tmp_path / "new.db")
    try:
        assert _index_columns(store.db, "audit_event")[AUDIT_ENTITY_INDEX] == ["entity", "entity_id"]
        create_incident(make_ctx(store, clock), IncidentInput(
            title="学籍系统弱口令", category="security_hazard", occurred_at=clock.now(),
            discovered_at=clock.now()))
        for plan in _fact_history_plans(store, clock, caplog):
            assert f"USING INDEX {AUDIT_ENTITY_INDEX}" in plan and "SCAN" not in plan, plan
    finally:
        store.close()


def _stats_report_plan(store, caplog) -> str:
    """SQLite's plan for the statistics' read of a period's submitted reports (models.stats._fetch)."""
    import logging
    from models.config import Settings
    from models.stats import _fetch, period
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        _fetch(store.db, period(Settings(), 2026))
    sent = [r.msg for r in caplog.records if isinstance(r.msg, tuple) and "FROM report" in r.msg[0]]
    assert len(sent) == 1
    sql, params = sent[0]
    return " | ".join(str(r[-1]) for r in store.db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())


def test_release_0_1_reports_get_the_index_the_statistics_read(tmp_path, clock, caplog):
    """The statistics read each period's submitted reports from one index (status, incident,
    stage, number, time): SQLite never reads the report rows with their fields."""
    from models.migrations import REPORT_SUBMITTED_INDEX, _report_submitted_index
    columns = ["status", "incident_id", "regime", "stage", "seq", "submitted_at"]
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    store = open_store(db)
    try:
        assert _index_columns(store.db, "report")[REPORT_SUBMITTED_INDEX] == columns
        assert f"USING COVERING INDEX {REPORT_SUBMITTED_INDEX}" in _stats_report_plan(store, caplog)
        _report_submitted_index(store.db)      # re-run (a crash before the version bump): no change
        assert REPORT_SUBMITTED_INDEX in _index_columns(store.db, "report")
    finally:
        store.close()
    from models.incidents import IncidentInput, create_incident
    from tests.conftest import make_ctx
    new = open_store(tmp_path / "new.db")
    try:
        assert _index_columns(new.db, "report")[REPORT_SUBMITTED_INDEX] == columns
        create_incident(make_ctx(new, clock), IncidentInput(
            title="学籍系统弱口令", category="security_hazard", occurred_at=clock.now(),
            discovered_at=clock.now()))
        assert f"USING COVERING INDEX {REPORT_SUBMITTED_INDEX}" in _stats_report_plan(new, caplog)
    finally:
        new.close()
