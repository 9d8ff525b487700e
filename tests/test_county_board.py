"""The county board against a real PostgreSQL: order, counts, drills, row-level security, the CLI,
the screen at 80×24 by keys, and a school's change reaching the screen through NOTIFY."""
import json
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from models.county import board, server
from tests.conftest import run_cli
from tests.pgcluster import make_county

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=timezone.utc)


def iso(dt):
    return dt.isoformat()


def change(code, version=1, *, now=NOW, title="勒索病毒", drill=False, status="open", obligations=()):
    """One incident's whole state; ``obligations``: (stage, due offset in minutes, statutory[, state])."""
    obls = []
    for stage, minutes, statutory, *state in obligations:
        obls.append({"regime": "school_plan", "stage": stage, "seq": 1,
                     "state": state[0] if state else "pending",
                     "due_at": iso(now + timedelta(minutes=minutes)),
                     "submitted_at": iso(now) if state and state[0] == "met" else None,
                     "statutory": statutory})
    payload = {"code": code, "title": title, "category": "malware", "grade": "III", "grade_decided": True,
               "status": status, "is_drill": drill, "occurred_at": iso(now - timedelta(hours=2)),
               "discovered_at": iso(now - timedelta(hours=2)), "updated_at": iso(now),
               "obligations": obls, "reports": []}
    return (f"incident:{code}", version, payload)


@pytest.fixture
def county(pg):
    return make_county(pg, ("S001", "S002", "S003"))


def put(url, school, *changes):
    with psycopg.connect(url) as conn:
        return server.apply_changes(conn, school, list(changes))


def seed(county):
    # S001: one due in 2 h (statutory), one overdue but not statutory, one closed (not shown).
    put(county["S001"], "S001",
        change("A-1", obligations=[("first", 120, True)]),
        change("A-2", obligations=[("followup", -30, False)]),
        change("A-3", status="closed", obligations=[("first", -300, True)]))
    # S002: a statutory first report 10 min overdue, another 90 min overdue; a drill due in 20 min.
    put(county["S002"], "S002",
        change("B-1", obligations=[("first", -10, True), ("followup", 240, False)]),
        change("B-2", obligations=[("first", -90, True)]),
        change("B-3", drill=True, title="演练：断网", obligations=[("first", 20, True)]))
    # S003: an incident owing nothing (its report is in), and a handled one due in 5 h.
    put(county["S003"], "S003",
        change("C-1", obligations=[("first", -60, True, "met")]),
        change("C-2", status="handled", obligations=[("first", 300, True)]))


def bureau_read(county):
    with psycopg.connect(county["bureau"]) as conn:
        return board.read(conn)


def test_overdue_statutory_first_then_nearest_due(county):
    seed(county)
    data = bureau_read(county)
    order = [(r.incident.school, r.incident.code) for r in board.rows(data, NOW)]
    # B-2 (90 min late) and B-1 (10 min late) are overdue statutory; then A-2 (a non-statutory
    # report 30 min late: the nearest unmet due time), B-3 (20 min), A-1 (2 h), C-2 (5 h); C-1 owes nothing.
    assert order == [("S002", "B-2"), ("S002", "B-1"), ("S001", "A-2"), ("S002", "B-3"),
                     ("S001", "A-1"), ("S003", "C-2"), ("S003", "C-1")]
    rows = {r.incident.code: r for r in board.rows(data, NOW)}
    assert rows["B-1"].next.stage == "first" and rows["B-1"].overdue == 1
    assert rows["C-1"].next is None and rows["A-2"].overdue == 0
    # Time is an input: 25 minutes on, B-3's first report is overdue too and moves up.
    later = [r.incident.code for r in board.rows(data, NOW + timedelta(minutes=25))]
    assert later[:3] == ["B-2", "B-1", "B-3"]


def test_counts_per_school_and_drills_filter(county):
    seed(county)
    data = bureau_read(county)
    got = {c.school: (c.name, c.open, c.overdue, c.drills) for c in board.counts(data, NOW)}
    assert got == {"S001": ("海峰中学", 2, 0, 0), "S002": ("金龙中学", 3, 2, 1), "S003": ("龙华小学", 2, 0, 0)}
    without = board.rows(data, NOW, drills=False)
    assert "B-3" not in [r.incident.code for r in without] and len(without) == 6
    assert {c.school: c.open for c in board.counts(data, NOW, drills=False)}["S002"] == 2


def test_a_school_login_sees_only_its_own_rows(county):
    seed(county)
    with psycopg.connect(county["S002"]) as conn:
        data = board.read(conn)
    assert {r.incident.school for r in board.rows(data, NOW)} == {"S002"}
    assert [c.school for c in board.counts(data, NOW)] == ["S002"]


