"""A draft typed into the new-incident form survives the process being killed (no clean exit)."""
import subprocess
import sys
import textwrap

from textual.widgets import Input

from screens.new_incident import NewIncidentScreen
from tests.conftest import ROOT, make_app

TYPIST = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path
    from models.clock import FixedClock
    from tests.conftest import T0, make_app

    async def main():
        app = make_app(Path(sys.argv[1]), FixedClock(T0))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_screen("new_incident")
            await pilot.pause(0.2)
            await pilot.press(*"学籍数据被篡改", "tab", "ctrl+u", *"-25m", "tab", "tab", *"教务处")
            await pilot.pause(2.5)               # past the autosave, no clean exit after this
            print("TYPED", flush=True)
            while True:
                await asyncio.sleep(1)

    asyncio.run(main())
""")


async def test_draft_survives_a_killed_process(db_path, clock):
    proc = subprocess.Popen([sys.executable, "-c", TYPIST, str(db_path)], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "TYPED", proc.stderr.read() if proc.poll() is not None else line
    finally:
        proc.kill()                              # SIGKILL on POSIX, TerminateProcess on Windows
        proc.wait(timeout=30)
    assert proc.returncode != 0

    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("new_incident")
        await pilot.pause(0.2)
        form = app.screen
        assert isinstance(form, NewIncidentScreen)
        assert form.query_one("#title", Input).value == "学籍数据被篡改"
        assert form.query_one("#occurred_at", Input).value == "2026-11-25 09:35"
        assert form.query_one("#location", Input).value == "教务处"
