"""The county board screen says what a restore (or a full resend) removed (county2): incidents a
school's record no longer has are never rows (nothing is owed for them), so before they simply
dropped off the screen and only ``county board --json`` listed them. One line over the table now
says how many, of which school, why and when; it follows the server by NOTIFY as the rows do, and
the screen still fits 80×24. A real PostgreSQL (fixture ``pg``), the real screen by keys."""
import asyncio
from datetime import timedelta

import psycopg
import pytest

from models.county import board
from tests.pgcluster import make_county
from tests.test_county_board import NOW, _app, change, put, seed


@pytest.fixture
def county(pg):
    return make_county(pg, ("S001", "S002", "S003"))


def removal(code, version, minutes_ago, reason):
    return (f"incident:{code}", version,
            {"code": code, "removed": True, "reason": reason,
             "removed_at": (NOW - timedelta(minutes=minutes_ago)).isoformat()})


def test_removed_groups_by_school_and_reason_newest_first():
    at = NOW - timedelta(minutes=5)
    rs = [board.Removed("S001", "海峰中学", "A-1", "", at, "restore"),
          board.Removed("S002", "金龙中学", "B-1", "", NOW, "resync"),
          board.Removed("S001", "海峰中学", "A-2", "", at - timedelta(hours=1), "restore")]
    got = board.removed_groups(rs)
    assert [(g.school, g.reason, g.count, g.latest) for g in got] == [
        ("S002", "resync", 1, NOW), ("S001", "restore", 2, at)]


def test_the_board_screen_says_what_was_removed_live_at_80x24(county):
    from tests.ui_helpers import screen_text, wait_for
    seed(county)

    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: app.board is not None and app.board.reads >= 1)
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "A-1" in text and "撤下" not in text       # nothing removed: no line
            # S001's restore takes away; S002's full resend finds B-3 gone.
            put(county["S001"], "S001", removal("A-1", 2, 30, "restore"), removal("A-2", 2, 31, "restore"))
            put(county["S002"], "S002", removal("B-3", 2, 20, "resync"))
            assert await wait_for(pilot, lambda: "已撤下 3 起" in screen_text(app), timeout=2.0)
            await pilot.pause(0.1)
            text = screen_text(app)
            lines = text.splitlines()
            assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
            line = next(x for x in lines if "已撤下" in x)
            # Which school, how many, why, when (local time: Asia/Shanghai), the newest group first.
            assert "不再应报" in line and "S002 1 起 因全量重发 11:40" in line, line
            assert "S001 2 起 因恢复备份 11:30" in line, line
            rows = [x.split()[1] for x in lines if x.startswith(" S00")]
            assert "A-1" not in rows and "A-2" not in rows and "B-3" not in rows
            # The live obligations keep their room: the overdue ones first, as before.
            assert rows[:2] == ["B-2", "B-1"] and len(rows) >= 3
            assert "d 演练" in lines[-1]
            # A removed incident recorded again (the school numbers the next one so) is live: the
            # line follows (NOTIFY, no reload key).
            put(county["S002"], "S002", change("B-3", version=3, title="又一起", obligations=[("first", 50, True)]))
            assert await wait_for(pilot, lambda: "已撤下 2 起" in screen_text(app), timeout=2.0)
            text = screen_text(app)
            assert "全量重发" not in text and "S001 海峰中学 2 起 因恢复备份 11:30" in text
            # Drills hidden, schools' counts: the line stays (it is about the county's records).
            await pilot.press("s")
            await pilot.pause(0.1)
            assert "已撤下 2 起" in screen_text(app)
    asyncio.run(run())


def test_the_line_in_english(county, monkeypatch):
    from models.i18n import set_language
    from tests.ui_helpers import screen_text, wait_for
    seed(county)
    put(county["S001"], "S001", removal("A-1", 2, 30, "restore"))
    set_language("en")
    try:
        async def run():
            app = _app(county["bureau"])
            async with app.run_test(size=(80, 24)) as pilot:
                assert await wait_for(pilot, lambda: "1 removed" in screen_text(app), timeout=5)
                line = next(x for x in screen_text(app).splitlines() if "removed" in x)
                assert "nothing owed" in line and "S001" in line and "by a restore 11:30" in line, line
        asyncio.run(run())
    finally:
        set_language("zh")
