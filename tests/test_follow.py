"""Every screen follows every commit, this session's own included (issue 14, change feed)."""
from __future__ import annotations

import time
from datetime import timedelta

from models.incidents import IncidentInput, create_incident
from models.reports import Submission, open_report, save_draft, submit
from tests.conftest import T0, make_app, make_ctx
from tests.test_incident_screen import cell, open_incident, seed
from tests.ui_helpers import screen_text, wait_for

FIRST_FULL = {"affected_scope": "约 120 名学生记录", "damage": "无", "threat": "较低", "trend": "已控制",
              "measures_taken": "已修改口令、断网", "next_steps": "配合排查", "contact_phone": "0874-1234567"}


def test_the_feed_moves_for_own_commits_and_others(store, clock, db_path):
    from models.store import Store
    ctx = make_ctx(store, clock)
    feed = store.feed
    me = object()
    feed.follow(me)
    assert not feed.changed(me)
    create_incident(ctx, IncidentInput(title="t", category="network_attack", occurred_at=T0 - timedelta(minutes=5),
                                       discovered_at=T0))
    assert store.data_version() == store.data_version()      # data_version alone would not move here
    assert feed.changed(me) and not feed.changed(me)
    import sqlite3
    other = sqlite3.connect(str(db_path))
    other.execute("UPDATE incident SET location='x'")
    other.commit()
    other.close()
    assert feed.changed(me)
    assert isinstance(store, Store)


async def test_incident_screen_shows_its_own_submission_within_a_second(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        first = "school_plan|first|1"
        assert "已报" not in cell(screen, first, "report")
        r = open_report(app.ctx, inc.id, "school_plan", "first")
        r = save_draft(app.ctx, r.id, r.version, {**FIRST_FULL, "summary": "异地登录", "info_source": "巡检",
                                                      "location": "教务处", "event_level": "一般", "reporting_unit": "海峰中学"})
        start = time.monotonic()
        submit(app.ctx, r.id, r.version, Submission(channel="fax", recipient="县教育局",
                                               before_oral_reason="电话未接通"))  # this session, same connection
        assert await wait_for(pilot, lambda: "已报" in cell(screen, first, "report"), timeout=1.0)
        assert time.monotonic() - start <= 1.0
        assert "10:00" in cell(screen, first, "report")              # with the submission time
        # The timeline follows too.
        await pilot.press("2")
        assert await wait_for(pilot, lambda: "首报" in screen_text(app), timeout=1.0)


async def test_board_follows_this_sessions_own_commit_without_a_connection_of_its_own(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        board = app.screen
        assert not hasattr(board, "_poll") or board._poll is None
        ctx = make_ctx(app.store, clock)
        create_incident(ctx, IncidentInput(title="学籍账号被锁定", category="network_attack",
                                           occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
        assert await wait_for(pilot, lambda: "学籍账号被锁定" in screen_text(app), timeout=2.5)
