"""``xueji-duty doctor``: each area says what it saw and what to do."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from models import diagnostics as dx
from models.i18n import set_language
from tests.conftest import run_cli


def by_area(rows, area):
    return [r for r in rows if r["area"] == area]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_doctor_reports_keyring_database_terminal_and_zones(tmp_path):
    db = tmp_path / "d.db"
    assert run_cli("init", "--school", "海峰中学", "--db", str(db)).returncode == 0
    os.chmod(db, 0o644)
    r = run_cli("doctor", "--json", "--db", str(db), env={"TERM": "dumb", "COLORTERM": ""})
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {r["area"] for r in rows} == {"keyring", "database", "terminal", "timezone", "fonts"}
    key = by_area(rows, "keyring")[0]
    assert key["status"] == "warn" and "fail.Keyring" in key["what"] and "普通文件" in key["todo"]
    dbrows = by_area(rows, "database")
    assert any("0644" in r["what"] and r["status"] == "warn" and "chmod 660" in r["todo"] for r in dbrows)
    assert any(r["status"] == "warn" and "--user" in r["what"] for r in dbrows)    # bootstrap mode
    assert any(r["status"] == "warn" and "TERM=dumb" in r["what"] for r in by_area(rows, "terminal"))
    assert any("Asia/Shanghai" in r["what"] for r in by_area(rows, "timezone"))
    os.chmod(db, 0o600)
    rows = json.loads(run_cli("doctor", "--json", "--db", str(db)).stdout)
    assert any("0600" in r["what"] and r["status"] == "ok" for r in by_area(rows, "database"))


def test_doctor_text_output_and_a_broken_database_exit_1(tmp_path):
    bogus = tmp_path / "x.db"
    bogus.write_text("not a database")
    r = run_cli("doctor", "--db", str(bogus))
    assert r.returncode == 1 and "[XX]" in r.stdout and "不是学籍应急值守台的数据库" in r.stdout
    assert bogus.read_text() == "not a database"
    r = run_cli("doctor", "--db", str(tmp_path / "none.db"))
    assert r.returncode == 0 and "不存在" in r.stdout and "→" in r.stdout
    assert not (tmp_path / "none.db").exists()     # the doctor does not create it


def test_doctor_sees_a_remembered_login(tmp_path):
    db = str(tmp_path / "k.db")
    kenv = {"PYTHON_KEYRING_BACKEND": "tests.keyrings.FileKeyring",
            "XUEJI_TEST_KEYRING_FILE": str(tmp_path / "kr.json")}
    run_cli("init", "--school", "海峰中学", "--admin", "wang", "--password-stdin", "--db", db, input="Wang-pass-2026\n")
    assert run_cli("login", "--user", "wang", "--password-stdin", "--db", db, input="Wang-pass-2026\n",
                   env=kenv).returncode == 0
    rows = json.loads(run_cli("doctor", "--json", "--db", db, env=kenv).stdout)
    assert by_area(rows, "keyring")[0]["status"] == "ok"
    assert any("wang" in r["what"] for r in by_area(rows, "keyring"))


def test_terminal_and_zone_findings_say_what_to_do():
    set_language("en")
    small = dx.terminal_findings({"TERM": "xterm-256color", "SSH_CONNECTION": "203.0.113.5 1 2 22"},
                                 size=(79, 24), encoding="latin-1")
    text = {f.what: f for f in small}
    assert any(f.status == "warn" and "79×24" in f.what and "80×24" in f.todo for f in small)
    assert any("203.0.113.5" in w for w in text) and any("LANG=zh_CN.UTF-8" in f.todo for f in small)
    now = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    same = dx.timezone_findings("Asia/Shanghai", now=now, host="Asia/Shanghai", host_offset=timedelta(hours=8))
    differs = dx.timezone_findings("Asia/Shanghai", now=now, host="Etc/UTC", host_offset=timedelta(0))
    assert "10:00" in same[0].what and not any("differs" in f.what for f in same)
    assert any("differs" in f.what and f.todo for f in differs)
    assert dx.timezone_findings("Mars/Olympus", now=now)[0].status == "fail"
