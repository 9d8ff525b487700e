"""Row-level security on the county server, with the real roles of a real PostgreSQL.

A school's role reads and writes only its own rows; the bureau reads every school and writes
only receipts. Each refusal comes from the server (RLS or grants), so psql with the same
credential is refused the same way."""
import psycopg
import pytest

from models.county import schema, server
from tests.pgcluster import make_county


def _incident(code, version=1, **extra):
    payload = {"code": code, "title": "勒索病毒", "category": "malware", "grade": "III",
               "grade_decided": True, "status": "open", "is_drill": False,
               "occurred_at": "2026-11-25T02:00:00+00:00", "discovered_at": "2026-11-25T02:10:00+00:00",
               "updated_at": "2026-11-25T02:20:00+00:00",
               "obligations": [{"regime": "school_plan", "stage": "first", "seq": 1, "state": "pending",
                                "due_at": "2026-11-25T05:00:00+00:00", "submitted_at": None, "statutory": True}],
               "reports": []}
    payload.update(extra)
    return (f"incident:{code}", version, payload)


@pytest.fixture
def county(pg):
    return make_county(pg, ("S001", "S002"))


def test_init_is_idempotent_and_versioned(pg):
    db = pg.new_database()
    assert schema.init(pg.admin_url(db)) == schema.SCHEMA_VERSION
    assert schema.init(pg.admin_url(db)) == schema.SCHEMA_VERSION
    with psycopg.connect(pg.admin_url(db)) as conn:
        assert schema.version_of(conn) == schema.SCHEMA_VERSION


def test_a_school_sees_and_writes_only_its_own_rows(county):
    with psycopg.connect(county["S001"]) as a:
        assert server.apply_changes(a, "S001", [_incident("XJ-1")]) == {"applied": 1, "duplicate": 0, "stale": 0}
    with psycopg.connect(county["S002"]) as b:
        server.apply_changes(b, "S002", [_incident("XJ-9")])
        # B sees only its own incident and obligation rows.
        assert b.execute("SELECT school, code FROM county.incident").fetchall() == [("S002", "XJ-9")]
        assert {r[0] for r in b.execute("SELECT school FROM county.obligation").fetchall()} == {"S002"}
        # B cannot write rows as A: the server refuses (WITH CHECK).
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            server.apply_changes(b, "S001", [_incident("XJ-2")])
    with psycopg.connect(county["S002"]) as b:
        # Nor change or delete A's rows: they are invisible, so nothing is touched.
        assert b.execute("UPDATE county.incident SET title = 'x' WHERE school = 'S001'").rowcount == 0
        assert b.execute("DELETE FROM county.incident WHERE school = 'S001'").rowcount == 0
        b.commit()
        # Nor sign receipts.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            b.execute("INSERT INTO county.receipt (school, incident_code, regime, stage, seq, signed_by) "
                      "VALUES ('S002', 'XJ-9', 'school_plan', 'first', 1, 'me')")
    with psycopg.connect(county["S001"]) as a:
        assert a.execute("SELECT title FROM county.incident").fetchall() == [("勒索病毒",)]


def test_the_bureau_reads_everything_and_writes_only_receipts(county):
    sent = _incident("XJ-1", reports=[{"regime": "school_plan", "stage": "first", "seq": 1, "revision": 1,
                                       "submitted_at": "2026-11-25T03:00:00+00:00", "submitted_by": "wangli",
                                       "channel": "fax", "recipient": "县教育局"}])
    with psycopg.connect(county["S001"]) as a:
        server.apply_changes(a, "S001", [sent])
    with psycopg.connect(county["S002"]) as b:
        server.apply_changes(b, "S002", [_incident("XJ-9")])
    with psycopg.connect(county["bureau"]) as bureau:
        assert sorted(bureau.execute("SELECT school, code FROM county.incident").fetchall()) == [
            ("S001", "XJ-1"), ("S002", "XJ-9")]
        for sql in ("UPDATE county.incident SET title = 'x'", "DELETE FROM county.obligation",
                    "INSERT INTO county.change_log (school, record, version) VALUES ('S001', 'incident:XJ-1', 99)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bureau.execute(sql)
            bureau.rollback()
        got = server.add_receipt(bureau, "S001", "XJ-1", "school_plan", "first", 1, "jijiaoke")
        assert got["signed_by"] == "jijiaoke"
        from models.errors import DomainError
        with pytest.raises(DomainError):   # nothing sent: nothing to sign for
            server.add_receipt(bureau, "S002", "XJ-9", "school_plan", "first", 1, "jijiaoke")
    with psycopg.connect(county["S001"]) as a:
        assert [r["incident_code"] for r in server.receipts_for(a)] == ["XJ-1"]
    with psycopg.connect(county["S002"]) as b:
        assert server.receipts_for(b) == []


def test_the_same_batch_twice_changes_nothing_and_old_versions_are_stale(county):
    with psycopg.connect(county["S001"]) as a:
        batch = [_incident("XJ-1", 1), _incident("XJ-1", 2, title="二版")]
        assert server.apply_changes(a, "S001", batch) == {"applied": 2, "duplicate": 0, "stale": 0}
        assert server.apply_changes(a, "S001", batch) == {"applied": 0, "duplicate": 2, "stale": 0}
        assert server.apply_changes(a, "S001", [_incident("XJ-1", 3, title="三版"), _incident("XJ-1", 0)]) == {
            "applied": 1, "duplicate": 0, "stale": 1}
        assert a.execute("SELECT version, title FROM county.incident").fetchall() == [(3, "三版")]
        assert a.execute("SELECT count(*) FROM county.change_log").fetchone()[0] == 4
