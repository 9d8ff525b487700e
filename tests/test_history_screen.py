"""History at 80×24 by keys: closed, withdrawn and drill incidents only; search by code, title,
category, grade and dates; the incident opens read-only; a drill's summary opens with d."""
from datetime import date

import pytest

from models import history
from models.errors import ValidationError
from tests.conftest import make_app, make_ctx
from tests.test_stats import seed_year
from tests.ui_helpers import screen_text


def test_parse_and_search(ctx):
    seed_year(ctx)
    today = date(2026, 11, 25)
    everything = history.search(ctx, history.parse_query("", today))
    # A, A2, B closed; the withdrawn false alarm; the drill. C and D are open, the 2025 one open too.
    assert everything.total == 5
    assert [r.title for r in everything.rows][0] == "演练：勒索病毒"        # newest first
    assert history.search(ctx, history.parse_query("事件B", today)).total == 1
    assert history.search(ctx, history.parse_query("类别:恶意程序", today)).total == 3   # A, withdrawn, drill
    assert history.search(ctx, history.parse_query("类别:恶意程序 演练", today)).total == 1
    assert history.search(ctx, history.parse_query("撤销", today)).rows[0].title == "误报：打印机告警"
    assert history.search(ctx, history.parse_query("从:2026-05-01 到:5月31日", today)).total == 1
    assert history.search(ctx, history.parse_query("从:2026-03 到:2026-07", today)).total == 4
    assert history.search(ctx, history.parse_query("grade:IV closed", today)).total == 3
    code = everything.rows[-1].code
    assert history.search(ctx, history.parse_query(code, today)).rows[0].code == code
    assert history.search(ctx, history.parse_query("100%_", today)).total == 0
    with pytest.raises(ValidationError) as exc:
        history.parse_query("从:昨天下午", today)
    assert "昨天下午" in exc.value.message
    with pytest.raises(ValidationError):
        history.parse_query("类别:不存在的类别", today)


async def test_history_screen_search_and_read_only_incident(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    seed_year(make_ctx(app.store, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "h")
        await pilot.pause()
        assert type(app.screen).__name__ == "HistoryScreen"
        text = screen_text(app)
        assert "共 5 条" in text and "事件C" not in text and "演练：勒索病毒" in text
        footer = text.splitlines()[-1]
        assert "/ 搜索" in footer and len(footer) <= 80
        await pilot.press("slash")
        await pilot.press(*"事件B")
        await pilot.pause()
        assert "共 1 条" in screen_text(app)
        await pilot.press("enter")      # to the results
        await pilot.press("enter")      # open it
        await pilot.pause()
        assert type(app.screen).__name__ == "IncidentScreen" and app.screen.read_only
        footer = screen_text(app).splitlines()[-1]
        assert "编辑" not in footer and "结案" not in footer
        await pilot.press("e", "c")
        await pilot.pause()
        assert type(app.screen).__name__ == "IncidentScreen"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "HistoryScreen"
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"演练", "enter")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert type(app.screen).__name__ == "DrillScreen"
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"
