"""``python -m bench.history``: statistics and history search over a big year, measured.

  seed            --incidents (10,000) real, withdrawn and drill incidents over one year, with
                  --reports (50,000) submitted reports among them, written in bulk (bench/seed.py)
  stats           models.stats.compute() for the whole year (what ``stats --year`` and the
                  statistics screen run), median of --runs
  history search  models.history.search() with a code, a title word, a category + grade, and a
                  date range, median of --runs each
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench import timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=10_000)
    ap.add_argument("--reports", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--engine", action="store_true",
                    help="also judge every incident with the deadline engine and check the figures agree")
    a = ap.parse_args()
    from datetime import datetime, timezone

    from bench.seed import seed_year
    from models.clock import FixedClock
    from models.config import Settings
    from models.context import Actor, Context
    from models.stats import compute, period
    from models.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "year.db"
        now = datetime(2027, 2, 15, 2, 0, tzinfo=timezone.utc)   # the year is over, its last reports are in
        n_inc, n_rep = seed_year(path, 2026, a.incidents, a.reports)
        store = open_store(path)
        ctx = Context(store=store, actor=Actor("bench", "viewer", "bench", "local"), clock=FixedClock(now),
                      settings=Settings(school_name="海峰中学"))
        p = period(ctx.settings, 2026)
        w0, c0 = time.perf_counter(), time.process_time()
        data = compute(ctx, p)
        first = (time.perf_counter() - w0, time.process_time() - c0)
        load_before = os.getloadavg()[0]
        times, cpu = [], []
        for _ in range(a.runs):
            w0, c0 = time.perf_counter(), time.process_time()
            compute(ctx, p)
            times.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        print(f"seeded             {n_inc} incidents, {n_rep} reports; load average {load_before:.2f} → "
              f"{os.getloadavg()[0]:.2f} over the runs")
        print(f"stats, first time  {first[0] * 1000:7.1f} ms wall, {first[1] * 1000:.1f} ms CPU  (what `xueji-duty "
              f"stats` pays each time: the grade history read from the derived table)")
        print(f"stats (year)       median {statistics.median(times) * 1000:7.1f} ms  (min {min(times) * 1000:.1f}, "
              f"max {max(times) * 1000:.1f}, {a.runs} runs; {data['incidents']['real']} real incidents)")
        print(f"stats CPU time     median {statistics.median(cpu) * 1000:7.1f} ms  (min {min(cpu) * 1000:.1f}, "
              f"max {max(cpu) * 1000:.1f}; process time: what the machine's other load inflates least)")
        if a.engine:
            c0 = time.process_time()
            assert compute(ctx, p, engine=True) == data
            print(f"stats, the engine  {(time.process_time() - c0) * 1000:7.1f} ms CPU  (every incident through "
                  f"deadlines.obligations(): the same figures)")
        try:
            from models import history
        except ImportError:
            history = None
        if history is not None:
            from datetime import date
            cases = {
                "code": history.Query(text="2026-04"),
                "title word": history.Query(text="勒索"),
                "category+grade": history.Query(category="malware", grade="III"),
                "date range": history.Query(since=date(2026, 3, 1), until=date(2026, 3, 31)),
                "everything": history.Query(),
            }
            for name, q in cases.items():
                hits = history.search(ctx, q)
                ts = timed(lambda q=q: history.search(ctx, q), a.runs)
                print(f"history {name:<14} median {statistics.median(ts) * 1000:7.1f} ms  ({len(hits.rows)} shown "
                      f"of {hits.total})")
        store.close()


if __name__ == "__main__":
    main()
