"""Issue 12 through the real command: the record never lies.

A first report that was never sent cannot vanish at close: only a leader, with a
reason, can close over it, and afterwards ``incident show`` says missed, with that reason.
"""
import json

import pytest

from tests.conftest import run_cli

ADMIN_PW = "Admin-pass-2026"
OFFICER_PW = "Zhang-pass-2026"
LEADER_PW = "Li-leader-2026"


def as_user(db, user, pw, *args, input_extra=""):
    return run_cli(*args, "--user", user, "--password-stdin", "--db", db, input=pw + "\n" + input_extra)


@pytest.fixture(scope="module")
def accounts_db(tmp_path_factory):
    """A database with an admin, an officer and a leader (built once: scrypt is slow on purpose)."""
    path = str(tmp_path_factory.mktemp("record") / "base.db")
    assert run_cli("init", "--school", "海峰中学", "--admin", "admin", "--password-stdin", "--db", path,
                   input=ADMIN_PW + "\n").returncode == 0
    for name, role, pw in (("zhang", "officer", OFFICER_PW), ("li", "leader", LEADER_PW)):
        r = as_user(path, "admin", ADMIN_PW, "user", "add", name, "--role", role, input_extra=pw + "\n")
        assert r.returncode == 0, r.stderr
    return path


@pytest.fixture
def db(accounts_db, tmp_path):
    import shutil
    from pathlib import Path
    # The whole folder: the database keeps files beside it (its audit key, its evidence).
    src = Path(accounts_db)
    shutil.copytree(src.parent, tmp_path / "copy")
    return str(tmp_path / "copy" / src.name)


def show(db, *extra):
    r = run_cli("incident", "show", "1", "--json", *extra, "--db", db)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def states(data):
    return {(o["regime"], o["stage"]): o for o in data["obligations"]}


