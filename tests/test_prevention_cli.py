"""The prevention commands through the real CLI in a subprocess."""
import json

from tests.conftest import run_cli


def _cli(db, *args, lang="zh"):
    return run_cli("--db", str(db), "--lang", lang, *args)


def test_check_list_done_and_show(tmp_path):
    db = tmp_path / "d.db"
    r = _cli(db, "check", "list", "--json")
    assert r.returncode == 0, r.stderr
    checks = json.loads(r.stdout)
    assert {c["builtin"] for c in checks} >= {"hazard_check", "five_looks", "drill"}
    sec = next(c for c in checks if c["builtin"] == "security_check")
    r = _cli(db, "check", "done", str(sec["id"]), "--fail", "1", "--user", "zhang")
    assert r.returncode == 1 and "发现的问题" in r.stderr   # an unticked item needs findings
    r = _cli(db, "check", "done", str(sec["id"]), "--fail", "1", "--findings", "病毒库过期", "--user", "zhang",
             "--follow-up", "更新病毒库", "--follow-up-due", "+2d", "--json")
    assert r.returncode == 0, r.stderr
    done = json.loads(r.stdout)
    assert done["next_due"] > sec["next_due"] and done["follow_up"]
    r = _cli(db, "check", "show", str(sec["id"]), "--json")
    runs = json.loads(r.stdout)["runs"]
    assert runs[0]["done_by"] == "zhang" and runs[0]["findings"] == "病毒库过期"
    assert [k for k, ok in runs[0]["items"].items() if not ok][0].startswith("杀毒软件")
    r = _cli(db, "check", "list", "--due")
    assert "更新病毒库" not in r.stdout   # due in two days, not today
    r = _cli(db, "check", "list", "--due", "--at", "+3d")
    assert "更新病毒库" in r.stdout and "逾期 1 天" in r.stdout


def test_check_add_edit_and_errors(tmp_path):
    db = tmp_path / "d.db"
    r = _cli(db, "check", "add", "--title", "机房巡查", "--cadence", "every_n_days", "--every-days", "3",
             "--item", "门锁", "--item", "温度", "--due", "2030-01-31", "--user", "li", "--json")
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)
    assert row["items"] == ["门锁", "温度"] and row["next_due"] == "2030-01-31"
    r = _cli(db, "check", "edit", str(row["id"]), "--active", "no", "--user", "li", "--json")
    assert json.loads(r.stdout)["state"] == "inactive"
    r = _cli(db, "check", "done", "999", "--user", "li")
    assert r.returncode == 1 and "找不到检查项 999" in r.stderr and "Traceback" not in r.stderr
    r = _cli(db, "check", "add", "--title", "x", "--cadence", "every_n_days", "--user", "li")
    assert r.returncode == 1 and "间隔天数" in r.stderr


def test_bare_check_runs_the_integrity_check_or_says_not_yet(tmp_path):
    from pathlib import Path
    r = _cli(tmp_path / "d.db", "check")
    integrity = Path(__file__).resolve().parent.parent / "tui" / "commands" / "_integrity.py"
    if integrity.exists():
        assert "Traceback" not in r.stderr and r.returncode in (0, 1)
    else:
        assert r.returncode == 1 and "尚未" in r.stderr


def test_warning_add_list_done_lift(tmp_path):
    db = tmp_path / "d.db"
    r = _cli(db, "warning", "add", "--level", "橙", "--source", "县教育局", "--content", "钓鱼邮件预警",
             "--until", "+2d", "--action", "教务处:排查终端", "--action", "学籍管理员：更换口令",
             "--user", "zhang", "--json")
    assert r.returncode == 0, r.stderr
    w = json.loads(r.stdout)
    assert w["level"] == "orange" and [a["department"] for a in w["actions"]] == ["教务处", "学籍管理员"]
    r = _cli(db, "warning", "done", str(w["actions"][0]["id"]), "--user", "wang")
    assert r.returncode == 0
    r = _cli(db, "warning", "list")
    assert "橙色预警（Ⅱ级）" in r.stdout and "(1/2)" in r.stdout and "wang" in r.stdout
    r = _cli(db, "warning", "lift", str(w["id"]), "--reason", "解除", "--user", "zhang")
    assert r.returncode == 0 and "zhang" in r.stdout
    assert "没有生效中的预警" in _cli(db, "warning", "list").stdout
    assert "已解除" in _cli(db, "warning", "list", "--all").stdout
    r = _cli(db, "warning", "add", "--level", "紫", "--source", "x", "--content", "y", "--user", "zhang")
    assert r.returncode == 1 and "预警级别" in r.stderr
    r = _cli(db, "warning", "add", "--level", "red", "--source", "x", "--content", "y", "--action", "noseparator",
             "--user", "zhang")
    assert r.returncode == 1 and "部门:措施" in r.stderr
