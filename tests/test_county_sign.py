"""The county board's sign key (issue 19 item 4) at 80×24 by keys, against a real PostgreSQL:
the bureau signs a submitted report (a line to confirm; a picker when there are several), the
receipt is on the server with the bureau's login as signer and on the screen at once; a second
press offers nothing; a school's login is not offered the key and the server's refusal is a message."""
import asyncio
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from models.county import server
from tests.pgcluster import make_county
from tests.ui_helpers import screen_text, wait_for

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)     # 12:00 in Asia/Shanghai


def change(code, *, reports=(), version=1):
    """One open incident owing a follow-up, with ``reports``: (stage, seq, minutes before NOW) submitted."""
    iso = lambda dt: dt.isoformat()   # noqa: E731
    payload = {"code": code, "title": "勒索病毒", "category": "malware", "grade": "III", "grade_decided": True,
               "status": "open", "is_drill": False, "occurred_at": iso(NOW - timedelta(hours=2)),
               "discovered_at": iso(NOW - timedelta(hours=2)), "updated_at": iso(NOW),
               "obligations": [{"regime": "school_plan", "stage": "continuing", "seq": 1, "state": "pending",
                                "due_at": iso(NOW + timedelta(hours=3)), "submitted_at": None, "statutory": False}],
               "reports": [{"regime": "school_plan", "stage": stage, "seq": seq, "revision": 1,
                            "submitted_at": iso(NOW - timedelta(minutes=ago)), "submitted_by": "王老师",
                            "channel": "phone", "recipient": "县教育局"} for stage, seq, ago in reports]}
    return (f"incident:{code}", version, payload)


@pytest.fixture
def county(pg):
    url = make_county(pg, ("S001",))
    with psycopg.connect(url["S001"]) as conn:
        server.apply_changes(conn, "S001", [
            change("A-1", reports=[("first", 1, 30)]),
            change("A-2", reports=[("first", 1, 90), ("continuing", 1, 20)]),
            change("A-3")])
    return url


def receipts(county):
    with psycopg.connect(county["admin"]) as conn:
        return {(r[0], r[1], r[2], r[3]): r[4] for r in conn.execute(
            "SELECT school, incident_code, stage, seq, signed_by FROM county.receipt").fetchall()}


def noticed(app, words):
    """A notice (``notify``) saying ``words`` was given."""
    return any(words in str(n.message) for n in app._notifications)


def _app(url):
    from zoneinfo import ZoneInfo

    from models.clock import FixedClock
    from screens.county_board import make_county_app
    return make_county_app(url, FixedClock(NOW), ZoneInfo("Asia/Shanghai"))


async def _open(pilot, app):
    assert await wait_for(pilot, lambda: app.board is not None and app.board.reads >= 1)
    await pilot.pause(0.1)


async def _highlight(pilot, app, code):
    for _ in range(10):
        if app.board._selected() is not None and app.board._selected().incident.code == code:
            return
        await pilot.press("j")
        await pilot.pause(0.02)
    raise AssertionError(code)


def _fits(app):
    lines = screen_text(app).splitlines()
    assert len(lines) <= 24 and all(len(line) <= 80 for line in lines), lines
    return lines


def test_the_bureau_signs_one_report_and_the_screen_shows_it_at_once(county):
    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            await _open(pilot, app)
            footer = _fits(app)[-1]
            assert "a 签收" in footer and "? 帮助" in footer and "^q" in footer, footer
            # In ? help and in the palette too.
            await pilot.press("question_mark")
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "HelpScreen" and "签收" in screen_text(app)
            await pilot.press("escape")
            await pilot.pause(0.05)
            from tui.palette import BindingCommands
            assert ("签收", "a") in [(name, key) for name, key, _run in BindingCommands(app.board)._entries()]
            await _highlight(pilot, app, "A-1")
            assert "首报 已报 11:30 · 未签收" in screen_text(app)
            await pilot.press("a")
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "ConfirmSign"
            text = screen_text(app)
            assert "签收 S001 A-1 首报（11:30 报送）？ Enter 确认 · Esc 取消" in text
            _fits(app)
            # Esc: nothing signed.
            await pilot.press("escape")
            await pilot.pause(0.05)
            assert app.screen is app.board and receipts(county) == {}
            await pilot.press("a")
            await pilot.pause(0.05)
            reads = app.board.reads
            started = time.monotonic()
            await pilot.press("enter")
            assert await wait_for(pilot, lambda: "首报 已报 11:30 · 已签收 jijiaoke" in screen_text(app), timeout=3)
            took = time.monotonic() - started
            print(f"Enter to 已签收 on the screen: {took * 1000:.0f} ms")
            assert took < 2.0, took
            assert receipts(county) == {("S001", "A-1", "first", 1): "jijiaoke"}
            assert "Traceback" not in screen_text(app)
            # The re-read after the signature (and the receipt's NOTIFY) says the same.
            assert await wait_for(pilot, lambda: app.board.reads > reads and not app.board._reading, timeout=3)
            assert "已签收 jijiaoke" in screen_text(app)
            # A second press offers nothing: every submitted report of A-1 is signed for.
            await pilot.press("a")
            await pilot.pause(0.1)
            assert app.screen is app.board
            assert await wait_for(pilot, lambda: noticed(app, "报送的报告都已签收"))
            # An incident with no submitted report: a notice, no dialog.
            await _highlight(pilot, app, "A-3")
            await pilot.press("a")
            await pilot.pause(0.1)
            assert app.screen is app.board
            assert await wait_for(pilot, lambda: noticed(app, "无可签收"))
            assert len(receipts(county)) == 1
    asyncio.run(run())


