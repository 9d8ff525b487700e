"""Cross-session sync: another OS process's commit shows up without moving the cursor, and a
database locked by the other session gives a quiet status line, never a traceback."""
import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone

from textual.widgets import DataTable

from models.clock import FixedClock
from models.incidents import IncidentInput, create_incident
from tests.conftest import make_app, make_ctx, run_cli
from tests.ui_helpers import wait_for


async def test_row_from_another_process_appears_without_moving_the_cursor(db_path):
    # The other process uses the real clock, so this test's clock starts at the real minute.
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    clock = FixedClock(now)
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    for title, ago in (("最早", 170), ("其次", 120), ("再次", 60)):
        create_incident(ctx, IncidentInput(title=title, category="network_attack",
                                           occurred_at=now - timedelta(minutes=ago),
                                           discovered_at=now - timedelta(minutes=ago)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        await pilot.press("j")
        before_key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        before = (table.cursor_row, before_key, table.scroll_y)
        reads = app.screen.reads
        proc = await asyncio.to_thread(
            run_cli, "--db", str(db_path), "--user", "colleague", "incident", "new",
            "--title", "另一会话登记", "--category", "malware", "--occurred", "-5m")
        assert proc.returncode == 0, proc.stderr
        assert await wait_for(pilot, lambda: table.row_count == 4, timeout=10), "the new row never appeared"
        assert app.screen.reads > reads
        rows = [str(table.get_row_at(i)[0]) for i in range(4)]
        assert rows[-1].endswith("-004")
        after_key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        assert (table.cursor_row, after_key, table.scroll_y) == before


async def test_more_urgent_row_inserted_above_keeps_the_cursor_on_its_incident(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    for title, ago in (("甲", 60), ("乙", 20)):
        create_incident(ctx, IncidentInput(title=title, category="network_attack",
                                           occurred_at=clock.now() - timedelta(minutes=ago),
                                           discovered_at=clock.now() - timedelta(minutes=ago)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        await pilot.press("j")
        key = table.coordinate_to_cell_key((1, 0)).row_key.value
        create_incident(ctx, IncidentInput(title="更早发生", category="network_attack",
                                           occurred_at=clock.now() - timedelta(minutes=150),
                                           discovered_at=clock.now() - timedelta(minutes=150)))
        app.screen.tick()
        assert await wait_for(pilot, lambda: table.row_count == 3, timeout=10)
        assert str(table.get_row_at(0)[1]) == "更早发生"
        assert table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value == key


async def test_locked_database_gives_a_status_line_and_recovers(db_path, clock):
    """The other session holds a write transaction longer than the busy timeout while an alarm is due."""
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    create_incident(ctx, IncidentInput(title="甲", category="network_attack",
                                       occurred_at=clock.now(), discovered_at=clock.now()))
    clock.set(clock.now() - timedelta(minutes=40))        # 70 min before the oral deadline: no alarm
    rings = []
    app.bell = lambda: rings.append(1)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        status = app.screen.query_one("#board-status")
        alarm = app.screen.query_one("#board-alarm")
        assert not status.display and not alarm.display
        other = sqlite3.connect(str(db_path), timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE incident SET title='乙' WHERE id=1")
        try:
            clock.advance(minutes=15)                     # 55 min left: the 60-minute alarm is due
            app.screen.tick()
            assert await wait_for(pilot, lambda: status.display, timeout=15)
            assert "占用" in str(status.render())
            assert app.is_running and table.row_count == 1 and rings == []
        finally:
            other.execute("COMMIT")
            other.close()
        app.screen.tick()                                  # next tick: re-read and fire again
        assert await wait_for(pilot, lambda: alarm.display and not status.display, timeout=15)
        assert rings == [1]
        assert str(table.get_row_at(0)[1]) == "乙"


async def test_an_older_read_finishing_late_does_not_undo_a_newer_one(db_path, clock):
    """A re-read and an alarm's read can finish out of order; the board keeps the newer."""
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    create_incident(ctx, IncidentInput(title="甲", category="network_attack",
                                       occurred_at=clock.now(), discovered_at=clock.now()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        older = screen._read(clock.now())
        create_incident(ctx, IncidentInput(title="乙", category="network_attack",
                                           occurred_at=clock.now(), discovered_at=clock.now()))
        newer = screen._read(clock.now())
        screen._apply(newer)
        screen._apply(older)
        await pilot.pause()
        assert screen.table.row_count == 2
