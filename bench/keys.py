"""``python -m bench.keys``: what reading keys one at a time costs in a burst (issue 15 item 3).

  burst     the new-incident form at 80×24, in-process (``App.run_test``): --chars characters into
            地点, a Tab, and 10 into 系统, posted at once as one read of a laggy SSH link delivers
            them; the time until the last lands. With the app's ``KeysInOrder`` (each key followed
            until handled, its binding run before the next is read) and with it bypassed (Textual's
            own order: the keys are handed out as fast as they are read), median of --runs each,
            interleaved. Both must land every character where it was typed; the figure is the price
            of the order.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path


async def _burst(path: Path, chars: int, gated: bool) -> float:
    from textual import events

    from models.clock import FixedClock
    from models.context import Actor
    from tui import type_ahead
    from tui.app import DutyApp
    from tui.env import Env
    from datetime import datetime, timezone

    args = argparse.Namespace(db=str(path), lang="zh", user=None, no_mouse=True, command=None)
    clock = FixedClock(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))
    env = Env.from_args(args)
    env.clock = clock
    app = DutyApp(env, clock=clock, actor=Actor(username="bench", role="admin", display_name="bench", origin="local"))
    app.idle_lock_enabled = False
    original = type_ahead.KeysInOrder.on_event
    if not gated:
        async def textual_order(self, event):
            await super(type_ahead.KeysInOrder, self).on_event(event)
        type_ahead.KeysInOrder.on_event = textual_order
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_screen("new_incident")
            await pilot.pause(0.5)
            form = app.screen
            location, asset = form.query_one("#location"), form.query_one("#asset")
            location.focus()
            await pilot.pause()
            long, short = ("教务处机房" * chars)[:chars], "学籍服务器ABCDE"
            start = time.perf_counter()
            for ch in long:
                app.post_message(events.Key(ch, ch))
            app.post_message(events.Key("tab", None))
            for ch in short:
                app.post_message(events.Key(ch, ch))
            while asset.value != short and time.perf_counter() - start < 30:
                await asyncio.sleep(0.002)
            elapsed = time.perf_counter() - start
            assert location.value == long and asset.value == short, (location.value, asset.value)
            return elapsed
    finally:
        type_ahead.KeysInOrder.on_event = original


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chars", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    gated, plain = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            gated.append(asyncio.run(_burst(Path(tmp) / f"g{i}.db", a.chars, True)))
            plain.append(asyncio.run(_burst(Path(tmp) / f"p{i}.db", a.chars, False)))
    keys = a.chars + 1 + 10
    g, p = statistics.median(gated), statistics.median(plain)
    print(f"burst of {keys} keys into the new-incident form (median of {a.runs}):")
    print(f"  keys in order (KeysInOrder)  {g * 1000:7.0f} ms  ({g / keys * 1000:.2f} ms per key)")
    print(f"  Textual's own order          {p * 1000:7.0f} ms  ({p / keys * 1000:.2f} ms per key)")


if __name__ == "__main__":
    main()