def test_several_unsigned_reports_offer_a_picker(county):
    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            await _open(pilot, app)
            await _highlight(pilot, app, "A-2")
            assert "首报 已报 10:30 · 未签收 │ 续报 已报 11:40 · 未签收" in screen_text(app)
            await pilot.press("a")
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "PickSign"
            text = screen_text(app)
            assert "签收 S001 A-2 的哪一份报告？" in text and "首报（10:30 报送）" in text and "续报（11:40 报送）" in text
            _fits(app)
            await pilot.press("down", "enter")           # the follow-up
            assert await wait_for(pilot, lambda: "续报 已报 11:40 · 已签收 jijiaoke" in screen_text(app), timeout=3)
            assert receipts(county) == {("S001", "A-2", "continuing", 1): "jijiaoke"}
            # One left: the one-line confirmation for it.
            await pilot.press("a")
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "ConfirmSign" and "首报（10:30 报送）" in screen_text(app)
            await pilot.press("enter")
            assert await wait_for(pilot, lambda: "首报 已报 10:30 · 已签收 jijiaoke" in screen_text(app), timeout=3)
            assert len(receipts(county)) == 2
    asyncio.run(run())


def test_a_school_login_has_no_sign_key_and_the_server_refusal_is_a_message(county):
    async def run():
        app = _app(county["S001"])
        async with app.run_test(size=(80, 24)) as pilot:
            await _open(pilot, app)
            footer = _fits(app)[-1]
            assert "签收" not in footer and "? 帮助" in footer, footer
            await _highlight(pilot, app, "A-1")
            assert "首报 已报 11:30 · 未签收" in screen_text(app)   # the school sees its own report's state
            await pilot.press("a")
            await pilot.pause(0.1)
            assert app.screen is app.board
            # The palette does not offer it either.
            from tui.palette import BindingCommands
            assert "签收" not in [name for name, _key, _run in BindingCommands(app.board)._entries()]
            # Past the screen's guard (the action run directly): the server refuses, in words.
            app.board.action_sign()
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "ConfirmSign"
            await pilot.press("enter")
            assert await wait_for(pilot, lambda: noticed(app, "签收没有成功"), timeout=3)
            assert noticed(app, "县级服务器拒绝")
            text = screen_text(app)
            assert "Traceback" not in text
            assert app.screen is app.board and receipts(county) == {}
            assert "未签收" in text
    asyncio.run(run())


def test_the_server_away_at_the_signature_is_a_message_and_the_next_try_signs(county, pg):
    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            await _open(pilot, app)
            await _highlight(pilot, app, "A-1")
            await pilot.press("a")
            await pilot.pause(0.1)
            assert type(app.screen).__name__ == "ConfirmSign"
            pg.stop()
            try:
                await pilot.press("enter")
                assert await wait_for(pilot, lambda: noticed(app, "签收没有成功"), timeout=5)
                assert "Traceback" not in screen_text(app) and "未签收" in screen_text(app)
            finally:
                pg.start()
            assert receipts(county) == {}
            # The server back: the same key signs (the board reconnects).
            await pilot.press("a")
            await pilot.pause(0.1)
            await pilot.press("enter")
            assert await wait_for(pilot, lambda: "已签收 jijiaoke" in screen_text(app), timeout=5)
            assert receipts(county) == {("S001", "A-1", "first", 1): "jijiaoke"}
    asyncio.run(run())
