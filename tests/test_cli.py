"""The real command in real processes: exit codes, JSON shapes, messages without tracebacks."""
import json

import pytest

from tests.conftest import run_cli
from tests.db_templates import copy_of


def _init(path) -> None:
    r = run_cli("init", "--school", "海峰中学", "--db", str(path))
    assert r.returncode == 0, r.stderr


@pytest.fixture
def db(tmp_path_factory, tmp_path):
    """A copy of a database the real ``init`` made once (a process each, ~1 s, for 13 tests)."""
    return str(copy_of("test_cli.db", "cli.db", _init, tmp_path_factory, tmp_path))


def test_init_refuses_to_reinitialise_without_force(db):
    r = run_cli("init", "--school", "别的学校", "--db", db)
    assert r.returncode == 1 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert run_cli("init", "--school", "海峰中学", "--db", db, "--force").returncode == 0


def test_incident_new_list_show_and_deadlines(db):
    r = run_cli("incident", "new", "--title", "学籍系统中毒", "--category", "有害程序事件",
                "--subcategory", "ransomware", "--occurred", "-40m", "--grade", "较大", "--location", "教务处",
                "--personal-info", "--json", "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout)
    assert created["code"].endswith("-001") and created["category"] == "malware"
    assert created["subcategory"] == "ransomware" and created["grade"] == "III"
    stages = {o["stage"]: o for o in created["obligations"]}
    assert stages["first"]["state"] == "pending" and stages["initial"]["regime"] == "cac_2025"

    listed = json.loads(run_cli("incident", "list", "--json", "--db", db).stdout)
    assert [i["code"] for i in listed] == [created["code"]]
    shown = json.loads(run_cli("incident", "show", created["code"], "--json", "--db", db).stdout)
    assert shown["location"] == "教务处"

    rows = json.loads(run_cli("deadlines", "--json", "--db", db).stdout)
    assert rows and {"incident", "code", "regime", "stage", "due_at", "state", "seconds_left"} <= set(rows[0])
    assert rows[0]["due_at"].endswith("+08:00")
    assert [r["seconds_left"] for r in rows] == sorted(r["seconds_left"] for r in rows)
    later = json.loads(run_cli("deadlines", "--json", "--at", "+5h", "--db", db).stdout)
    assert any(r["state"] == "overdue" for r in later)


@pytest.mark.parametrize("args, code, needle", [
    (["incident", "new", "--title", "x", "--category", "nonsense", "--occurred", "now", "--user", "a"], 1, "nonsense"),
    (["incident", "new", "--title", "x", "--category", "malware", "--occurred", "明天", "--user", "a"], 1, "-90m"),
    (["incident", "new", "--title", "x", "--category", "malware", "--occurred", "+2h", "--user", "a"], 1, "晚于现在"),
    (["incident", "new", "--title", " ", "--category", "malware", "--occurred", "now", "--user", "a"], 1, "必填"),
    (["incident", "new", "--title", "x", "--category", "malware", "--occurred", "-5h", "--user", "a"], 1, "迟报原因"),
    (["incident", "new", "--title", "x", "--category", "malware", "--occurred", "now"], 1, "--user"),
    (["incident", "show", "2026-999"], 1, "2026-999"),
    (["incident", "frobnicate"], 2, "invalid choice"),
    (["deadlines", "--at", "yesterday-ish"], 1, "-90m"),
])
def test_mistakes_get_a_message_and_the_right_exit_code(db, args, code, needle):
    r = run_cli(*args, "--db", db)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert needle in r.stderr
    assert "Traceback" not in r.stderr


def test_english_messages(db):
    r = run_cli("--lang", "en", "incident", "show", "nope", "--db", db)
    assert r.returncode == 1 and "No incident nope" in r.stderr


def test_a_foreign_file_is_refused_with_a_message(tmp_path):
    bogus = tmp_path / "x.db"
    bogus.write_text("hello")
    r = run_cli("incident", "list", "--db", str(bogus))
    assert r.returncode == 1 and "不是学籍应急值守台的数据库" in r.stderr
    assert bogus.read_text() == "hello"


def test_config_file_sets_language_and_a_broken_one_is_reported(tmp_path, db):
    cfg = tmp_path / "c.toml"
    cfg.write_text('language = "en"\n', encoding="utf-8")
    r = run_cli("incident", "show", "nope", "--db", db, "--config", str(cfg))
    assert "No incident" in r.stderr
    cfg.write_text("language = [unclosed\n", encoding="utf-8")
    r = run_cli("incident", "list", "--db", db, "--config", str(cfg))
    assert r.returncode == 1 and str(cfg) in r.stderr and "Traceback" not in r.stderr
