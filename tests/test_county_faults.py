"""The outbox under faults, against a real PostgreSQL (issue 19, item 5), with counts.

Each test prints: changes made, changes on the server, duplicates, lost. "On the server" is
``county.change_log`` (one row per (school, record, version) ever applied); "applied twice"
would be more change_log rows than distinct versions, which its primary key forbids, and a
county incident whose version differs from the school's last one would be a lost change.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from models.county import link, outbox, server
from models.store import open_store
from models.tables import Incident, Outbox
from tests.pgcluster import county, enrolled_school  # noqa: F401 (the fixture)
from tests.conftest import ROOT, T0, run_cli


@pytest.fixture(autouse=True)
def _credential_in_a_file(monkeypatch):
    # CLI subprocesses see no keyring: the county password in the private file beside the database.
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")


_school = enrolled_school


def _changes(store, n, tag="改"):
    """``n`` committed changes, each one outbox row (round-robin over the incidents)."""
    ids = [i for (i,) in Incident.select(Incident.id).order_by(Incident.id).tuples()]
    before = Outbox.select().count()
    for k in range(n):
        with store.write():
            Incident.update(title=f"{tag} {k}").where(Incident.id == ids[k % len(ids)]).execute()
    assert Outbox.select().count() == before + n
    return n


def _server_counts(county, school):
    with psycopg.connect(county["admin"]) as conn:
        logged = conn.execute("SELECT count(*), count(DISTINCT (record, version)) FROM county.change_log "
                              "WHERE school = %s", (school,)).fetchone()
        versions = dict(conn.execute("SELECT 'incident:' || code, version FROM county.incident WHERE school = %s",
                                     (school,)).fetchall())
    return logged[0], logged[1], versions


def _last_versions(store):
    return dict(store.db.execute_sql("SELECT record, max(version) FROM outbox GROUP BY record").fetchall())


def _report(name, made, on_server, duplicates, lost, extra=""):
    print(f"\n[{name}] changes made {made}, on the server {on_server}, duplicates {duplicates}, lost {lost}{extra}")


def test_server_down_during_200_changes_then_back(county, tmp_path, clock, capsys):
    ctx = _school(county, tmp_path, "S001", clock)
    store = ctx.store
    assert link.sync_once(store)["pending"] == 0
    before, _, _ = _server_counts(county, "S001")
    stop = threading.Event()
    totals: dict = {}
    sender = threading.Thread(target=link.run, args=(store, stop),
                              kwargs={"idle_s": 0.2, "backoff_max_s": 2.0, "totals": totals}, daemon=True)
    county["pg"].stop()
    try:
        sender.start()
        made = _changes(store, 200, "断网时改")
        seen = totals.get("failures", 0)
        deadline = time.monotonic() + 10
        while totals.get("failures", 0) <= seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert totals["failures"] >= 2 and totals["sent"] == 0
        state = link.read_state(store.path)
        assert state["last_error"] and state["pending"] == 200
        assert link.line(store, ctx.zone) == ("县网不通，待发 200 条", "warning")
    finally:
        county["pg"].start()
    back = time.monotonic()
    deadline = back + 20
    while outbox.pending(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    drained = time.monotonic() - back
    stop.set()
    sender.join(10)
    assert not sender.is_alive()
    logged, distinct, versions = _server_counts(county, "S001")
    on_server = logged - before
    lost = made - on_server
    with capsys.disabled():
        _report("server down", made, on_server, totals["duplicates"], lost,
                f", failures while down {totals['failures']}, drained {drained:.1f} s after the restart "
                "(back-off cap 2 s in this test)")
    assert outbox.pending(store) == 0 and on_server == 200 and lost == 0
    assert totals["duplicates"] == 0 and logged == distinct
    assert versions == _last_versions(store)
    assert link.read_state(store.path)["last_error"] is None


def test_sender_killed_mid_batch_then_rerun(county, tmp_path, clock, capsys):
    ctx = _school(county, tmp_path, "S001", clock)
    store = ctx.store
    made = outbox.pending(store) + _changes(store, 190)        # 10 snapshots + 190 edits
    marker = tmp_path / "stalled"
    proc = subprocess.Popen([sys.executable, "-m", "tests.county_workers", "sync-stall", str(marker), "2", "--",
                             "--drain", "--db", str(store.path)],
                            cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT), "XUEJI_DUTY_COUNTY_BATCH": "50"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert marker.exists(), proc.communicate()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    logged, _, _ = _server_counts(county, "S001")
    assert logged == 100                                   # two batches on the server …
    assert outbox.pending(store) == 150                    # … the second never marked sent
    r = run_cli("county", "sync", "--drain", "--json", "--db", str(store.path),
                env={"XUEJI_DUTY_COUNTY_BATCH": "50"})
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    logged, distinct, versions = _server_counts(county, "S001")
    with capsys.disabled():
        _report("SIGKILL mid-batch", made, logged, got["duplicates"], made - logged,
                f"; rerun sent {got['sent']}, applied {got['applied']}, duplicates {got['duplicates']}")
    # 150 resent: the 50 the server had (duplicates, not applied again) and 100 new ones, of which
    # older versions of a record in the same batch are only logged (stale), the newest applied.
    assert got["sent"] == 150 and got["duplicates"] == 50 and got["applied"] + got["stale"] == 100
    assert got["pending"] == 0 and got["failures"] == 0
    assert logged == distinct == made and outbox.pending(store) == 0
    assert versions == _last_versions(store)


def test_the_same_batch_delivered_twice_applies_nothing_the_second_time(county, tmp_path, clock, capsys):
    ctx = _school(county, tmp_path, "S001", clock)
    store = ctx.store
    _changes(store, 40)
    rows = [(r, v, json.loads(p)) for r, v, p in store.db.execute_sql(
        "SELECT record, version, payload FROM outbox ORDER BY id").fetchall()]

    def killed(_n):
        raise RuntimeError("killed after the server's commit")
    # The sender dies after the server's commit, before the local mark: every row goes again.
    with pytest.raises(RuntimeError):
        link.sync_once(store, on_batch=killed)
    assert outbox.pending(store) == 50
    with psycopg.connect(county["admin"]) as conn:
        state = conn.execute("SELECT code, version, title, received_at FROM county.incident ORDER BY code").fetchall()
    assert _server_counts(county, "S001")[0] == 50
    again = link.sync_once(store)
    # And once more straight through the server function, with the same batch (the rows as
    # they were before the marking pruned the acknowledged older versions).
    with link.connect(store) as conn:
        direct = server.apply_changes(conn, "S001", rows)
    with psycopg.connect(county["admin"]) as conn:
        after = conn.execute("SELECT code, version, title, received_at FROM county.incident ORDER BY code").fetchall()
    logged, distinct, _ = _server_counts(county, "S001")
    with capsys.disabled():
        _report("same batch twice", 50, logged, again["duplicates"], 50 - logged,
                f"; second delivery applied {again['applied']}, third (direct) applied {direct['applied']}")
    assert again["applied"] == 0 and again["duplicates"] == 50 and again["sent"] == 50
    assert direct == {"applied": 0, "duplicate": 50, "stale": 0}
    assert after == state and logged == distinct == 50


def test_two_schools_syncing_at_once(county, tmp_path, clock, capsys):
    a = _school(county, tmp_path, "S001", clock)
    _changes(a.store, 90, "甲校")
    a_path = a.store.path
    a.store.close()
    b = _school(county, tmp_path, "S002", clock)
    _changes(b.store, 90, "乙校")
    b_path = b.store.path
    b.store.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XUEJI_DUTY_COUNTY_BATCH": "20"}
    procs = [subprocess.Popen([sys.executable, "-m", "tui", "county", "sync", "--drain", "--json", "--db", str(p)],
                              cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in (a_path, b_path)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    got = [json.loads(o[0]) for o in outs]
    totals = {}
    for code in ("S001", "S002"):
        logged, distinct, versions = _server_counts(county, code)
        totals[code] = logged
        assert logged == distinct == 100
    with capsys.disabled():
        _report("two schools at once", 200, sum(totals.values()), sum(g["duplicates"] for g in got),
                200 - sum(totals.values()), f" ({totals})")
    assert all(g["sent"] == 100 and g["applied"] + g["stale"] == 100 and g["duplicates"] == 0 for g in got)
    # RLS intact: each school's own login sees only its own rows.
    for path, code in ((a_path, "S001"), (b_path, "S002")):
        store = open_store(path)
        try:
            with link.connect(store) as conn:
                seen = {r[0] for r in conn.execute("SELECT school FROM county.incident").fetchall()}
                logs = {r[0] for r in conn.execute("SELECT school FROM county.change_log").fetchall()}
                assert seen == logs == {code}
                other = "S002" if code == "S001" else "S001"
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    server.apply_changes(conn, other, [("incident:X", 1, {"code": "X"})])
        finally:
            store.close()


def test_back_off_doubles_from_one_second_to_a_sixty_second_cap(tmp_path, clock, monkeypatch):
    """While the server is unreachable the sender waits 1, 2, 4 … 60, 60 s (no real waiting here),
    and the state file, not the database, records each failure."""
    from models.errors import DomainError
    from models.tables import Setting
    store = open_store(tmp_path / "duty.db")
    with store.write():
        Setting.create(key=outbox.SETTING_SCHOOL, value="S001", updated_at=T0)
        Setting.create(key=outbox.SETTING_URL, value="postgresql://127.0.0.1:1/x", updated_at=T0)

    def refuse(_store):
        raise DomainError("county.error.connect", detail="connection refused")
    monkeypatch.setattr(link, "connect", refuse)

    class Waits(threading.Event):
        def __init__(self):
            super().__init__()
            self.waits = []

        def wait(self, timeout=None):
            self.waits.append(timeout)
            if len(self.waits) >= 9:
                self.set()
            return self.is_set()

    stop = Waits()
    version = store.data_version()
    commits = store.local_commits
    totals = link.run(store, stop)
    assert stop.waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert totals["failures"] == 9 and totals["sent"] == 0
    assert link.read_state(store.path)["last_error"].startswith("连不上县级服务器")
    assert store.data_version() == version and store.local_commits == commits     # no write at all
    store.close()


def test_a_database_restored_from_a_backup_still_reaches_the_county(county, tmp_path, clock, capsys):
    """The copy's outbox is older than what the county holds: its next versions are renumbered
    above the county's, so the restored state and every change after it are applied, not
    mistaken for duplicates."""
    import shutil
    ctx = _school(county, tmp_path, "S001", clock, incidents=2)
    store = ctx.store
    link.sync_once(store)
    copy = tmp_path / "backup.db"
    with store.write():
        pass
    store.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(store.path, copy)
    _changes(store, 6, "备份之后")
    assert link.sync_once(store)["pending"] == 0
    key = link.credential_path(store.path).read_bytes()
    store.close()
    # Restore: the backup's file replaces the database (the county password file stays beside it).
    for extra in ("-wal", "-shm"):
        (tmp_path / f"S001.db{extra}").unlink(missing_ok=True)
    shutil.copy(copy, tmp_path / "S001.db")
    store = open_store(tmp_path / "S001.db")
    assert link.credential_path(store.path).read_bytes() == key
    _changes(store, 2, "恢复之后")
    got = link.sync_once(store)
    logged, distinct, versions = _server_counts(county, "S001")
    with capsys.disabled():
        _report("restored backup", 2, got["applied"] + got["stale"], got["duplicates"], 0,
                f"; county versions {sorted(versions.values())}")
    assert got["duplicates"] == 0 and got["applied"] == 2
    with psycopg.connect(county["admin"]) as conn:
        titles = sorted(r[0] for r in conn.execute("SELECT title FROM county.incident").fetchall())
    assert titles == ["恢复之后 0", "恢复之后 1"]
    assert logged == distinct
    store.close()
