"""Fault injection: concurrent writers, a writer killed mid-write, a full disk, a read-only file.

CI runs reduced counts; ``XUEJI_FAULT_SCALE=full`` runs the README's full-size figures:

    XUEJI_FAULT_SCALE=full .venv/bin/python -m pytest tests/test_faults.py -s -q

Each test prints one ``FIGURES`` line with what it measured.
"""
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from models import audit
from models.incidents import IncidentInput, create_incident, get_incident
from models.store import open_store
from models.tables import AuditEvent
from tests.conftest import ROOT, T0
from tests.fault_workers import scaled

POSIX = hasattr(os, "fork")


def figures(name, **values):
    print(f"\nFIGURES {name}: " + json.dumps(values, ensure_ascii=False))


def worker(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "tests.fault_workers", *map(str, args)], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, **kw)


def test_two_processes_conflicting_edits_lose_nothing_and_never_show_locked(ctx, db_path):
    n = scaled(500, 150)
    codes = []
    for title in ("学籍账号异常登录", "学籍数据疑似泄露"):
        codes.append(create_incident(ctx, IncidentInput(
            title=title, category="network_attack", occurred_at=T0 - timedelta(minutes=9),
            discovered_at=T0 - timedelta(minutes=5))).code)
    ctx.store.close()
    start = time.time() + 2.0
    procs = [worker("edits", db_path, who, n, start, ",".join(codes)) for who in ("T", "S")]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    s = open_store(db_path)
    saved = [tuple(x) for r in results for x in r["saved"]]
    lost = 0
    for code in codes:
        inc = get_incident(code)
        tokens = [t + ";" for t in inc.description.split(";") if t]
        mine = [tok for c, tok in saved if c == code]
        lost += sum(1 for tok in mine if tokens.count(tok) != 1)
        assert sorted(tokens) == sorted(mine)          # nothing lost, nothing doubled
        assert inc.version == 1 + len(mine)            # every save was one version step
    updates = AuditEvent.select().where(AuditEvent.action == "incident.update").count()
    chain = audit.verify()
    s.close()
    locked = sum(r["store_errors"].get("error.db_locked", 0) for r in results)
    figures("concurrent_edits", processes=2, edits_per_process=n, saved=len(saved),
            conflicts_retried=sum(r["conflicts"] for r in results), lost_updates=lost,
            locked_errors_to_user=locked, other_store_errors=sum(sum(r["store_errors"].values()) for r in results) - locked,
            seconds=round(max(r["seconds"] for r in results), 2))
    assert len(saved) == 2 * n and lost == 0
    assert locked == 0 and all(not r["store_errors"] for r in results)
    assert updates == 2 * n and chain.ok and chain.checked == 2 + 2 * n


@pytest.mark.skipif(not POSIX, reason="the kill loop forks pre-imported writers (os.fork is POSIX-only)")
def test_a_writer_killed_at_a_random_moment_leaves_a_whole_database(ctx, db_path):
    runs = scaled(100, 10)
    create_incident(ctx, IncidentInput(title="起始事件", category="malware",
                                       occurred_at=T0 - timedelta(minutes=9), discovered_at=T0))
    ctx.store.close()
    p = worker("kill-loop", db_path, runs, 20261125, 0.05, 2.5)
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0, err
    results = json.loads(out.strip().splitlines()[-1])["results"]
    assert len(results) == runs
    bad_integrity = [r for r in results if r["integrity"] != ["ok"]]
    missing = [r for r in results if r["missing"]]
    lost = sum(r["lost_updates"] for r in results)
    ages = [r["draft_age"] for r in results if r["drafts"]]
    report_ages = [r["report_draft_age"] for r in results if r["report_drafts"]]
    figures("sigkill", runs=runs, integrity_ok=runs - len(bad_integrity),
            committed_reported=sum(r["committed"] for r in results),
            committed_missing=sum(len(r["missing"]) for r in results), lost_updates=lost,
            runs_with_a_draft=len(ages), max_draft_age_s=round(max(ages), 2) if ages else None,
            runs_with_a_report_draft=len(report_ages),
            max_report_draft_age_s=round(max(report_ages), 2) if report_ages else None,
            kill_delay_s=[min(r["delay"] for r in results), max(r["delay"] for r in results)])
    assert not bad_integrity, bad_integrity[:3]
    assert not missing and lost == 0
    assert ages and max(ages) <= 5.0
    assert report_ages and max(report_ages) <= 5.0
    assert sum(r["committed"] for r in results) > runs    # the writers did write before dying
    s = open_store(db_path)
    assert audit.verify().ok
    s.close()


# --- a full disk ----------------------------------------------------------------------------

FILLER = textwrap.dedent("""
    import json, os, resource, sys
    from datetime import timedelta
    from tests.fault_workers import _ctx
    from models.errors import StoreError
    from models.incidents import IncidentInput, create_incident, list_incidents

    db = sys.argv[1]
    ctx = _ctx(db, "zhang")
    def new(title, text=""):
        t = ctx.now()
        return create_incident(ctx, IncidentInput(title=title, category="malware", description=text,
                               occurred_at=t - timedelta(minutes=1), discovered_at=t)).code
    made = [new(f"before {i}") for i in range(3)]
    sizes = [os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s)]
    limit = max(sizes) + 150_000
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    error = None
    for i in range(500):
        try:
            made.append(new(f"fill {i}", "满" * 19000))
        except StoreError as exc:
            error = exc
            break
    readable = len(list_incidents())            # the session keeps working: reads still go
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    made.append(new("after space was freed"))   # … and writes again once there is room
    print(json.dumps({"made": made, "key": error and error.key, "message": error and error.message,
                      "readable": readable}, ensure_ascii=False))
""")


