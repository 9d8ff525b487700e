"""Presence (issue 14): who else has this incident, report or contact open, and whether typing."""
from __future__ import annotations

import subprocess
import sys
import textwrap

from models.context import Actor
from models.presence import BEAT_S, STALE_S, Presence, describe
from models.reports import open_report
from tests.conftest import ROOT, make_app
from tests.test_incident_screen import open_incident, seed
from tests.ui_helpers import screen_text, wait_for


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_heartbeat_is_throttled_and_goes_stale(db_path):
    clock = Clock()
    mine = Presence(db_path, session="a", clock=clock)
    theirs = Presence(db_path, session="b", clock=clock)
    wang = Actor(username="wang", display_name="王丽", origin="ssh 203.0.113.5 (reported by SSH_CONNECTION)")
    assert theirs.beat(wang, "report", "7", 1, "首报", typing=True)
    clock.t += 1
    assert not theirs.beat(wang, "report", "7", 1, "首报", typing=True)      # within 5 s: no write
    assert not theirs.beat(wang, "report", "7", 1, "首报", typing=False)     # stopping waits for the beat
    assert theirs.beat(wang, "incident", "1", 1, "2026-001")                # another record: at once
    clock.t += BEAT_S
    assert theirs.beat(wang, "incident", "1", 1, "2026-001")
    [h] = mine.others(incident=1)
    assert h.name == "王丽" and h.via_ssh and describe(h) == "王丽 正在查看2026-001 · SSH · 刚刚"
    assert mine.others(kind="contact") == []
    clock.t += 10
    assert "10 秒前" in describe(mine.others()[0])
    clock.t += STALE_S - 10 + 0.1                                            # two beats missed: gone
    assert mine.others() == []


def test_a_session_whose_process_is_gone_disappears_at_once(db_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    p = Presence(db_path, session="dead")
    p.beat(Actor(username="wang"), "incident", "1", 1, "2026-001")
    con = p._connect()
    con.execute("UPDATE presence SET pid = ?", (proc.pid,))
    me = Presence(db_path, session="me")
    assert [h.username for h in me.others()] == ["wang"]
    proc.kill()
    proc.wait()
    assert me.others() == []


OTHER = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from models.clock import FixedClock
    from tests.conftest import T0, make_app

    async def main():
        app = make_app(Path(sys.argv[1]), FixedClock(T0), username="wang")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_screen("report", int(sys.argv[2]), "school_plan", "first")
            await pilot.pause(0.5)
            await pilot.press(*"正在写")
            print("READY", flush=True)
            while True:
                await asyncio.sleep(0.5)

    asyncio.run(main())
""")


async def test_presence_shows_within_2s_on_screens_and_board_and_goes_after_sigkill(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        r = open_report(ctx, inc.id, "school_plan", "first")
        await pilot.pause()
        proc = subprocess.Popen([sys.executable, "-c", OTHER, str(db_path), str(inc.id)], cwd=str(ROOT),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            assert line.strip() == "READY", proc.stderr.read() if proc.poll() is not None else line
            # The board marks the incident's row.
            assert await wait_for(pilot, lambda: "@wang" in screen_text(app), timeout=2.0)
            screen = await open_incident(app, pilot, inc)
            ok = await wait_for(pilot, lambda: "wang 正在编辑首报 · 本机" in screen_text(app), timeout=2.0)
            assert ok, screen_text(app)
            app.open_screen("report", inc.id, "school_plan", "first")
            assert await wait_for(pilot, lambda: "wang 正在编辑首报" in screen_text(app), timeout=2.0)
            assert r.id
        finally:
            proc.kill()                                  # SIGKILL: no clean exit, no goodbye
            proc.wait(timeout=30)
        assert await wait_for(pilot, lambda: "wang 正在" not in screen_text(app), timeout=15.0)
        app.pop_screen()
        await pilot.pause()
        assert await wait_for(pilot, lambda: "wang" not in screen_text(app), timeout=3.0)
        assert screen is app.screen