def test_walkthrough_first_report_never_sent_is_missed_with_the_leaders_reason(db):
    r = as_user(db, "zhang", OFFICER_PW, "incident", "new", "--title", "学籍系统被植入后门", "--category",
                "network_attack", "--occurred=-5h", "--discovered=-290m", "--grade", "一般")
    assert r.returncode == 0, r.stderr
    assert states(show(db))[("school_plan", "first")]["state"] == "overdue"
    assert as_user(db, "zhang", OFFICER_PW, "incident", "handled", "1", "--at=-1h").returncode == 0

    # An officer cannot close at all; a leader without reasons gets the checklist and exit 1.
    r = as_user(db, "zhang", OFFICER_PW, "incident", "close", "1", "--over", "不需要")
    assert r.returncode == 1 and "权限不足" in r.stderr and "Traceback" not in r.stderr
    r = as_user(db, "li", LEADER_PW, "incident", "close", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "结案检查清单" in r.stdout and "首报" in r.stdout and "法定" in r.stdout
    lines = r.stdout.splitlines()
    first_line = next(i for i, line in enumerate(lines) if "首报" in line)
    final_line = next(i for i, line in enumerate(lines) if "终报" in line)
    assert first_line < final_line                     # statutory first
    assert "首报" in r.stderr and "理由" in r.stderr
    assert show(db)["status"] == "handled"

    # A reason for the first report alone is not enough: the oral and final reports are owed too.
    over_first = ("--over", "school_plan.first=局领导当晚电话指示先处置，书面首报未能按时报送")
    r = as_user(db, "li", LEADER_PW, "incident", "close", "1", *over_first)
    assert r.returncode == 1 and "口头报告" in r.stderr and "终报" in r.stderr and "首报" not in r.stderr
    r = as_user(db, "li", LEADER_PW, "incident", "close", "1", "--over", "school_plan.nonsense=x")
    assert r.returncode == 1 and "school_plan.first" in r.stderr

    r = as_user(db, "li", LEADER_PW, "incident", "close", "1", *over_first, "--over", "事后补记，未报送")
    assert r.returncode == 0, r.stderr
    data = show(db)
    assert data["status"] == "closed"
    first = states(data)[("school_plan", "first")]
    assert first["state"] == "missed" and first["due_at"] is not None
    assert first["note"] == "局领导当晚电话指示先处置，书面首报未能按时报送"
    assert states(data)[("school_plan", "oral")]["note"] == "事后补记，未报送"
    assert states(data)[("school_plan", "final")]["state"] == "missed"
    # Never relabelled: nothing that was owed reads not applicable.
    assert not [o for o in data["obligations"] if o["state"] == "not_applicable"
                and o["regime"] == "school_plan" and o["stage"] in ("oral", "first", "final")]

    text = run_cli("incident", "show", "1", "--db", db).stdout
    line = next(line for line in text.splitlines() if "首报" in line)
    assert "逾期未报" in line and "局领导当晚电话指示先处置" in line
    # deadlines --all keeps the closed incident's missed reports.
    r = run_cli("deadlines", "--all", "--json", "--db", db)
    missed = [o for o in json.loads(r.stdout) if o["state"] == "missed"]
    assert {o["stage"] for o in missed} >= {"oral", "first", "final"}
    r = run_cli("--lang", "en", "incident", "show", "1", "--db", db)
    assert "missed" in r.stdout
    # Audited, with the reasons, and the chain holds.
    assert run_cli("audit", "verify", "--db", db).returncode == 0
    r = run_cli("audit", "list", "--json", "--db", db)
    if r.returncode == 0 and r.stdout.strip().startswith("["):
        events = [e for e in json.loads(r.stdout) if e.get("action") == "incident.close"]
        assert events and "局领导当晚电话指示先处置" in json.dumps(events, ensure_ascii=False)


@pytest.fixture
def plain_db(tmp_path):
    """No accounts: ``--user`` is taken as given (fast: no password hashing)."""
    path = str(tmp_path / "plain.db")
    assert run_cli("init", "--school", "海峰中学", "--db", path).returncode == 0
    return path


def test_a_late_call_that_is_the_oral_report_asks_why(plain_db):
    db = plain_db
    assert run_cli("contact", "edit", "bureau", "--name", "李科长", "--office", "0874-3000000",
                   "--user", "admin", "--db", db).returncode == 0
    inc = json.loads(run_cli("incident", "new", "--title", "学籍系统中毒", "--category", "malware",
                             "--occurred=-90m", "--discovered=-80m", "--json", "--user", "admin",
                             "--db", db).stdout)
    base = ("call", "log", inc["code"], "--contact", "bureau", "--outcome", "reached", "--notes", "已报告中毒情况",
            "--user", "admin", "--db", db)
    r = run_cli(*base)
    assert r.returncode == 1 and "迟报原因" in r.stderr and "Traceback" not in r.stderr
    assert json.loads(run_cli("call", "list", inc["code"], "--json", "--db", db).stdout)["calls"] == []
    r = run_cli(*base, "--late-reason", "值班电话占线，改用手机")
    assert r.returncode == 0, r.stderr
    shown = json.loads(run_cli("report", "show", inc["code"], "--json", "--db", db).stdout)
    oral = next(x for x in shown["reports"] if x["stage"] == "oral")
    assert oral["late_reason"] == "值班电话占线，改用手机"


def test_show_at_counts_only_what_the_record_held_then(plain_db):
    db = plain_db
    r = run_cli("incident", "new", "--title", "学籍数据误删", "--category", "data_security",
                "--occurred=-2h", "--discovered=-110m", "--user", "admin", "--db", db)
    assert r.returncode == 0, r.stderr
    # Before the incident occurred (and was recorded): nothing is owed, and it says so.
    r = run_cli("incident", "show", "1", "--at=-3h", "--db", db)
    assert r.returncode == 0 and "尚未登记" in r.stdout
    data = json.loads(run_cli("incident", "show", "1", "--at=-3h", "--json", "--db", db).stdout)
    assert data["obligations"] == [] and data["recorded"] is False
    assert json.loads(run_cli("deadlines", "--at=-3h", "--json", "--db", db).stdout) == []
    # Now: the first report is still owed; a report sent later does not count as of now.
    now = {o["stage"]: o["state"] for o in show(db, "--at", "now")["obligations"]}
    assert now["first"] == "due_soon" and now["oral"] == "overdue"
    r = run_cli("deadlines", "--at", "now", "--json", "--db", db)
    assert {o["stage"] for o in json.loads(r.stdout)} >= {"first", "oral"}
