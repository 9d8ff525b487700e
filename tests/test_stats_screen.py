"""The statistics screen at 80×24, by keys only: periods, bars, the on-time table, export; a viewer sees it."""
from openpyxl import load_workbook

from tests.conftest import make_app, make_ctx
from tests.test_stats import seed_year
from tests.ui_helpers import fill_form, screen_text, wait_for


async def test_board_g_menu_opens_statistics_and_periods_move(db_path, clock, tmp_path):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    seed_year(make_ctx(app.store, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        # The footer is drawn after the board's first repaint: waited for, not read after one pause
        # (under load it was still empty).
        assert await wait_for(pilot, lambda: "g 转到" in screen_text(app).splitlines()[-1])
        board_footer = screen_text(app).splitlines()[-1]
        assert "g 转到" in board_footer and len(board_footer) <= 80
        await pilot.press("g")
        assert await wait_for(pilot, lambda: "统计与年报" in screen_text(app))
        await pilot.press("s")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "StatsScreen")
        screen = app.screen
        # Computed in a thread worker: "计算中…" first, the figures when it finishes.
        assert await wait_for(pilot, lambda: "真实事件 5 起" in screen_text(app))
        text = screen_text(app)
        assert "2026年度" in text and "计算中" not in text
        assert "学校应急预案 · 首报" in text and "50.00%" in text     # the 3-hour first report first
        footer = text.splitlines()[-1]
        assert "p 上一期" in footer and "e 导出报告" in footer
        await pilot.press("m")
        assert await wait_for(pilot, lambda: "2026年11月" in screen_text(app) and "计算中" not in screen_text(app))
        assert "2026年11月" in screen_text(app) and "真实事件 2 起" in screen_text(app)
        await pilot.press("p")
        assert await wait_for(pilot, lambda: "2026年10月" in screen_text(app) and "计算中" not in screen_text(app))
        assert "2026年10月" in screen_text(app) and "真实事件 0 起" in screen_text(app)
        await pilot.press("y")
        assert await wait_for(pilot, lambda: "2026年度" in screen_text(app) and "计算中" not in screen_text(app))
        await pilot.press("end")
        await pilot.pause()
        text = screen_text(app)
        assert "应急演练" in text and "2026-11" in text and "█" in text
        # Export from the screen: the file name's ending chooses the format.
        await pilot.press("e")
        await pilot.pause()
        out = tmp_path / "年报.xlsx"
        await fill_form(pilot, str(out), save="enter")
        await pilot.pause()
        assert out.exists()
        wb = load_workbook(out)
        assert wb["报告及时情况"].cell(3, 6).value == 0.5
        assert "已写入" in screen_text(app)
        await pilot.press("e")
        await pilot.pause()
        await fill_form(pilot, str(tmp_path / "年报.pdf"), save="enter")
        await pilot.pause()
        assert "未知格式" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"