def test_county_board_json_through_the_cli(county, pg):
    real_now = datetime.now(timezone.utc)
    put(county["S001"], "S001", change("A-1", now=real_now, obligations=[("first", -15, True)]),
        change("A-9", now=real_now, drill=True, obligations=[("first", 60, True)]))
    put(county["S002"], "S002", change("B-1", now=real_now, obligations=[("first", 100, True)]))
    r = run_cli("county", "board", "--url", county["bureau"], "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [(x["school"], x["incident"]) for x in got["rows"]] == [("S001", "A-1"), ("S001", "A-9"), ("S002", "B-1")]
    first = got["rows"][0]
    assert first["overdue"] == 1 and first["next"]["name"] == "首报" and first["next"]["seconds_left"] < 0
    assert got["rows"][1]["drill"] is True
    assert {c["school"]: (c["open"], c["overdue"]) for c in got["counts"]} == {
        "S001": (2, 1), "S002": (1, 0), "S003": (0, 0)}
    r = run_cli("county", "board", "--json", "--no-drills", env={"XUEJI_DUTY_COUNTY_URL": county["S001"]})
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [x["incident"] for x in got["rows"]] == ["A-1"] and [c["school"] for c in got["counts"]] == ["S001"]
    # The server away: one clear line, no traceback.
    r = run_cli("county", "board", "--json", "--url", f"postgresql://x:y@127.0.0.1:{pg.port + 1}/county")
    assert r.returncode == 1 and "连不上县级服务器" in r.stderr + r.stdout and "Traceback" not in r.stderr


# ---------------------------------------------------------------- the screen

def _app(url, clock=None):
    from zoneinfo import ZoneInfo

    from models.clock import FixedClock
    from screens.county_board import make_county_app
    return make_county_app(url, clock or FixedClock(NOW), ZoneInfo("Asia/Shanghai"))


def test_the_screen_at_80x24_by_keys(county):
    import asyncio

    from tests.ui_helpers import screen_text, wait_for
    seed(county)

    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: app.board is not None and app.board.reads >= 1)
            await pilot.pause(0.1)
            text = screen_text(app)
            lines = text.splitlines()
            assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
            assert "县级看板 · 3 所学校" in lines[0]
            assert "未结事件 7" in text and "逾期未报 2" in text and "演练 1 （显示）" in text
            assert "县级服务器已连接" in text
            rows = [line for line in lines if line.startswith((" S00",))]
            # Overdue statutory first (B-2, B-1), the row's state word says so without colour.
            assert rows[0].split()[:2] == ["S002", "B-2"] and "逾期未报" in rows[0]
            assert rows[1].split()[:2] == ["S002", "B-1"]
            assert "[演练]" in text
            footer = lines[-1]
            assert "d 演练" in footer and "s 各校" in footer and "? 帮助" in footer and len(footer) <= 80
            # The highlighted row's school name and due time are in the line under the table.
            assert "S002 金龙中学 · B-2 · 首报 时限" in text
            await pilot.press("j")
            await pilot.pause(0.05)
            assert "S002 金龙中学 · B-1" in screen_text(app)
            # d hides the drills (and says so); d again shows them.
            await pilot.press("d")
            await pilot.pause(0.1)
            text = screen_text(app)
            assert "[演练]" not in text and "演练 1 （已隐藏）" in text and "未结事件 6" in text
            await pilot.press("d")
            await pilot.pause(0.1)
            assert "[演练]" in screen_text(app)
            # s: the per-school counts, the schools with overdue reports first.
            await pilot.press("s")
            await pilot.pause(0.1)
            text = screen_text(app)
            school_rows = [line.split() for line in text.splitlines() if line.startswith(" S00")]
            assert school_rows[0] == ["S002", "金龙中学", "3", "2", "1"]
            assert ["S003", "龙华小学", "2", "0", "0"] in school_rows
            await pilot.press("s")
            # ? lists this screen's keys; the palette opens with ctrl+p.
            await pilot.press("question_mark")
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "HelpScreen" and "各校" in screen_text(app)
            await pilot.press("escape")
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "CommandPalette"
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert app.screen is app.board
    asyncio.run(run())


