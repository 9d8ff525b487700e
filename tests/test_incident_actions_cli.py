"""``incident grade|handled|close|withdraw|note`` through the real command."""
import json

import pytest

from tests.conftest import run_cli


@pytest.fixture
def db(tmp_path):
    path = str(tmp_path / "cli.db")
    assert run_cli("init", "--school", "海峰中学", "--db", path).returncode == 0
    r = run_cli("incident", "new", "--title", "学籍账号异常登录", "--category", "network_attack",
                "--occurred", "-20m", "--user", "zhang", "--db", path)
    assert r.returncode == 0, r.stderr
    return path


def show(db):
    return json.loads(run_cli("incident", "show", "1", "--json", "--db", db).stdout)


def test_grade_note_handled_and_close_needs_final(db):
    r = run_cli("incident", "grade", "1", "较大", "--reason", "涉及全校学籍数据", "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr
    data = show(db)
    assert data["grade"] == "III" and data["grade_decided"] is True
    assert any(o["regime"] == "cac_2025" and o["state"] != "not_applicable" for o in data["obligations"])
    assert run_cli("incident", "note", "1", "已断开外网", "--user", "zhang", "--db", db).returncode == 0
    r = run_cli("incident", "handled", "1", "--at", "-1m", "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr
    assert show(db)["status"] == "handled"
    r = run_cli("incident", "close", "1", "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "终报" in r.stderr and "Traceback" not in r.stderr
    assert show(db)["status"] == "handled"
    assert run_cli("audit", "verify", "--db", db).returncode == 0


def test_withdraw_and_mistakes(db):
    r = run_cli("incident", "grade", "1", "V", "--reason", "x", "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "未知等级" in r.stderr
    r = run_cli("incident", "grade", "1", "IV", "--user", "zhang", "--db", db)
    assert r.returncode == 2          # --reason is required
    r = run_cli("incident", "handled", "1", "--at", "+3h", "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "晚于现在" in r.stderr
    r = run_cli("incident", "withdraw", "1", "--reason", " ", "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "必填" in r.stderr
    r = run_cli("incident", "withdraw", "1", "--reason", "演练误报", "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr
    assert show(db)["status"] == "withdrawn"
    r = run_cli("--lang", "en", "incident", "withdraw", "1", "--reason", "again", "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "withdrawn" in r.stderr
    r = run_cli("incident", "note", "9", "x", "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "找不到事件" in r.stderr
