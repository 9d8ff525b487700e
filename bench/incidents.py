"""``python -m bench.incidents``: what the incident screen and evidence registration cost.

  screen reload   IncidentScreen.reload() (facts, obligations, stages, timeline, evidence) for an
                  incident with a long history (--events notes and edits, --evidence files): once
                  when nothing in its history changed (another session's autosave elsewhere), once
                  with the timeline and evidence redrawn (a new note)
  screen tick     IncidentScreen.tick(): the per-second countdown update
  evidence        SHA-256 of a --mb MB file registered in place, and copied into the evidence folder
                  (copy and hash in one pass), in MB/s
  edit            on a database whose audit trail holds --audit events (other incidents', reports',
                  contacts'): one edit (update_incident) and the fact_history read that follows it
                  (what the incident screen and the county outbox hook pay), with the (entity,
                  entity_id) index and without it (dropped and put back on the same file), and the
                  incident's timeline read after it

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


def _seed_trail(db: Path, audit: int) -> int:
    """A database whose audit trail holds ``audit`` events of 20 per other incident, report or
    contact (written in bulk: the chain is not valid, nothing here checks it), then one incident
    created and edited through the services. Returns that incident's id."""
    from models.clock import FixedClock
    from models.config import Settings
    from models.context import Actor, Context
    from models.incidents import IncidentInput, create_incident
    from models.store import open_store
    from models.tables import AuditEvent

    store = open_store(db)
    rows = []
    kinds = (("incident", "incident.edit"), ("report", "report.save"), ("contact", "contact.edit"))
    for i in range(audit):
        entity, action = kinds[(i // 20) % 3]
        rows.append(dict(at=T0 - timedelta(days=300) + timedelta(minutes=i), actor="bench", origin="local",
                         action=action, entity=entity, entity_id=str(100_000 + i // 60),
                         changes={"location": ["a", "b"]}, prev_hash="0" * 64, hash="0" * 64))
    with store.db.atomic():
        for start in range(0, len(rows), 500):
            AuditEvent.insert_many(rows[start:start + 500]).execute()
    clock = FixedClock(T0)
    ctx = Context(store=store, actor=Actor("bench", "admin", origin="local"), clock=clock, settings=Settings())
    inc = create_incident(ctx, IncidentInput(title="学籍系统疑遭入侵", category="network_attack",
                                             occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
    store.close()
    return inc.id


def _edits(db: Path, incident_id: int, runs: int) -> tuple[list[float], list[float], list[float]]:
    from models.clock import FixedClock
    from models.config import Settings
    from models.context import Actor, Context
    from models.incidents import fact_history, get_incident, update_incident
    from models.store import open_store

    store = open_store(db)
    clock = FixedClock(T0)
    ctx = Context(store=store, actor=Actor("bench", "admin", origin="local"), clock=clock, settings=Settings())
    from models.timeline import timeline
    edits, reads, lines = [], [], []
    for i in range(runs):
        clock.advance(seconds=30)
        inc = get_incident(incident_id)
        t = time.perf_counter()
        update_incident(ctx, inc.id, inc.version, {"location": f"机房 {i}"})
        edits.append(time.perf_counter() - t)
        inc = get_incident(incident_id)
        t = time.perf_counter()
        fact_history([inc])                   # a new version: read from the trail, not the cache
        reads.append(time.perf_counter() - t)
        t = time.perf_counter()
        timeline(inc)                         # the incident screen's history, read after the edit
        lines.append(time.perf_counter() - t)
    store.close()
    return edits, reads, lines


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.incidents")
    p.add_argument("--events", type=int, default=2000)
    p.add_argument("--evidence", type=int, default=50)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--mb", type=int, default=200)
    p.add_argument("--audit", type=int, default=50_000)
    p.add_argument("--only-edit", action="store_true", help="only the edit / fact_history figures")
    a = p.parse_args()
    if a.only_edit:
        with tempfile.TemporaryDirectory() as tmp:
            _edit_figures(Path(tmp), a.audit, a.repeats)
        return
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
        _edit_figures(tmp, a.audit, a.repeats)


def _edit_figures(tmp: Path, audit: int, runs: int) -> None:
    import sqlite3
    from models.migrations import AUDIT_ENTITY_INDEX
    db = tmp / "trail.db"
    inc_id = _seed_trail(db, audit)

    def index(present: bool) -> None:
        # The file is at the current schema: opening it does not put a dropped index back.
        con = sqlite3.connect(db)
        con.execute(f'CREATE INDEX IF NOT EXISTS "{AUDIT_ENTITY_INDEX}" ON "audit_event" ("entity", "entity_id")'
                    if present else f'DROP INDEX IF EXISTS "{AUDIT_ENTITY_INDEX}"')
        con.commit()
        con.close()

    for present in (False, True, False, True):
        index(present)
        edits, reads, lines = _edits(db, inc_id, runs)
        label = "with index   " if present else "without index"
        print(f"{audit} audit events, {label}: edit median {statistics.median(edits) * 1000:.2f} ms  "
              f"fact_history after it median {statistics.median(reads) * 1000:.2f} ms  "
              f"max {max(reads) * 1000:.2f} ms  timeline median {statistics.median(lines) * 1000:.2f} ms  "
              f"({runs} edits)")


if __name__ == "__main__":
    main()
