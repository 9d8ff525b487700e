"""Run as ``python tests/footer_probe.py LANG ROLE[,ROLE…] DIR``: the footer line of the board, an
incident, the checks, warnings and ledger screens at 80×24, as each role sees them in LANG (a
database per role in DIR), printed as JSON.

Key labels are translated when a screen module is imported (``tests/conftest.py``), so a language
other than the test process's needs a process of its own (``tests/test_role_keys.py``)."""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def main(lang: str, role: str, db: Path) -> dict:
    import argparse
    from datetime import datetime, timezone

    from models.i18n import set_language
    set_language(lang)
    from textual.widgets._footer import FooterKey

    from models.clock import FixedClock
    from models.context import Actor, Context
    from models.incidents import IncidentInput, create_incident
    from tests.ui_helpers import screen_ready, screen_text, wait_for
    from tui.app import DutyApp
    from tui.env import Env
    T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    clock = FixedClock(T0)
    env = Env.from_args(argparse.Namespace(db=str(db), lang=lang, user=None, no_mouse=True, command=None))
    env.clock = clock
    app = DutyApp(env, clock=clock, actor=Actor(username="probe", role=role, display_name="probe", origin="local"))
    app.idle_lock_enabled = False

    def make_ctx(store, clock):
        return Context(store=store, actor=Actor(username="probe", role="admin", origin="local"), clock=clock,
                       settings=app.settings)
    out = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await screen_ready(app)
        inc = create_incident(make_ctx(app.store, clock), IncidentInput(
            title="t", category="network_attack", occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
        for name in ("board", "incident", "checks", "warnings", "ledger"):
            if name == "incident":
                app.open_screen(name, inc.id)
            elif name != "board":
                app.open_screen(name)
            await pilot.pause()
            await screen_ready(app)
            drawn = lambda: bool(app.screen.query(FooterKey)) and bool(screen_text(app).splitlines()[-1].strip())
            await wait_for(pilot, drawn, timeout=30)
            if name == "board":       # the incident listed (⏎ 打开 is dimmed on an empty board)
                await wait_for(pilot, lambda: bool(app.screen._rows) and all(
                    not k.has_class("-disabled") for k in app.screen.query(FooterKey) if k.key == "enter"), timeout=30)


            def reading() -> dict:
                keys = list(app.screen.query(FooterKey))
                return {"line": screen_text(app).splitlines()[-1],
                        "shown": [[k.key_display or k.key, k.description] for k in keys],
                        "disabled": [k.key_display or k.key for k in keys if k.has_class("-disabled")]}
            # The footer recomposes after a bindings change (rows listed, an alarm): read it once it is
            # drawn and two readings a repaint apart agree.
            seen, before = None, None
            for _ in range(100):
                await wait_for(pilot, drawn, timeout=10)
                seen = reading()
                if seen == before:
                    break
                before = seen
                await pilot.pause(0.05)
            out[name] = seen
            if name != "board":
                app.pop_screen()
                await pilot.pause()
    app.store.close()
    return out


if __name__ == "__main__":
    lang, roles, folder = sys.argv[1], sys.argv[2].split(","), Path(sys.argv[3])
    print(json.dumps({role: asyncio.run(main(lang, role, folder / f"{lang}-{role}.db")) for role in roles},
                     ensure_ascii=False))
