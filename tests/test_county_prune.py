"""Pruning the acknowledged outbox (issue 19 follow-up): a record keeps its newest row and its
unsent ones, nothing else; versions go on from the newest, the county sees no duplicate, a
database restored from a backup still reaches it. Against a real PostgreSQL (fixture ``pg``),
with the rows and the file's size printed with and without pruning."""
import threading
import time

import psycopg
import pytest

from models.county import link, outbox
from models.store import open_store
from models.tables import Incident, Outbox
from tests.pgcluster import county, enrolled_school  # noqa: F401 (the fixture)
from tests.conftest import T0


@pytest.fixture(autouse=True)
def _credential_in_a_file(monkeypatch):
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")


_school = enrolled_school


def _changes(store, n, tag="改", start=0):
    ids = [i for (i,) in Incident.select(Incident.id).order_by(Incident.id).tuples()]
    for k in range(start, start + n):
        with store.write():
            Incident.update(title=f"{tag} {k}").where(Incident.id == ids[k % len(ids)]).execute()


def _local(store):
    """{record: [(version, sent?)]} in version order."""
    out: dict = {}
    for r, v, sent in store.db.execute_sql("SELECT record, version, sent_at IS NOT NULL FROM outbox "
                                           "ORDER BY record, version"):
        out.setdefault(r, []).append((v, bool(sent)))
    return out


def _server(county, school):
    with psycopg.connect(county["admin"]) as conn:
        logged = conn.execute("SELECT count(*), count(DISTINCT (record, version)) FROM county.change_log "
                              "WHERE school = %s", (school,)).fetchone()
        versions = dict(conn.execute("SELECT 'incident:' || code, version FROM county.incident WHERE school = %s",
                                     (school,)).fetchall())
    return logged, versions


def test_sent_rows_are_pruned_to_the_newest_unsent_ones_stay_versions_go_on(county, tmp_path, clock):
    ctx = _school(county, tmp_path, "S001", clock)
    store = ctx.store
    _changes(store, 290)
    assert Outbox.select().count() == 300
    got = link.sync_once(store, batch=50)
    assert got["sent"] == 300 and got["pending"] == 0 and got["pruned"] == 290
    local = _local(store)
    assert len(local) == 10 and all(len(rows) == 1 and rows[0][1] for rows in local.values())
    (_, distinct), versions = _server(county, "S001")
    assert distinct == 300 and versions == {r: rows[-1][0] for r, rows in local.items()}
    # Changes not sent yet (server down): every unsent row stays, next to each record's newest sent one.
    county["pg"].stop()
    try:
        _changes(store, 25, "断网时改", start=290)
        with pytest.raises(Exception):
            link.sync_once(store)
    finally:
        county["pg"].start()
    local = _local(store)
    assert sum(len(rows) for rows in local.values()) == 10 + 25
    assert all(rows[0][1] and not any(sent for _, sent in rows[1:]) for rows in local.values())
    # A sweep now: each sent row has a newer unsent one (the record's newest), so it goes; no unsent row does.
    with store.write():
        assert outbox.prune_sent(store) == 10
    local = _local(store)
    assert sum(len(rows) for rows in local.values()) == 25 and not any(s for rows in local.values() for _, s in rows)
    with store.write():
        assert outbox.prune_sent(store) == 0
    before = {r: rows[-1][0] for r, rows in local.items()}
    got = link.sync_once(store)
    assert got["sent"] == 25 and got["duplicates"] == 0 and got["applied"] + got["stale"] == 25
    assert got["pruned"] == 25 - 10
    (logged, distinct), versions = _server(county, "S001")
    assert logged == distinct == 325 and versions == before
    # The next version follows the newest row kept, never repeats one the county has.
    inc = Incident.select().order_by(Incident.id).first()
    record = f"incident:{inc.code}"
    _changes(store, 1, "之后", start=0)
    assert _local(store)[record][-1] == (before[record] + 1, False)
    assert link.sync_once(store)["applied"] == 1
    store.close()