@pytest.mark.skipif(not POSIX, reason="RLIMIT_FSIZE is POSIX-only")
def test_a_full_disk_gets_a_clear_message_and_loses_nothing(db_path):
    open_store(db_path).close()
    r = subprocess.run([sys.executable, "-c", FILLER, str(db_path)], cwd=str(ROOT), capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    res = json.loads(r.stdout)
    assert res["key"] == "error.db_full" and "磁盘已满" in res["message"]
    assert res["readable"] == len(res["made"]) - 1 and len(res["made"]) >= 4
    import sqlite3
    con = sqlite3.connect(str(db_path))
    assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    codes = {c for (c,) in con.execute("SELECT code FROM incident")}
    con.close()
    assert codes == set(res["made"])                    # every committed record, nothing half-written
    figures("disk_full", committed_before_full=len(res["made"]) - 1, message_key=res["key"],
            integrity="ok", lost=0)


@pytest.mark.skipif(not POSIX, reason="RLIMIT_FSIZE is POSIX-only")
def test_cli_on_a_full_disk_prints_the_message_without_traceback(db_path):
    import resource
    from tests.conftest import run_cli
    r = run_cli("init", "--school", "海峰中学", "--db", str(db_path))
    assert r.returncode == 0
    limit = 40_000   # the WAL may not grow past 40 kB: a 57 kB description cannot be written

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "tui", "incident", "new", "--title", "大记录", "--category", "malware",
                        "--occurred", "-5m", "--description", "满" * 19000, "--user", "zhang", "--db", str(db_path)],
                       cwd=str(ROOT), capture_output=True, text=True, env=env, preexec_fn=cap, timeout=60)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "磁盘已满" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("incident", "list", "--json", "--db", str(db_path))
    assert r.returncode == 0 and json.loads(r.stdout) == []


# --- a read-only database -------------------------------------------------------------------

READ_ONLY_APP = textwrap.dedent("""
    import asyncio, json, sys
    from datetime import datetime, timezone, timedelta
    from models.clock import FixedClock
    from models.context import Actor
    from models.errors import StoreError
    from models.incidents import IncidentInput, create_incident, list_incidents
    from tests.conftest import make_app
    from pathlib import Path

    async def main():
        clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc))
        app = make_app(Path(sys.argv[1]), clock)
        out = {}
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            from models.banners import collect
            out["read_only"] = app.store.read_only
            out["banners"] = [b.key for b in collect(app.ctx, clock.now())]
            out["rows"] = len(list_incidents())
            try:
                create_incident(app.ctx, IncidentInput(title="x", category="malware",
                                occurred_at=clock.now(), discovered_at=clock.now()))
                out["write"] = "saved"
            except StoreError as exc:
                out["write"] = exc.key
                out["message"] = exc.message
            out["screen"] = type(app.screen).__name__
            await pilot.press("ctrl+q")
        out["return_code"] = app.return_code
        print(json.dumps(out, ensure_ascii=False))

    asyncio.run(main())
""")


def _make_read_only(path: Path) -> None:
    """Take write permission away. Root ignores file modes, so as root the file (or folder) is
    made immutable instead (Linux chattr), which even root cannot write."""
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
        subprocess.run(["chattr", "-i", str(path)], check=False)
    path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.skipif(not POSIX, reason="file modes are POSIX; on Windows read-only is a file attribute")
@pytest.mark.parametrize("folder_writable", [True, False])
def test_a_read_only_database_opens_for_reading_shows_a_banner_and_refuses_writes(clock, tmp_path,
                                                                                   folder_writable):
    from tests.conftest import make_ctx
    folder = tmp_path / "ro"
    db = folder / "duty.db"
    s = open_store(db)
    ctx = make_ctx(s, clock)
    create_incident(ctx, IncidentInput(title="只读也要能看", category="malware",
                                       occurred_at=T0 - timedelta(minutes=9), discovered_at=T0))
    s.close()
    before = db.read_bytes()
    try:
        _make_read_only(db)
        if not folder_writable:
            _make_read_only(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "XUEJI_DUTY_AUTO_BACKUP": "1"}
        r = subprocess.run([sys.executable, "-c", READ_ONLY_APP, str(db)], cwd=str(ROOT), capture_output=True,
                           text=True, timeout=120, env=env)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res["read_only"] is True and res["rows"] == 1
        assert "integrity.read_only" in res["banners"]
        assert res["write"] == "error.db_readonly" and "只读" in res["message"]
        assert res["return_code"] == 0
        assert db.read_bytes() == before
        assert not (folder / "duty-backups").exists()     # no automatic backup attempted into nowhere
        figures(f"read_only_folder_writable={folder_writable}", opened=True, rows_visible=res["rows"],
                write=res["write"], banner=True)
    finally:
        _make_writable(folder)
        _make_writable(db)
