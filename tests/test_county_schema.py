"""The county server's record of schema steps, on a real throw-away PostgreSQL.

A step appended to an already-released version must still reach a county database that was
initialised before it: ``county init`` runs every step its record (``schema_meta.steps``)
lacks, in one transaction, and keeps every row."""
import json

import psycopg
import pytest

from models.county import board, schema, server
from models.errors import DomainError
from tests.conftest import run_cli
from tests.pgcluster import make_county
from tests.test_county_rls import _incident


def _everything(admin: str) -> dict:
    """Every row of every county table and the shape of the schema (columns, indexes,
    policies, triggers, functions, grants): what ``init`` must never change when run again."""
    with psycopg.connect(admin) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'county' ORDER BY tablename")]
        out = {"tables": tables}
        for table in tables:
            out[table] = sorted(map(repr, conn.execute(f"SELECT * FROM county.{table}").fetchall()))
        out["columns"] = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_schema = 'county' ORDER BY 1, 2").fetchall()
        out["indexes"] = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'county' ORDER BY 1").fetchall()
        out["policies"] = conn.execute(
            "SELECT tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'county' ORDER BY 1, 2").fetchall()
        out["triggers"] = conn.execute(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'county' AND NOT t.tgisinternal ORDER BY 1, 2").fetchall()
        out["functions"] = conn.execute(
            "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = 'county' ORDER BY 1").fetchall()
        out["grants"] = conn.execute(
            "SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = 'county' ORDER BY 1, 2, 3").fetchall()
        out["roles"] = conn.execute(
            "SELECT rolname FROM pg_roles WHERE rolname LIKE 'xj\\_%' ORDER BY 1").fetchall()
    return out


def _recorded(admin: str) -> list[str]:
    with psycopg.connect(admin) as conn:
        return json.loads(conn.execute(
            "SELECT value FROM county.schema_meta WHERE key = %s", (schema.STEPS_KEY,)).fetchone()[0])


def _forget(admin: str, step: str, *undo: str) -> None:
    """Undo a step's effect and drop it from the record: a database initialised before the step."""
    with psycopg.connect(admin) as conn:
        for stmt in undo:
            conn.execute(stmt)
        names = [n for n in _recorded(admin) if n != step]
        conn.execute("UPDATE county.schema_meta SET value = %s WHERE key = %s",
                     (json.dumps(names), schema.STEPS_KEY))


@pytest.fixture
def county(pg):
    county = make_county(pg, ("S001", "S002"))
    with psycopg.connect(county["S001"]) as a:
        sent = [{"regime": "school_plan", "stage": "first", "seq": 1, "revision": 1,
                 "submitted_at": "2026-11-25T03:00:00+00:00", "submitted_by": "wangli",
                 "channel": "fax", "recipient": "县教育局"}]
        server.apply_changes(a, "S001", [_incident("XJ-1", reports=sent), _incident("XJ-2")])
    with psycopg.connect(county["S002"]) as b:
        server.apply_changes(b, "S002", [_incident("XJ-9")])
    with psycopg.connect(county["bureau"]) as bureau:
        server.add_receipt(bureau, "S001", "XJ-1", "school_plan", "first", 1, "jijiaoke")
    return county


def test_a_new_county_database_records_every_step(pg):
    db = pg.new_database()
    schema.init(pg.admin_url(db))
    assert _recorded(pg.admin_url(db)) == schema.step_names()
    with psycopg.connect(pg.admin_url(db)) as conn:
        assert schema.pending(conn) == []
        schema.check(conn)


def test_init_twice_changes_nothing(county):
    before = _everything(county["admin"])
    schema.init(county["admin"])
    assert _everything(county["admin"]) == before


def test_a_step_missing_from_an_initialised_database_is_applied_by_init(county):
    """The base step's index dropped and the step forgotten (as if appended after this database
    was made): ``init`` puts the index back and records the step; every row stays."""
    before = _everything(county["admin"])
    _forget(county["admin"], "base", "DROP INDEX county.obligation_due")
    with psycopg.connect(county["admin"]) as conn:
        assert schema.pending(conn) == ["base"]
    schema.init(county["admin"])
    assert _everything(county["admin"]) == before
    assert _recorded(county["admin"]) == schema.step_names()


def test_a_database_from_before_the_record_of_steps_gets_every_step(county):
    """The previous build kept only ``version``: no record at all means every step runs
    (each is idempotent), and then the record is complete."""
    before = _everything(county["admin"])
    with psycopg.connect(county["admin"]) as conn:
        conn.execute("DELETE FROM county.schema_meta WHERE key = %s", (schema.STEPS_KEY,))
    schema.init(county["admin"])
    assert _everything(county["admin"]) == before
    assert _recorded(county["admin"]) == schema.step_names()


def test_a_failing_step_leaves_the_server_as_it_was(county, monkeypatch):
    before = _everything(county["admin"])
    _forget(county["admin"], "base", "DROP INDEX county.obligation_due")
    broken = [(v, name, stmts + (["SELECT no_such_function()"] if name == "base" else []))
              for v, name, stmts in schema.STEPS]
    monkeypatch.setattr(schema, "STEPS", broken)
    with pytest.raises(DomainError):
        schema.init(county["admin"])
    with psycopg.connect(county["admin"]) as conn:
        assert schema.pending(conn) == ["base"]
        assert conn.execute("SELECT to_regclass('county.obligation_due')").fetchone()[0] is None
    monkeypatch.undo()
    schema.init(county["admin"])
    assert _everything(county["admin"]) == before


def test_board_and_school_told_clearly_when_the_server_is_behind(county, pg, tmp_path):
    _forget(county["admin"], "base")
    for login in (county["bureau"], county["S001"]):
        with psycopg.connect(login, autocommit=True) as conn:
            with pytest.raises(DomainError) as exc:
                schema.check(conn)
            assert exc.value.key == "county.error.schema_behind"
            assert "base" in exc.value.message and "county init" in exc.value.message
            with pytest.raises(DomainError) as exc:
                board.read(conn)
            assert exc.value.key == "county.error.schema_behind"
    # The real command: one clear line, exit 1, no traceback.
    proc = run_cli("county", "board", "--json", "--url", county["bureau"])
    assert proc.returncode == 1, proc.stderr
    assert "county init" in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
    # Once ``county init`` ran, the board reads again.
    proc = run_cli("county", "init", "--url", county["admin"])
    assert proc.returncode == 0, proc.stderr
    with psycopg.connect(county["bureau"], autocommit=True) as conn:
        schema.check(conn)
        assert {i.code for i in board.read(conn).incidents} == {"XJ-1", "XJ-2", "XJ-9"}
