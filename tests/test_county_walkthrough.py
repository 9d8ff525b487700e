"""The county view end to end (issue 19's walkthrough), every step through the real thing:
two schools enrol (``county enrol``, the secret on stdin), each records an incident and submits
its first report (the real CLI), each syncs (``county sync --once``); the county board's rows,
read over the bureau's login, show both within 2 s of each sync, with the server's NOTIFY;
the bureau signs one school's first report (``county receipt``); that school syncs while its
report screen is open (80×24), and the screen shows 确认人 / 签收时间 without reopening."""
import asyncio
import json
import threading
import time

import psycopg

from models.clock import Clock
from models.county import board
from tests.conftest import make_app, run_cli
from tests.ui_helpers import screen_text, wait_for

FIELDS = ["affected_scope=约120名学生", "damage=无", "threat=低", "trend=已控制", "measures_taken=改口令",
          "next_steps=排查", "contact_phone=0874-1234567", "summary=异地登录", "info_source=巡检",
          "event_level=一般", "reporting_unit=海峰中学", "location=教务处"]
SCHOOLS = {"S001": "沾益县海峰中学", "S002": "沾益县金龙中学"}


def _ok(r):
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    return r


def _json(r):
    return json.loads(_ok(r).stdout)


def _school_records_an_incident(db, title):
    inc = _json(run_cli("incident", "new", "--title", title, "--category", "网络攻击事件", "--occurred", "-40m",
                        "--location", "教务处", "--user", "zhang", "--db", db, "--json"))
    args = ["report", "submit", inc["code"], "first", "--user", "zhang", "--db", db, "--channel", "fax",
            "--recipient", "县教育局", "--before-oral-reason", "电话未接通"]
    for f in FIELDS:
        args += ["--field", f]
    _ok(run_cli(*args))
    return inc["code"]


async def test_two_schools_the_county_board_a_receipt_and_the_report_screen(pg, tmp_path, monkeypatch):
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")         # no desktop keyring in the test
    dbname = pg.new_database()
    admin = pg.admin_url(dbname)
    county_url = f"postgresql://{pg.host}:{pg.port}/{dbname}"
    # The bureau sets up the county server.
    assert _json(run_cli("county", "init", "--url", admin, "--json")) == {"version": 1}
    secrets = {code: _json(run_cli("county", "add-school", code, name, "--url", admin, "--json"))["secret"]
               for code, name in SCHOOLS.items()}
    bureau = _json(run_cli("county", "add-bureau", "jijiaoke", "--url", admin, "--json"))
    bureau_url = pg.url_for("jijiaoke", bureau["secret"], dbname)

    # Both schools enrol, the one-time secret on standard input, never on the command line.
    dbs = {code: str(tmp_path / f"{code}.db") for code in SCHOOLS}
    for code, db in dbs.items():
        r = _ok(run_cli("county", "enrol", "--url", county_url, "--school", code, "--db", db, "--user", "wangli",
                        input=secrets[code] + "\n"))
        assert secrets[code] not in r.stdout + r.stderr

    # The bureau's listener hears each school's change; the board's rows show it.
    heard: dict[str, float] = {}
    stop = threading.Event()
    listening = threading.Event()
    thread = threading.Thread(target=board.listen, daemon=True, args=(
        bureau_url, lambda school: heard.setdefault(school, time.monotonic()) if school else None, stop),
        kwargs={"on_state": lambda ok, _detail: listening.set() if ok else None})
    thread.start()
    try:
        assert listening.wait(10)
        codes, lag = {}, {}
        with psycopg.connect(bureau_url) as conn:
            for n, (code, db) in enumerate(dbs.items(), 1):
                codes[code] = _school_records_an_incident(db, f"学籍账号异常登录{n}")
                got = _json(run_cli("county", "sync", "--once", "--db", db, "--json"))
                synced = time.monotonic()
                assert got["pending"] == 0 and got["applied"] >= 1
                while True:
                    conn.commit()        # a fresh snapshot for each read
                    shown = {(r.incident.school, r.incident.code) for r in board.rows(board.read(conn), _now())}
                    if (code, codes[code]) in shown and code in heard:
                        break
                    assert time.monotonic() - synced < 2.0, (code, shown, heard)
                    time.sleep(0.05)
                lag[code] = time.monotonic() - synced
            conn.commit()
            shown = {(r.incident.school, r.incident.code) for r in board.rows(board.read(conn), _now())}
        assert shown == {("S001", codes["S001"]), ("S002", codes["S002"])}
        print(f"\ncounty board shows each school's sync after: "
              + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in lag.items()))
    finally:
        stop.set()
        thread.join(5)

    # The bureau's board (its login, the real CLI) shows both; a school's desk, without --url, its own only.
    got = _json(run_cli("county", "board", "--url", bureau_url, "--json"))
    assert {(x["school"], x["incident"]) for x in got["rows"]} == {("S001", codes["S001"]), ("S002", codes["S002"])}
    got = _json(run_cli("county", "board", "--db", dbs["S002"], "--json"))
    assert {(x["school"], x["incident"]) for x in got["rows"]} == {("S002", codes["S002"])}

    # S001's report screen is open (the app's own sender runs too, as on any enrolled desk) when
    # the bureau signs for that report; the school syncs and the receipt appears on the screen.
    app = make_app(tmp_path / "S001.db", Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("report", codes["S001"], "school_plan", "first", None)
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ReportScreen" and "已报送" in screen_text(app)
        assert "签收时间" not in screen_text(app)
        signed = await asyncio.to_thread(lambda: _json(run_cli(
            "county", "receipt", "S001", codes["S001"], "school_plan.first", "--url", bureau_url, "--json")))
        assert signed["signed_by"] == "jijiaoke" and signed["already"] is False
        got = await asyncio.to_thread(lambda: _json(run_cli("county", "sync", "--once", "--db", dbs["S001"],
                                                            "--json")))
        assert got["receipts"] in (0, 1)           # 0 when the app's sender fetched it first
        assert await wait_for(pilot, lambda: "签收时间" in screen_text(app), timeout=5)
        assert "确认人 jijiaoke" in screen_text(app)
        assert app.screen is screen
        with app.store.read():
            from models.tables import CountyReceipt
            assert [(c.incident_code, c.stage, c.signed_by) for c in CountyReceipt.select()] == [
                (codes["S001"], "first", "jijiaoke")]
    # The other school's desk has no receipt.
    r = _ok(run_cli("county", "sync", "--once", "--db", dbs["S002"], "--json"))
    assert json.loads(r.stdout)["receipts"] == 0


def _now():
    from datetime import datetime, timezone
    return datetime.now(timezone.utc)
