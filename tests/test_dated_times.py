"""Times not today show their date, and English labels end in ": " (issue 15 item 6)."""
from datetime import timedelta

import pytest

from models import accounts
from models.i18n import set_language
from models.incidents import IncidentInput, create_incident
from models.tables import User
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text


@pytest.mark.parametrize("later, shown", [(timedelta(minutes=10), "锁定至 10:10"),
                                          (timedelta(hours=15), "锁定至 11-26 01:00")])
async def test_an_account_locked_until_tomorrow_shows_the_date(db_path, clock, later, shown):
    app = make_app(db_path, clock, role="admin", username="tester")
    ctx = make_ctx(app.store, clock, username="tester")
    accounts.bootstrap_admin(ctx, "tester", "王老师", "Admin-pass-2026")
    User.update(locked_until=clock.now() + later).where(User.username == "tester").execute()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.open_screen("accounts")
        await pilot.pause(0.3)
        assert shown in screen_text(app)


async def test_english_incident_facts_use_an_ascii_colon(db_path, clock):
    app = make_app(db_path, clock)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            set_language("en")                # after make_app: its Env applies the CLI's --lang zh
            inc = create_incident(make_ctx(app.store, clock), IncidentInput(
                title="勒索病毒加密学籍服务器", category="malware", subcategory="ransomware",
                occurred_at=T0 - timedelta(minutes=50), discovered_at=T0 - timedelta(minutes=20),
                location="教务处机房", asset="学籍服务器", personal_info=False, reported_by="李老师",
                description="屏幕出现勒索信息"))
            await pilot.pause()
            app.open_screen("incident", inc.id)
            await pilot.pause(0.3)
            text = screen_text(app)
            assert "Location: 教务处机房" in text and "Reported by: 李老师" in text and "：" not in text
            await pilot.press("2")              # the timeline: the created incident's fields
            await pilot.pause(0.2)
            timeline = screen_text(app)
            assert "Title: 勒索病毒加密学籍服务器" in timeline and "：" not in timeline
    finally:
        set_language("zh")


@pytest.mark.parametrize("offset, zh, en", [
    (timedelta(minutes=10), "10:10", "10:10"), (timedelta(hours=23), "明 09:00", "tmrw 09:00"),
    (timedelta(hours=-11), "昨 23:00", "yest 23:00"), (timedelta(days=3), "11-28", "11-28")])
def test_the_board_due_column_shows_the_day_of_a_deadline_not_today(offset, zh, en):
    from models import board as vm
    from tests.conftest import SH
    try:
        for lang, shown in (("zh", zh), ("en", en)):
            set_language(lang)
            assert vm.fmt_due(T0 + offset, T0, SH) == shown
            assert vm.cell_width(shown) <= vm.column_widths()["due"]
    finally:
        set_language("zh")


async def test_the_board_shows_yesterdays_deadline_with_its_day_at_80x24(db_path, clock):
    """An oral report owed since yesterday reads 昨 10:40, not 10:40 (which looks like a
    deadline still forty minutes off), and the title keeps room at 80 columns."""
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        create_incident(make_ctx(app.store, clock), IncidentInput(
            title="服务器异常登录", category="network_attack", occurred_at=T0 - timedelta(hours=24),
            discovered_at=T0 - timedelta(hours=23, minutes=50), personal_info=False))
        create_incident(make_ctx(app.store, clock), IncidentInput(
            title="账号异常登录", category="network_attack", occurred_at=T0 - timedelta(minutes=5),
            discovered_at=T0, personal_info=False))
        await pilot.pause(0.5)
        table = app.screen.query_one("#board-table")
        rows = {str(table.get_cell_at((r, 1))): str(table.get_cell(table.coordinate_to_cell_key((r, 0)).row_key, "due"))
                for r in range(table.row_count)}
        assert rows == {"服务器异常登录": "昨 10:40", "账号异常登录": "10:30"}, rows
        text = screen_text(app)
        assert "服务器异常登录" in text and "昨 10:40" in text
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_the_due_column_is_as_wide_as_its_cells_and_widens_at_midnight(db_path, clock):
    """Every deadline today: five cells, the title keeps its room; past midnight the same
    deadline reads 昨 10:30 and the column widens for it, nothing cut."""
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        create_incident(make_ctx(app.store, clock), IncidentInput(
            title="学籍账号异地登录告警", category="network_attack", occurred_at=T0 - timedelta(minutes=5),
            discovered_at=T0, personal_info=False))
        await pilot.pause(0.5)
        board = app.screen
        table = board.query_one("#board-table")

        def due_column():
            key = next(k for k in table.columns if k.value == "due")
            cell = str(table.get_cell(table.coordinate_to_cell_key((0, 0)).row_key, "due"))
            return table.columns[key].width, cell
        assert due_column() == (5, "10:30")
        assert "学籍账号异地登录" in screen_text(app)            # 17 cells of title at 80 columns
        clock.advance(hours=14, minutes=1)                     # 00:01 the next day
        board.tick()
        await pilot.pause(0.3)
        assert due_column() == (8, "昨 10:30")
        assert "昨 10:30" in screen_text(app)
