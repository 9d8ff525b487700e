"""``python -m bench.open``: what opening the database costs, on a school's year-sized file.

  file            a year of history (bench/seed.py: --incidents, --reports) and an audit trail of
                  --events events (written in bulk: the chain is not valid, nothing here checks it)
  open            ``open_store`` + ``close`` on a file that has every step (the common case: the
                  early return reads sqlite_master and two schema_meta rows), median / p90 of --runs
  early return    ``_ensure_schema`` alone on the open connection, median / p90 of 2000
  catch-up        ``open_store`` on a copy as an earlier 0.2 build left it (no entity index, no
                  record of steps): backup copy + the missing steps, each of --catchup copies
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


def _seed(db: Path, incidents: int, reports: int, events: int) -> None:
    from bench.seed import seed_year
    from models.store import open_store
    from models.tables import AuditEvent
    seed_year(db, 2026, incidents, reports)
    store = open_store(db)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    kinds = (("incident", "incident.edit"), ("report", "report.save"), ("contact", "contact.edit"))
    rows = []
    for i in range(events):
        entity, action = kinds[(i // 20) % 3]
        rows.append(dict(at=t0 + timedelta(minutes=i), actor="bench", origin="local", action=action,
                         entity=entity, entity_id=str(1 + i // 60), changes={"location": ["a", "b"]},
                         prev_hash="0" * 64, hash="0" * 64))
    with store.db.atomic():
        for start in range(0, len(rows), 500):
            AuditEvent.insert_many(rows[start:start + 500]).execute()
    store.close()


def _as_an_earlier_build_left_it(db: Path) -> None:
    from models.migrations import AUDIT_ENTITY_INDEX, STEPS_KEY
    con = sqlite3.connect(db)
    con.execute(f'DROP INDEX IF EXISTS "{AUDIT_ENTITY_INDEX}"')
    con.execute("DELETE FROM schema_meta WHERE key=?", (STEPS_KEY,))
    con.commit()
    con.close()


def _ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.2f} ms, p90 {xs[int(0.9 * (len(xs) - 1))] * 1000:.2f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.open", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--reports", type=int, default=50_000)
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--catchup", type=int, default=5)
    a = ap.parse_args(argv)
    from models import store as store_mod
    from models.store import open_store
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "duty.db"
        _seed(db, a.incidents, a.reports, a.events)
        print(f"file: {db.stat().st_size / 1e6:.1f} MB, {a.incidents} incidents, {a.reports} reports, "
              f"{a.events} audit events", flush=True)
        open_store(db).close()
        runs, cpu = [], []
        for _ in range(a.runs):
            t0, c0 = time.perf_counter(), time.process_time()
            open_store(db).close()
            runs.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(f"open_store + close, every step recorded: {_ms(runs)}; CPU {_ms(cpu)} (n={a.runs})", flush=True)
        s = open_store(db)
        early = []
        for _ in range(2000):
            t0 = time.perf_counter()
            store_mod._ensure_schema(s.db)
            early.append(time.perf_counter() - t0)
        s.close()
        print(f"_ensure_schema early return: median {statistics.median(early) * 1e6:.0f} µs, "
              f"p90 {sorted(early)[1800] * 1e6:.0f} µs", flush=True)
        catch = []
        for i in range(a.catchup):
            copy = Path(tmp) / f"old{i}" / "duty.db"
            copy.parent.mkdir()
            shutil.copy(db, copy)
            _as_an_earlier_build_left_it(copy)
            t0 = time.perf_counter()
            s = open_store(copy)
            catch.append(time.perf_counter() - t0)
            assert s.backup_made is not None and not s.schema_pending
            s.close()
            shutil.rmtree(copy.parent)
        if catch:
            print(f"catch-up open (backup + missing steps, once per file): {_ms(catch)} (n={a.catchup})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