def test_a_school_change_reaches_the_screen_by_notify_within_2s(county):
    import asyncio
    import time

    from tests.ui_helpers import screen_text, wait_for
    seed(county)

    async def run():
        app = _app(county["S001"])     # a school's own login: its rows only
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: app.board is not None and app.board.reads >= 1)
            text = screen_text(app)
            assert "县级看板 · S001 海峰中学" in text and "B-1" not in text and "A-1" in text
            took = []
            for n in range(3):
                t0 = time.monotonic()
                put(county["S001"], "S001", change(f"N-{n}", obligations=[("first", -5 - n, True)]))
                assert await wait_for(pilot, lambda: f"N-{n}" in screen_text(app), timeout=2.0)
                took.append(time.monotonic() - t0)
            assert max(took) < 2.0, took
            # Another school's change is not this login's: nothing of it shows.
            put(county["S002"], "S002", change("B-9", obligations=[("first", -60, True)]))
            reads = app.board.reads
            await pilot.pause(0.5)
            assert "B-9" not in screen_text(app) and app.board.reads == reads
    asyncio.run(run())


def test_server_away_shows_the_link_state_and_comes_back(county, pg):
    import asyncio

    from tests.ui_helpers import screen_text, wait_for
    seed(county)

    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: app.board is not None and app.board.reads >= 1)
            pg.stop()
            try:
                assert await wait_for(pilot, lambda: "县网不通" in screen_text(app), timeout=5)
                text = screen_text(app)
                assert "B-2" in text and "Traceback" not in text     # the rows stay
            finally:
                pg.start()
            reads = app.board.reads
            assert await wait_for(pilot, lambda: app.board.reads > reads, timeout=15)
            assert await wait_for(pilot, lambda: "县级服务器已连接" in screen_text(app), timeout=2)
            # Listening again: a change made now shows.
            put(county["S003"], "S003", change("C-9", obligations=[("first", -1, True)]))
            assert await wait_for(pilot, lambda: "C-9" in screen_text(app), timeout=2.0)
    asyncio.run(run())


def test_without_url_an_enrolled_desk_shows_its_own_school(county, pg, tmp_path, monkeypatch):
    """``county board`` with no --url on an enrolled school's desk logs in with the school's stored
    credential (models.county.link): that school's rows only, by the server's RLS."""
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    monkeypatch.delenv("XUEJI_DUTY_COUNTY_URL", raising=False)
    real_now = datetime.now(timezone.utc)
    put(county["S001"], "S001", change("A-1", now=real_now, obligations=[("first", -15, True)]))
    put(county["S002"], "S002", change("B-1", now=real_now, obligations=[("first", -30, True)]))
    db = str(tmp_path / "school.db")
    r = run_cli("county", "board", "--json", "--db", db)          # nothing enrolled: name the server
    assert r.returncode == 1 and "--url" in r.stderr and "Traceback" not in r.stderr
    secret = county["S001"].split("//", 1)[1].split("@", 1)[0].split(":", 1)[1]
    from urllib.parse import unquote
    bare = f"postgresql://{pg.host}:{pg.port}/{county['db']}"
    r = run_cli("county", "enrol", "--url", bare, "--school", "S001", "--db", db, "--user", "tester",
                input=unquote(secret) + "\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("county", "board", "--json", "--db", db)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [(x["school"], x["incident"]) for x in got["rows"]] == [("S001", "A-1")]
    assert [c["school"] for c in got["counts"]] == ["S001"]
    assert unquote(secret) not in r.stdout + r.stderr


def test_rows_out_of_view_are_brought_up_to_date_when_scrolled_to(county):
    """Only the rows in view follow the clock each second; one scrolled into view later shows the
    countdown of that moment, not of when it was last in view."""
    import asyncio

    from models.clock import FixedClock
    from tests.ui_helpers import screen_text, wait_for
    put(county["S001"], "S001", *[change(f"R-{n:02d}", obligations=[("first", 60 + n, True)]) for n in range(60)])
    clock = FixedClock(NOW)

    async def run():
        app = _app(county["S001"], clock)
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: app.board is not None and app.board.complete_at is not None)
            row = next(line for line in screen_text(app).splitlines() if " R-00 " in line)
            assert "1h00m" in row
            clock.advance(minutes=30)
            app.board.tick()
            await pilot.pause(0.05)
            row = next(line for line in screen_text(app).splitlines() if " R-00 " in line)
            assert "30m" in row and "1h00m" not in row
            for _ in range(4):
                await pilot.press("pagedown")
            await pilot.pause(0.1)
            last = next(line for line in screen_text(app).splitlines() if " R-59 " in line)
            assert "1h29m" in last       # due at 1h59m, 30 minutes later
    asyncio.run(run())


def test_server_unreachable_from_the_start_is_a_line_not_a_traceback(pg):
    import asyncio

    from tests.ui_helpers import screen_text, wait_for

    async def run():
        app = _app(f"postgresql://x:y@127.0.0.1:{pg.port + 1}/county")
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: "县网不通" in screen_text(app), timeout=5)
            text = screen_text(app)
            assert "连不上县级服务器" in text and "Traceback" not in text
            assert app.screen is app.board
    asyncio.run(run())