def test_the_sender_sweeps_rows_acknowledged_before_pruning_existed(county, tmp_path, clock):
    """A file whose rows were all kept (sent by an earlier build): the first round prunes them."""
    ctx = _school(county, tmp_path, "S001", clock, incidents=4)
    store = ctx.store
    link.sync_once(store)
    _changes(store, 40)
    # What an earlier build left: these sent and kept (its marking never pruned).
    with store.write():
        store.db.execute_sql("UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL", (T0.isoformat(),))
    assert Outbox.select().count() == 44
    totals = link.run(store, threading.Event(), drain=True, idle_s=0.05)
    assert totals["pruned"] == 40 and Outbox.select().count() == 4
    # Nothing left to prune: the next start looks (a read) and commits nothing.
    commits = store.local_commits
    totals = link.run(store, threading.Event(), drain=True, idle_s=0.05)
    assert totals["pruned"] == 0 and store.local_commits == commits
    store.close()


def test_a_restored_backup_after_pruning_still_reaches_the_county(county, tmp_path, clock):
    """The backup's outbox is older and the live one was pruned since: the restored file's
    versions are renumbered above the county's (link._catch_up_versions), none is a duplicate."""
    import shutil
    ctx = _school(county, tmp_path, "S001", clock, incidents=2)
    store = ctx.store
    _changes(store, 4, "备份之前")
    link.sync_once(store)
    _changes(store, 2, "备份时未发")                     # unsent in the backup
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(store.path, tmp_path / "backup.db")
    _changes(store, 6, "备份之后")
    assert link.sync_once(store)["pruned"] > 0 and Outbox.select().count() == 2
    store.close()
    for extra in ("-wal", "-shm"):
        (tmp_path / f"S001.db{extra}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", tmp_path / "S001.db")
    store = open_store(tmp_path / "S001.db")
    _changes(store, 2, "恢复之后")
    got = link.sync_once(store)
    assert got["duplicates"] == 0 and got["sent"] == 4 and got["pending"] == 0
    with psycopg.connect(county["admin"]) as conn:
        titles = sorted(r[0] for r in conn.execute("SELECT title FROM county.incident").fetchall())
    assert titles == ["恢复之后 0", "恢复之后 1"]
    (logged, distinct), versions = _server(county, "S001")
    assert logged == distinct
    assert versions == {r: rows[-1][0] for r, rows in _local(store).items()}
    assert Outbox.select().count() == 2
    store.close()


def _outbox_bytes(path):
    import sqlite3
    con = sqlite3.connect(str(path))
    try:
        return con.execute("SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE '%outbox%'").fetchone()[0]
    finally:
        con.close()


def test_rows_and_file_size_with_and_without_pruning(county, tmp_path, clock, capsys, monkeypatch):
    """400 changes over 10 incidents, sent every 100: rows, the outbox's pages and the file's
    size each way, and what the pruning costs per round (it runs inside the marking transaction).
    (The audit trail grows either way: it is the officer's record, kept on purpose.)"""
    n, every = 400, 100
    figures = {}
    real = outbox.prune_sent
    state = {"on": False, "spent": 0.0}

    def timed(store, records=None):
        if not state["on"]:
            return 0
        start = time.perf_counter()
        try:
            return real(store, records)
        finally:
            state["spent"] += time.perf_counter() - start
    monkeypatch.setattr(outbox, "prune_sent", timed)
    for code, prune in (("S001", False), ("S002", True)):
        state["on"], state["spent"] = prune, 0.0
        ctx = _school(county, tmp_path, code, clock)
        store = ctx.store
        sizes, table = [], []
        for k in range(0, n, every):
            _changes(store, every, start=k)
            link.sync_once(store, receipts=False)
            store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes.append(store.path.stat().st_size)
            table.append(_outbox_bytes(store.path))
        figures[code] = (Outbox.select().count(), sizes, table, state["spent"], n // every)
        store.close()
    rows_off, sizes_off, table_off, _, _ = figures["S001"]
    rows_on, sizes_on, table_on, spent, rounds = figures["S002"]
    with capsys.disabled():
        print(f"\n[outbox pruning] {n} changes: rows {rows_off} kept vs {rows_on} pruned; outbox pages "
              f"{table_off[-1] // 1024} KiB vs {table_on[-1] // 1024} KiB; file {sizes_off[-1] // 1024} KiB vs "
              f"{sizes_on[-1] // 1024} KiB; pruning {spent / rounds * 1000:.2f} ms per round of {every}")
    assert rows_off == n + 10 and rows_on == 10
    # Pruned, the outbox's pages stop growing after the first round (freed pages are reused) …
    assert table_on[-1] <= table_on[0] and table_off[-1] > 3 * table_off[0]
    # … and the file grows only by the rest (the audit trail).
    assert sizes_on[-1] * 1.5 < sizes_off[-1]
    assert spent / rounds < 0.05
