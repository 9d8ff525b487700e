"""The live board at 80×24 with an injected clock: order, escalation, overdue, alarms, filter, help, keys."""
from datetime import timedelta

from rich.text import Text
from textual.widgets import DataTable, Input

from models.incidents import IncidentInput, create_incident
from models.tables import AlarmState
from tests.conftest import T0, make_app, make_ctx


def _incident(ctx, title, minutes_ago, **kw):
    return create_incident(ctx, IncidentInput(
        title=title, category="network_attack", occurred_at=T0 - timedelta(minutes=minutes_ago),
        discovered_at=T0 - timedelta(minutes=minutes_ago), **kw))


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def _col(table: DataTable, key: str) -> int:
    return [c.key.value for c in table.ordered_columns].index(key)


async def _tick(app, pilot):
    app.screen.tick()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def _app_with(db_path, clock, *titles_ago, **kw):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    for title, ago in titles_ago:
        _incident(ctx, title, ago, **kw)
    return app, ctx


async def test_most_urgent_first_with_header_counts(db_path, clock):
    app, _ = _app_with(db_path, clock, ("一小时前", 60), ("刚发现", 5), ("两小时前", 120))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert [r[_col(table, "title")] for r in _rows(table)] == ["两小时前", "一小时前", "刚发现"]
        counts = str(app.screen.query_one("#board-counts").render())
        assert "处置中 3" in counts and "超时 2" in counts and "1小时内到期 1" in counts
        header = str(app.screen.query_one("#board-clock").render())
        assert header == "11-25 10:00 CST"        # hours and minutes, with the zone


async def test_state_changes_at_each_threshold_and_overdue_is_reverse_video(db_path, clock):
    # Discovered now: the oral report is due in 30 min. Move the clock, tick, read the row.
    app, _ = _app_with(db_path, clock, ("学籍账号被盗", 0))
    clock.set(T0 - timedelta(minutes=40))           # 70 min before the oral deadline
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        left, state = _col(table, "left"), _col(table, "state")
        seen = []
        for minutes_before in (61, 59, 16, 14, 9, -12):
            clock.set(T0 + timedelta(minutes=30 - minutes_before))
            await _tick(app, pilot)
            row = table.get_row_at(0)
            seen.append((str(row[left]), str(row[state])))
        assert seen == [("1h01m", "待办"), ("59m", "临近"), ("16m", "临近"), ("14m", "紧急"),
                        ("9m00s", "紧急"), ("超时 +12m", "超时")]
        cell = table.get_row_at(0)[left]
        assert isinstance(cell, Text) and "reverse" in str(cell.style)


async def test_alarm_fires_once_rings_and_stays_until_acknowledged(db_path, clock):
    app, _ = _app_with(db_path, clock, ("学籍账号被盗", 0))
    rings = []
    app.bell = lambda: rings.append(1)
    clock.set(T0 - timedelta(minutes=40))            # 70 min left: no alarm yet
    async with app.run_test(size=(80, 24)) as pilot:
        await _tick(app, pilot)
        panel = app.screen.query_one("#board-alarm")
        assert not panel.display and rings == [] and AlarmState.select().count() == 0
        clock.set(T0 - timedelta(minutes=1))         # 31 min left: the 60-minute threshold
        await _tick(app, pilot)
        assert panel.display and len(rings) == 1
        text = str(panel.render())
        assert "2026-001" in text and "学籍账号被盗" in text and "口头报告" in text
        assert "剩余 31m" in text and "县教育局基教科" in text
        for _ in range(3):                           # more ticks: no second alarm, no second bell
            await _tick(app, pilot)
        assert len(rings) == 1 and AlarmState.select().count() == 1
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not panel.display
        row = AlarmState.get()
        assert row.acked_by == "tester" and row.acked_at is not None
        clock.set(T0 + timedelta(minutes=21))        # 9 min left: the 10-minute threshold fires anew
        await _tick(app, pilot)
        assert panel.display and len(rings) == 2 and AlarmState.select().count() == 3
        assert "剩余 9m00s" in str(panel.render())


async def test_filter_narrows_rows_and_escape_restores(db_path, clock):
    app, _ = _app_with(db_path, clock, ("学籍账号被盗", 20), ("硬盘故障", 30), ("钓鱼邮件", 40))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"硬盘")
        await pilot.pause()
        assert [r[_col(table, "title")] for r in _rows(table)] == ["硬盘故障"]
        await pilot.press("enter")                   # keeps the filter, back to the table
        assert app.focused is table and table.row_count == 1
        assert "筛选：硬盘" in str(app.screen.query_one("#board-counts").render())
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 3


