"""County notices opaque to schools, with the real roles of a real PostgreSQL.

NOTIFY is not under row-level security: any login may ``LISTEN xj_county``. A notice carries a
random per-school token (``county.notice_token``, readable by the bureau only), so a school that
listens learns no school's code; the bureau's board maps the token back and re-reads only the
school it names."""
import json
import queue
import threading
import time

import psycopg
import pytest

from models.county import board, schema
from tests.pgcluster import SCHOOL_NAMES, make_county
from tests.test_county_board import _app, change, put, seed


@pytest.fixture
def county(pg):
    return make_county(pg, ("S001", "S002", "S003"))


def _tokens(county) -> dict[str, str]:
    with psycopg.connect(county["admin"]) as conn:
        return dict(conn.execute("SELECT school, token FROM county.notice_token").fetchall())


def _notices(conn, timeout=1.0) -> list[str]:
    """The payloads heard until ``timeout`` passes without one."""
    got = []
    while True:
        batch = [n.payload for n in conn.notifies(timeout=timeout, stop_after=1)]
        if not batch:
            return got
        got += batch


def test_a_school_listening_learns_no_school_code(county):
    tokens = _tokens(county)
    assert set(tokens) == {"S001", "S002", "S003"} and len(set(tokens.values())) == 3
    with psycopg.connect(county["S002"], autocommit=True) as spy:
        spy.execute("LISTEN xj_county")
        put(county["S001"], "S001", change("A-1", obligations=[("first", 60, True)]))
        put(county["S003"], "S003", change("C-1"))
        heard = _notices(spy)
        assert heard, "the school's listener hears that something changed"
        assert set(heard) == {tokens["S001"], tokens["S003"]}
        words = set(SCHOOL_NAMES) | set(SCHOOL_NAMES.values()) | {c.lower() for c in SCHOOL_NAMES}
        assert not any(w in p for p in heard for w in words)
        # Nor can it map a token: the table is the bureau's, and its own token is all it is told.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            spy.execute("SELECT * FROM county.notice_token")
        assert spy.execute("SELECT county.my_notice_token()").fetchone() == (tokens["S002"],)
        assert spy.execute("SELECT code FROM county.school").fetchall() == [("S002",)]
        for fn in ("county.notify_change()", "county.school_token()"):
            with pytest.raises(psycopg.errors.Error):
                spy.execute(f"SELECT {fn}")
    with psycopg.connect(county["bureau"]) as bureau:
        assert dict(bureau.execute("SELECT school, token FROM county.notice_token").fetchall()) == tokens


def _listener(url):
    got: queue.Queue = queue.Queue()
    states: list = []
    _thread, stop = board.start_listener(url, got.put, on_state=lambda ok, d: states.append((ok, d)))
    assert got.get(timeout=5) is None        # listening: re-read everything once
    return got, stop, states


def _drain(got: queue.Queue, wait=0.3, until: set | None = None, timeout=3.0) -> list:
    """What the callback was given: until ``until`` has all come (then ``wait`` more, for any
    extra), or for ``wait`` seconds when nothing is expected."""
    out: list = []
    start = time.monotonic()
    quiet_from = start if until is None else None
    while True:
        now = time.monotonic()
        if quiet_from is None and until <= set(out):
            quiet_from = now
        if quiet_from is not None and now - quiet_from >= wait:
            return out
        if now - start >= timeout:
            return out
        try:
            out.append(got.get(timeout=0.05))
        except queue.Empty:
            pass


def test_the_bureau_listener_names_the_school_a_school_listener_only_itself(county):
    bureau, stop_b, _ = _listener(county["bureau"])
    school, stop_s, _ = _listener(county["S002"])
    try:
        put(county["S001"], "S001", change("A-1"))
        assert set(_drain(bureau, until={"S001"})) == {"S001"}
        assert _drain(school) == []          # another school's change: nothing for S002
        put(county["S002"], "S002", change("B-1"))
        assert set(_drain(bureau, until={"S002"})) == {"S002"}
        assert set(_drain(school, until={"S002"})) == {"S002"}
        # Any login may NOTIFY anything: a made-up payload makes no one re-read.
        with psycopg.connect(county["S003"], autocommit=True) as forger:
            forger.execute("SELECT pg_notify('xj_county', 'S001'), pg_notify('xj_county', 'made-up')")
        # (the made-up token is looked up again once a second is up: wait past that)
        assert _drain(bureau, board.Tokens.RELOAD_S + 0.3) == [] and _drain(school, 0.1) == []
    finally:
        stop_b.set()
        stop_s.set()


def test_a_school_registered_after_the_board_listens_is_named(county, pg):
    got, stop, _ = _listener(county["bureau"])
    try:
        added = schema.add_school(county["admin"], "S004", "新学校")
        url = pg.url_for(added["role"], added["secret"], county["db"])
        put(url, "S004", change("D-1"))
        # Its token was not in the map: read again (at most once a second), then named.
        seen = _drain(got, until={"S004"})
        assert set(seen) == {"S004"}, seen
    finally:
        stop.set()


def test_the_step_reaches_a_county_database_made_before_it(county):
    """A county database initialised by the build before tokens: no table, no record of the
    step. ``county init`` adds it, gives every school a token, keeps every row."""
    seed(county)
    with psycopg.connect(county["admin"]) as conn:
        before = {t: conn.execute(f"SELECT * FROM county.{t} ORDER BY 1, 2").fetchall()
                  for t in ("school", "incident", "obligation", "report", "change_log", "receipt")}
        conn.execute("DROP TABLE county.notice_token CASCADE")
        names = [n for n in json.loads(conn.execute("SELECT value FROM county.schema_meta WHERE key = 'steps'")
                                       .fetchone()[0]) if n != "notice_token"]
        conn.execute("UPDATE county.schema_meta SET value = %s WHERE key = 'steps'", (json.dumps(names),))
    with psycopg.connect(county["bureau"], autocommit=True) as conn:
        with pytest.raises(Exception) as exc:
            schema.check(conn)
        assert "notice_token" in str(exc.value)
    schema.init(county["admin"])
    tokens = _tokens(county)
    assert set(tokens) == {"S001", "S002", "S003"}
    schema.init(county["admin"])
    assert _tokens(county) == tokens              # a second init keeps them
    with psycopg.connect(county["admin"]) as conn:
        after = {t: conn.execute(f"SELECT * FROM county.{t} ORDER BY 1, 2").fetchall() for t in before}
    assert after == before
    got, stop, _ = _listener(county["bureau"])
    try:
        put(county["S003"], "S003", change("C-9"))
        assert set(_drain(got, until={"S003"})) == {"S003"}
    finally:
        stop.set()


def test_the_bureau_board_re_reads_only_the_school_a_notice_names(county, monkeypatch):
    import asyncio

    from tests.ui_helpers import screen_text, wait_for
    seed(county)
    asked: list = []
    real = board.read

    def recording(conn, schools=None):
        asked.append(None if schools is None else sorted(schools))
        return real(conn, schools)

    monkeypatch.setattr(board, "read", recording)

    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: app.board is not None and app.board.reads >= 1)
            assert asked and asked[0] is None
            asked.clear()
            t0 = time.monotonic()
            put(county["S002"], "S002", change("B-9", title="新的事件", obligations=[("first", -120, True)]))
            assert await wait_for(pilot, lambda: "B-9" in screen_text(app), timeout=2.0)
            assert time.monotonic() - t0 < 2.0
            assert asked == [["S002"]], asked
    asyncio.run(run())
