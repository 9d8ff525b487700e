"""``county receipt``: the bureau signs for a school's submitted report, through the real CLI
against a real PostgreSQL; every refusal is one clear line."""
import json

import psycopg
import pytest

from models.county import server
from tests.conftest import run_cli
from tests.pgcluster import make_county

SENT = {"regime": "school_plan", "stage": "first", "seq": 1, "revision": 1,
        "submitted_at": "2026-11-25T03:00:00+00:00", "submitted_by": "wangli",
        "channel": "fax", "recipient": "县教育局"}


def _incident(code, reports=(), obligations=None):
    if obligations is None:
        obligations = [{"regime": "school_plan", "stage": "first", "seq": 1, "state": "submitted",
                        "due_at": "2026-11-25T05:00:00+00:00", "submitted_at": "2026-11-25T03:00:00+00:00",
                        "statutory": True},
                       {"regime": "school_plan", "stage": "final", "seq": 1, "state": "pending",
                        "due_at": "2026-12-25T05:00:00+00:00", "submitted_at": None, "statutory": False}]
    return (f"incident:{code}", 1, {"code": code, "title": "勒索病毒", "category": "malware", "grade": "III",
                                    "grade_decided": True, "status": "open", "is_drill": False,
                                    "occurred_at": "2026-11-25T02:00:00+00:00",
                                    "discovered_at": "2026-11-25T02:10:00+00:00",
                                    "updated_at": "2026-11-25T03:00:00+00:00",
                                    "obligations": obligations, "reports": list(reports)})


@pytest.fixture(scope="module")
def county(pg):
    county = make_county(pg, ("S001",))
    with psycopg.connect(county["S001"]) as conn:
        server.apply_changes(conn, "S001", [_incident("XJ-1", reports=[SENT]), _incident("XJ-2")])
    return county


def _out(r):
    return r.stdout + r.stderr


def test_the_bureau_signs_with_its_login_and_the_servers_time(county):
    r = run_cli("county", "receipt", "S001", "XJ-1", "school_plan.first", "--url", county["bureau"], "--json")
    assert r.returncode == 0, _out(r)
    got = json.loads(r.stdout)
    assert (got["school"], got["incident"], got["regime"], got["stage"], got["seq"]) == (
        "S001", "XJ-1", "school_plan", "first", 1)
    assert got["signed_by"] == "jijiaoke" and got["already"] is False
    with psycopg.connect(county["S001"]) as conn:   # the school reads it back (its own row)
        rows = server.receipts_for(conn)
    assert [(x["incident_code"], x["signed_by"]) for x in rows] == [("XJ-1", "jijiaoke")]
    assert rows[0]["signed_at"].isoformat() == got["signed_at"]
    # Signing again (a bare stage name, the URL from the environment) keeps the first signature.
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", env={"XUEJI_DUTY_COUNTY_URL": county["bureau"]})
    assert r.returncode == 0, _out(r)
    assert "此前已签收" in r.stdout and "jijiaoke" in r.stdout
    # 首报 names the same stage.
    r = run_cli("county", "receipt", "S001", "XJ-1", "首报", "--url", county["bureau"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["signed_at"] == got["signed_at"]


@pytest.mark.parametrize("args, words", [
    (("S009", "XJ-1", "school_plan.first"), "没有登记学校 S009"),
    (("S001", "XJ-404", "school_plan.first"), "没有 S001 的事件 XJ-404"),
    (("S001", "XJ-1", "school_plan.fist"), "不认识报告阶段"),
    (("S001", "XJ-1", "nonsense"), "school_plan.first"),
    (("S001", "XJ-2", "school_plan.first"), "无法签收"),          # held, but not submitted
    (("S001", "XJ-1", "school_plan.first", "--seq", "2"), "第 2 次"),
    (("S001", "XJ-1", "school_plan.first", "--seq", "0"), "--seq"),
])
def test_what_cannot_be_signed_is_one_clear_line(county, args, words):
    r = run_cli("county", "receipt", *args, "--url", county["bureau"])
    assert r.returncode == 1, _out(r)
    assert words in _out(r) and "Traceback" not in _out(r)


def test_ambiguous_stage_is_settled_by_what_the_county_holds(county):
    # ``final`` is the school plan's and NIS2's; the county holds only the school plan's for XJ-1,
    # and no report of it: the stage is resolved, then refused as not submitted.
    r = run_cli("county", "receipt", "S001", "XJ-1", "final", "--url", county["bureau"])
    assert r.returncode == 1 and "school_plan.final" in _out(r) and "无法签收" in _out(r)


def test_a_school_login_cannot_sign(county):
    r = run_cli("county", "receipt", "S001", "XJ-1", "school_plan.first", "--url", county["S001"])
    assert r.returncode == 1 and "拒绝" in _out(r) and "Traceback" not in _out(r)
    r = run_cli("county", "receipt", "S001", "XJ-1", "school_plan.first")
    assert r.returncode == 2 or (r.returncode == 1 and "--url" in _out(r))


def test_an_unreachable_server_is_one_line(pg):
    r = run_cli("county", "receipt", "S001", "XJ-1", "first",
                "--url", f"postgresql://jijiaoke:x@127.0.0.1:{pg.port + 1}/county")
    assert r.returncode == 1 and "连不上县级服务器" in _out(r) and "Traceback" not in _out(r)
    r = run_cli("--lang", "en", "county", "receipt", "S001", "XJ-1", "nonsense", "--url", "mysql://x")
    assert r.returncode == 1 and "postgresql://" in _out(r) and "Traceback" not in _out(r)