async def test_help_overlay_lists_every_board_key(db_path, clock):
    app, _ = _app_with(db_path, clock, ("a", 10))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        table = app.screen.query_one(DataTable)
        lines = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        for desc in ("打开", "新建", "联系人", "检查", "预警", "筛选", "帮助", "退出", "下移", "上移", "展开"):
            assert desc in lines, desc
        assert lines["新建"] == "n" and "q" in lines["退出"].lower()
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"


async def test_keys_open_screens_by_name(db_path, clock):
    app, _ = _app_with(db_path, clock, ("一", 100), ("二", 10))
    calls = []
    real_open = app.open_screen
    app.open_screen = lambda name, *args: (real_open(name, *args) if name == "board"
                                           else calls.append((name, args)) or False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("j")                       # second row: incident 2, the less urgent one
        await pilot.press("enter", "n", "c", "x", "w")
        assert calls == [("incident", (2,)), ("new_incident", ()), ("contacts", (2,)),
                         ("checks", ()), ("warnings", ())]
        await pilot.press("k", "enter")
        assert calls[-1] == ("incident", (1,))


async def test_locked_session_hides_titles_and_names_but_keeps_countdowns(db_path, clock):
    app, _ = _app_with(db_path, clock, ("学籍账号被盗", 40))
    async with app.run_test(size=(80, 24)) as pilot:
        await _tick(app, pilot)
        table = app.screen.query_one(DataTable)
        before = _rows(table)[0]
        app.locked = True
        await pilot.pause()
        after = _rows(table)[0]
        assert "学籍账号被盗" not in " ".join(after)
        assert after[_col(table, "code")] == before[_col(table, "code")]
        assert after[_col(table, "left")] == before[_col(table, "left")] == "超时 +10m"
        assert "tester" not in str(app.screen.query_one("#board-school").render())
        assert "学籍账号被盗" not in str(app.screen.query_one("#board-alarm").render())
        app.locked = False
        await pilot.pause()
        assert "学籍账号被盗" in " ".join(_rows(table)[0])


async def test_expand_shows_the_other_open_obligations(db_path, clock):
    app, _ = _app_with(db_path, clock, ("涉及学生信息", 10), personal_info=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        await pilot.press("space")
        assert table.row_count == 4 and table.cursor_row == 0
        await pilot.press("space")
        assert table.row_count == 1


async def test_tick_without_change_touches_no_cell(db_path, clock):
    """An idle tick with minute-granular countdowns updates nothing: the cheap-over-SSH rule."""
    app, _ = _app_with(db_path, clock, ("a", 0))
    clock.advance(seconds=10)                        # 29m50s left
    async with app.run_test(size=(80, 24)) as pilot:
        await _tick(app, pilot)
        table = app.screen.query_one(DataTable)
        updates = []
        original = table.update_cell
        table.update_cell = lambda *a, **k: (updates.append(a), original(*a, **k))
        clock.advance(seconds=20)
        await _tick(app, pilot)
        assert updates == []                          # 29m40s left still reads "29m"
        clock.advance(seconds=40)
        await _tick(app, pilot)
        assert [a[1] for a in updates] == ["left"]    # one cell: "29m" -> "28m"


async def test_command_palette_lists_board_keys_and_runs_them(db_path, clock):
    app, _ = _app_with(db_path, clock, ("一", 10))
    calls = []
    real_open = app.open_screen
    app.open_screen = lambda name, *args: (real_open(name, *args) if name == "board"
                                           else calls.append((name, args)) or False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"预警")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert calls == [("warnings", ())]


async def test_alarm_while_on_another_screen_is_also_notified_there(db_path, clock):
    app, _ = _app_with(db_path, clock, ("学籍账号被盗", 0))
    rings = []
    app.bell = lambda: rings.append(1)
    clock.set(T0 - timedelta(minutes=40))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        board = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is not board
        clock.set(T0 - timedelta(minutes=1))
        board.tick()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert rings == [1]
        assert any("学籍账号被盗" in str(n.message) and "2026-001" in str(n.message) for n in app._notifications)


async def test_a_board_longer_than_the_first_screenful_ends_up_complete_and_in_order(db_path, clock):
    """The first paint gets FIRST_PAINT_ROWS rows, the rest follow (timer or the banners' re-read)."""
    from screens.board import FIRST_PAINT_ROWS
    from tests.ui_helpers import wait_for
    n = FIRST_PAINT_ROWS + 5
    app, _ = _app_with(db_path, clock, *[(f"事件{i}", 5 + i) for i in range(n)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        # the most urgent (discovered longest ago) is on top from the first paint on, cursor on it
        assert _rows(table)[0][_col(table, "title")] == f"事件{n - 1}" and table.cursor_row == 0
        assert await wait_for(pilot, lambda: table.row_count == n)
        titles = [r[_col(table, "title")] for r in _rows(table)]
        assert titles == [f"事件{i}" for i in reversed(range(n))]
