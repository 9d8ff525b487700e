"""Host zone UTC, school zone Asia/Shanghai: the CLI shows Shanghai time and names the zone."""
import json

from tests.conftest import run_cli


def test_cli_shows_school_zone_on_a_utc_host(tmp_path):
    db = str(tmp_path / "z.db")
    env = {"TZ": "UTC", "XUEJI_DUTY_DB": db}
    assert run_cli("init", "--school", "海峰中学", env=env).returncode == 0
    r = run_cli("incident", "new", "--title", "断网", "--category", "facility_failure",
                "--occurred", "2026-11-25T23:30+08:00", "--discovered", "2026-11-25T23:40+08:00",
                "--user", "a", env=env)
    assert r.returncode == 0, r.stderr
    # Issue 12: --at shows the record as it stood then, and the incident is recorded only now
    # (the CLI runs on the real clock), so the zone is checked on today's list.
    r = run_cli("deadlines", "--all", "--json", env=env)
    rows = {row["stage"]: row for row in json.loads(r.stdout)}
    assert rows["first"]["due_at"] == "2026-11-26T02:30:00+08:00"   # crosses midnight
    text = run_cli("deadlines", "--all", env=env).stdout
    assert "2026-11-26 02:30 CST" in text
    r = run_cli("deadlines", "--at", "2026-11-26T00:10+08:00", "--json", env=env)
    assert json.loads(r.stdout) == []                               # not yet recorded then
