"""``python -m bench.prevention``: what the prevention banners cost the board on each re-read.

The board calls ``models.banners.collect`` whenever the database changed, so the
warnings, checks-due and registry-account lines are computed on every re-read.
This seeds a database with a large school's worth of data and times that call
(and the checks list the ``x`` screen shows), printing figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import timed


def run(checks: int, warnings: int, accounts: int, repeats: int) -> None:
    from models.banners import collect
    from models.cadence import local_day
    from models.checks import add_check, complete_check, list_checks, seed_defaults
    from models.clock import FixedClock
    from models.config import Settings
    from models.context import Actor, Context
    from models.registry_accounts import add_account
    from models.store import open_store
    from models.warnings import add_warning

    now = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "bench.db")
        ctx = Context(store=store, actor=Actor("bench", "admin"), clock=FixedClock(now),
                      settings=Settings(school_name="bench"))
        seed_defaults(ctx)
        today = local_day(now, ctx.zone)
        for i in range(checks):
            c = add_check(ctx, f"检查 {i}", ("daily", "weekly", "monthly", "semester")[i % 4],
                          checklist=[f"项目 {j}" for j in range(5)], first_due=today + timedelta(days=i % 15 - 7))
            if i % 3 == 0:
                complete_check(ctx, c.id, findings="bench")
        for i in range(warnings):
            add_warning(ctx, ("red", "orange", "yellow", "blue")[i % 4], source="县教育局", content=f"预警 {i}",
                        received_at=now - timedelta(hours=2),
                        valid_until=now + timedelta(days=1 + i % 3) if i % 2 else now - timedelta(hours=1))
        for i in range(accounts):
            add_account(ctx, f"acct{i}", f"持有人{i}", password_changed_at=now - timedelta(days=i % 200),
                        last_used_at=now - timedelta(days=i % 300))
        import models.checks as checks_mod
        import models.warnings as warnings_mod
        for name, fn in (("banners.collect (all)", lambda: collect(ctx, now)),
                         ("warnings.banners", lambda: warnings_mod.banners(ctx, now)),
                         ("checks.banners", lambda: checks_mod.banners(ctx, now)),
                         ("list_checks (x screen)", lambda: list_checks(ctx, now))):
            fn()
            times = sorted(s * 1000 for s in timed(fn, repeats))
            print(f"{name:24s} median {statistics.median(times):7.2f} ms   p95 {times[int(0.95 * (len(times) - 1))]:7.2f} ms"
                  f"   ({checks + 7} checks, {warnings} warnings, {accounts} accounts, {repeats} runs)")
        store.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.prevention")
    p.add_argument("--checks", type=int, default=200)
    p.add_argument("--warnings", type=int, default=20)
    p.add_argument("--accounts", type=int, default=100)
    p.add_argument("--repeats", type=int, default=50)
    a = p.parse_args()
    for scale in ((10, 1, 5), (a.checks, a.warnings, a.accounts)):
        run(*scale, a.repeats)


if __name__ == "__main__":
    main()
