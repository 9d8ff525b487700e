"""``python -m bench.incidents``: what the incident screen and evidence registration cost.

  screen reload   IncidentScreen.reload() (facts, obligations, stages, timeline, evidence) for an
                  incident with a long history (--events notes and edits, --evidence files): once
                  when nothing in its history changed (another session's autosave elsewhere), once
                  with the timeline and evidence redrawn (a new note)
  screen tick     IncidentScreen.tick(): the per-second countdown update
  evidence        SHA-256 of a --mb MB file registered in place, and copied into the evidence folder
                  (copy and hash in one pass), in MB/s

Figures, not pass/fail. In-process, headless Textual at 80×24, FixedClock.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def _seed(db: Path, events: int, evidence: int, tmp: Path):
    from models.clock import FixedClock
    from models.config import Settings
    from models.context import Actor, Context
    from models.evidence import add_evidence
    from models.incidents import IncidentInput, create_incident, get_incident, update_incident
    from models.notes import add_note
    from models.store import open_store

    clock = FixedClock(T0 - timedelta(hours=20))
    store = open_store(db)
    ctx = Context(store=store, actor=Actor("bench", "admin", origin="local"), clock=clock, settings=Settings())
    inc = create_incident(ctx, IncidentInput(title="学籍系统疑遭入侵", category="network_attack",
                                             occurred_at=clock.now() - timedelta(minutes=30),
                                             discovered_at=clock.now(), description="长历史的事件"))
    for i in range(events):
        clock.advance(seconds=30)
        if i % 4 == 0:
            inc = get_incident(inc.id)
            update_incident(ctx, inc.id, inc.version, {"location": f"机房 {i}"})
        else:
            add_note(ctx, inc.id, f"第 {i} 条处置记录：已检查日志，未见新的异常登录。")
    for i in range(evidence):
        f = tmp / f"log-{i}.txt"
        f.write_text("x" * 4096)
        add_evidence(ctx, inc.id, f, copy=i % 2 == 0, note="bench")
    store.close()
    return inc.id


async def _screen(db: Path, incident_id: int, repeats: int):
    import argparse as ap
    from models.clock import FixedClock
    from models.context import Actor
    from screens.incident import IncidentScreen
    from tui.app import DutyApp
    from tui.env import Env

    env = Env.from_args(ap.Namespace(db=str(db), lang="zh", user=None, no_mouse=True, command=None))
    clock = FixedClock(T0)
    env.clock = clock
    app = DutyApp(env, clock=clock, actor=Actor("bench", "admin", "bench", "local"))
    reloads, full, ticks = [], [], []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(IncidentScreen(incident_id))
        await pilot.pause(0.2)
        screen = app.screen
        for _ in range(repeats):
            t = time.perf_counter()
            screen.reload()
            reloads.append(time.perf_counter() - t)
        for _ in range(repeats):
            screen._shown.clear()            # as after a new note: timeline and evidence redrawn
            t = time.perf_counter()
            screen.reload()
            full.append(time.perf_counter() - t)
        for _ in range(repeats * 5):
            clock.advance(seconds=1)
            t = time.perf_counter()
            screen.tick()
            ticks.append(time.perf_counter() - t)
    return reloads, full, ticks


def _evidence(tmp: Path, mb: int) -> tuple[float, float]:
    from models.clock import FixedClock
    from models.config import Settings
    from models.context import Actor, Context
    from models.evidence import add_evidence
    from models.incidents import IncidentInput, create_incident
    from models.store import open_store

    db = tmp / "ev.db"
    store = open_store(db)
    clock = FixedClock(T0)
    ctx = Context(store=store, actor=Actor("bench", "admin", origin="local"), clock=clock, settings=Settings())
    inc = create_incident(ctx, IncidentInput(title="e", category="malware", occurred_at=T0, discovered_at=T0))
    big = tmp / "image.bin"
    with big.open("wb") as fh:
        for _ in range(mb):
            fh.write(os.urandom(1024 * 1024))
    t = time.perf_counter()
    add_evidence(ctx, inc.id, big)
    in_place = time.perf_counter() - t
    t = time.perf_counter()
    add_evidence(ctx, inc.id, big, copy=True)
    copied = time.perf_counter() - t
    store.close()
    return mb / in_place, mb / copied


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.incidents")
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--evidence", type=int, default=50)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--mb", type=int, default=200)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "bench.db"
        t = time.perf_counter()
        inc_id = _seed(db, a.events, a.evidence, tmp)
        print(f"seeded {a.events} history entries and {a.evidence} evidence files in {time.perf_counter() - t:.1f} s")
        reloads, full, ticks = asyncio.run(_screen(db, inc_id, a.repeats))
        print(f"screen reload, history unchanged  median {statistics.median(reloads) * 1000:.1f} ms  "
              f"max {max(reloads) * 1000:.1f} ms  ({a.repeats} runs)")
        print(f"screen reload, history redrawn    median {statistics.median(full) * 1000:.1f} ms  "
              f"max {max(full) * 1000:.1f} ms  ({a.repeats} runs)")
        print(f"screen tick     median {statistics.median(ticks) * 1000:.2f} ms  "
              f"max {max(ticks) * 1000:.2f} ms  ({len(ticks)} ticks)")
        in_place, copied = _evidence(tmp, a.mb)
        print(f"evidence {a.mb} MB  in place {in_place:.0f} MB/s  copied {copied:.0f} MB/s")


if __name__ == "__main__":
    main()
