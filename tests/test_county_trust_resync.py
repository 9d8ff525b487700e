"""``county sync --all`` (countytrust): when the county lost data (restored from its own backup,
a school's rows deleted), everything goes again: every incident's current state, numbered above
what the county's change_log and this file hold (so it is never taken for a duplicate or stale),
and the removal of incidents the county shows that the school's record has not. The real CLI
against a real PostgreSQL (fixture ``pg``)."""
import json
import shutil

import psycopg
import pytest

from models.county import board, link
from models.incidents import update_incident
from models.store import open_store
from models.tables import Incident
from tests.conftest import make_ctx, run_cli
from tests.pgcluster import make_county
from tests.test_county_outbox import _incident


@pytest.fixture
def county(pg):
    return make_county(pg, ("S001",))


def _county(county) -> dict:
    with psycopg.connect(county["admin"]) as conn:
        return {code: (title, version, reason) for code, title, version, reason in conn.execute(
            "SELECT code, title, version, removed_reason FROM county.incident WHERE school = 'S001'")}


def _live(county) -> set:
    with psycopg.connect(county["bureau"]) as conn:
        return {i.code for i in board.read(conn).incidents}


def test_sync_all_sends_everything_again_after_the_county_lost_rows(tmp_path, clock, county, monkeypatch):
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = tmp_path / "duty.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    a = _incident(ctx, title="甲")
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    b = _incident(ctx, title="乙")
    link.sync_once(store)
    update_incident(ctx, a.id, Incident.get_by_id(a.id).version, {"title": "甲改"})
    link.sync_once(store)
    # Before a backup copied by hand: C is recorded and sent after it, then the old copy comes back.
    store.close()
    shutil.copy(db, tmp_path / "old.db")
    store = open_store(db)
    c = _incident(make_ctx(store, clock), title="丙")
    link.sync_once(store)
    store.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"duty.db{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "old.db", db)
    assert _county(county) == {a.code: ("甲改", 2, None), b.code: ("乙", 1, None), c.code: ("丙", 1, None)}
    # The county loses this school's incidents (and so their obligations and reports); its
    # change_log keeps the keys: the same versions again would be taken for duplicates.
    with psycopg.connect(county["admin"]) as conn:
        conn.execute("DELETE FROM county.incident WHERE school = 'S001' AND code <> %s", (c.code,))
    r = run_cli("county", "sync", "--once", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert _live(county) == {c.code}                       # plain sync: nothing to send, nothing mended

    r = run_cli("county", "sync", "--all", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "已重新排队 2 个事件" in r.stdout and "1 个县里有、本校记录中已没有" in r.stdout, r.stdout
    held = _county(county)
    assert held[a.code] == ("甲改", 3, None) and held[b.code] == ("乙", 2, None)
    assert held[c.code] == ("丙", 2, "resync")             # kept, marked: nothing owed, said why
    assert _live(county) == {a.code, b.code}
    proc = run_cli("county", "board", "--json", "--url", county["bureau"])
    doc = json.loads(proc.stdout)
    assert [(x["incident"], x["reason"]) for x in doc["removed"]] == [(c.code, "resync")]
    assert "全量重发" in doc["removed"][0]["note"]

    # Idempotent: again, the same states at higher numbers; nothing swallowed, no removal again.
    r = run_cli("county", "sync", "--all", "--db", str(db), "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["queued"] == 2 and got["removals"] == 0 and got["applied"] == 2, got
    assert got["duplicates"] == 0 and got["stale"] == 0 and got["pending"] == 0
    held = _county(county)
    assert held[a.code] == ("甲改", 4, None) and held[b.code] == ("乙", 3, None)
    assert held[c.code] == ("丙", 2, "resync") and _live(county) == {a.code, b.code}
    with psycopg.connect(county["admin"]) as conn:
        logged, distinct = conn.execute("SELECT count(*), count(DISTINCT (record, version)) FROM county.change_log "
                                        "WHERE school = 'S001'").fetchone()
    assert logged == distinct


def test_sync_all_when_the_county_restored_its_own_older_backup(tmp_path, clock, county, monkeypatch):
    """The county went back to its own older backup: its change_log and rows lost the latest
    version. ``--all`` sends the current state above this file's numbers; the old one is not kept."""
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = tmp_path / "duty.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    a = _incident(ctx, title="甲")
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    link.sync_once(store)
    update_incident(ctx, a.id, Incident.get_by_id(a.id).version, {"title": "甲改"})
    link.sync_once(store)
    store.close()
    with psycopg.connect(county["admin"]) as conn:       # as its backup had it: version 1
        conn.execute("DELETE FROM county.change_log WHERE school = 'S001' AND version = 2")
        conn.execute("UPDATE county.incident SET title = '甲', version = 1 WHERE school = 'S001'")
    r = run_cli("county", "sync", "--all", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert _county(county) == {a.code: ("甲改", 3, None)}


def test_sync_all_refuses_clearly(tmp_path, clock, county, pg, monkeypatch):
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = tmp_path / "duty.db"
    store = open_store(db)
    _incident(make_ctx(store, clock), title="甲")
    store.close()
    r = run_cli("county", "sync", "--all", "--db", str(db))
    assert r.returncode == 1 and "Traceback" not in r.stderr and "登记" in r.stderr, r.stderr
    store = open_store(db)
    ctx = make_ctx(store, clock)
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    link.sync_once(store)
    store.close()
    pg.stop()
    try:
        r = run_cli("county", "sync", "--all", "--db", str(db))
    finally:
        pg.start()
    assert r.returncode == 1 and "连不上县级服务器" in r.stderr and "Traceback" not in r.stderr, r.stderr
    store = open_store(db)
    try:
        from models.county import outbox
        assert outbox.pending(store) == 0            # nothing queued without the county's numbers
    finally:
        store.close()
