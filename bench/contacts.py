"""``python -m bench.contacts``: the contact panel's figures, measured in one run.

  csv import      N rows (UTF-8 and GBK) checked and written in one transaction
  csv export      the same N contacts to a UTF-8-with-BOM file
  bad file        N rows with one bad row at the end: time to refuse it (nothing written)
  tree progress   incident_progress() with N contacts and 200 calls on the incident
  panel reload    ContactsScreen.reload() with N contacts, in an 80×24 headless app
  idle sync       ContactsScreen.sync() when nothing changed (the one-second beat)
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import timed


def _rows(n: int) -> str:
    roles = ["班主任", "副组长", "教务处主任", "学籍管理员"]
    lines = ["姓名,角色,部门,手机,办公电话,免打扰时段,备注,排序,在岗"]
    for i in range(n):
        lines.append(f"教师{i:04d},{roles[i % len(roles)]},初{i % 3 + 1}年级,139{i:08d},,22:00-07:00,,{i},是")
    return "\r\n".join(lines) + "\r\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.contacts")
    ap.add_argument("--contacts", type=int, default=2000)
    args = ap.parse_args(argv)
    n = args.contacts

    from models.calls import log_call
    from models.calltree import incident_progress
    from models.clock import FixedClock
    from models.config import Settings
    from models.contacts import ensure_seeded
    from models.contacts_csv import ImportRejected, export_csv, import_csv
    from models.context import Actor, Context
    from models.i18n import set_language
    from models.incidents import IncidentInput, create_incident
    from models.store import open_store
    from models.tables import Contact

    set_language("zh")
    tmp = Path(tempfile.mkdtemp(prefix="bench-contacts-"))
    t0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    clock = FixedClock(t0)
    figures: list[tuple[str, str]] = []

    def fresh(name: str):
        store = open_store(tmp / f"{name}.db")
        ctx = Context(store=store, actor=Actor("bench", "admin", origin="local"), clock=clock,
                      settings=Settings(school_name="海峰中学"))
        ensure_seeded(ctx)
        return store, ctx

    text = _rows(n)
    for enc in ("utf-8", "gbk"):
        src = tmp / f"in-{enc}.csv"
        src.write_bytes(text.encode(enc))
        times = []
        for run in range(3):
            store, ctx = fresh(f"imp-{enc}-{run}")
            start = time.perf_counter()
            res = import_csv(ctx, src)
            times.append(time.perf_counter() - start)
            assert len(res.added) + len(res.updated) == n
            store.close()
        figures.append((f"csv import {n} rows ({enc})", f"median {statistics.median(times) * 1000:.0f} ms"))

    store, ctx = fresh("main")
    import_csv(ctx, tmp / "in-utf-8.csv")
    out = tmp / "out.csv"
    figures.append((f"csv export {Contact.select().count()} contacts",
                    f"median {statistics.median(timed(lambda: export_csv(out))) * 1000:.0f} ms, "
                    f"{out.stat().st_size / 1024:.0f} KiB"))

    bad = tmp / "bad.csv"
    bad.write_text(text + "某人,门卫,,123,,,,,\r\n", encoding="utf-8")

    def refuse():
        try:
            import_csv(ctx, bad)
        except ImportRejected:
            return
        raise AssertionError("the bad file was accepted")
    figures.append((f"refuse a {n + 1}-row file with 1 bad row", f"median {statistics.median(timed(refuse)) * 1000:.0f} ms"))

    inc = create_incident(ctx, IncidentInput(title="基准", category="malware", occurred_at=t0 - timedelta(minutes=10),
                                             discovered_at=t0 - timedelta(minutes=5)))
    ids = [c.id for c in Contact.select(Contact.id).order_by(Contact.id)]   # not a guessed range
    for i in range(200):
        log_call(ctx, inc.id, f"#{ids[i % len(ids)]}", "no_answer")
    figures.append((f"tree progress, {n} contacts, 200 calls",
                    f"median {statistics.median(timed(lambda: incident_progress(inc.id), 20)) * 1000:.1f} ms"))

    async def panel() -> tuple[list[float], list[float]]:
        from tui.app import DutyApp
        from tui.env import Env
        env = Env.from_args(argparse.Namespace(db=str(store.path), lang="zh", user=None, no_mouse=True, command=None))
        env.clock = clock
        app = DutyApp(env, clock=clock, actor=Actor("bench", "admin", "bench", origin="local"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_screen("contacts", inc.id)
            await pilot.pause()
            screen = app.screen
            reloads = timed(screen.reload, 10)
            screen.sync()
            syncs = timed(screen.sync, 200)
        return reloads, syncs

    reloads, syncs = asyncio.run(panel())
    figures.append((f"panel reload, {n} contacts", f"median {statistics.median(reloads) * 1000:.0f} ms"))
    figures.append(("panel idle sync (nothing changed)", f"mean {statistics.mean(syncs) * 1e6:.0f} µs"))

    width = max(len(k) for k, _ in figures)
    for k, v in figures:
        print(f"{k:<{width}}  {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
