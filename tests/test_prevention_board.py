"""On the live board at 80×24: a warning recorded in another process appears as a banner within
2 s, and a check completed from the board (x → enter → ctrl+s) gets its next due date."""
import asyncio
import time
from datetime import datetime, timedelta, timezone


from models.cadence import local_day
from models.checks import add_check, get_check
from models.clock import FixedClock
from tests.conftest import SH, make_app, make_ctx, run_cli
from tests.ui_helpers import wait_for


def _banner_texts(screen) -> list[str]:
    return [str(s.render()) for s in screen.query("#board-banners Static")]


async def test_warning_from_another_process_shows_within_two_seconds(db_path):
    clock = FixedClock(datetime.now(timezone.utc))
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        board = app.screen
        assert not any("预警" in t for t in _banner_texts(board))
        proc = await asyncio.to_thread(
            run_cli, "--db", str(db_path), "--user", "colleague", "warning", "add", "--level", "red",
            "--source", "县教育局", "--content", "勒索病毒攻击预警", "--until", "+2d")
        assert proc.returncode == 0, proc.stderr
        committed = time.monotonic()
        while time.monotonic() - committed < 2.0:
            if any("红色预警" in t for t in _banner_texts(board)):
                break
            await pilot.pause(0.05)
        elapsed = time.monotonic() - committed
        texts = _banner_texts(board)
        assert any("红色预警（Ⅰ级）" in t and "勒索病毒攻击预警" in t for t in texts), texts
        assert elapsed < 2.0


async def test_complete_a_check_from_the_board_updates_its_next_due_date(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    today = local_day(clock.now(), SH)
    chk = add_check(ctx, "学籍终端巡检", "weekly", checklist=["杀毒软件"], first_due=today - timedelta(days=2))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        board = app.screen
        # Banners follow the rows from a worker, a moment after the first paint.
        assert await wait_for(pilot, lambda: any("逾期 1 项" in t for t in _banner_texts(board)))
        await pilot.press("x")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChecksScreen"
        await pilot.press("enter")        # the overdue check is first
        await pilot.pause()
        await pilot.press("space")        # its one item done (the list starts unticked)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert local_day(get_check(chk.id).next_due_at, SH) == today + timedelta(days=5)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is board
        board.tick()
        end = time.monotonic() + 5
        while time.monotonic() < end and any("逾期" in t for t in _banner_texts(board)):
            await pilot.pause(0.1)
        assert not any("学籍终端巡检" in t or "逾期 1 项" in t for t in _banner_texts(board))
