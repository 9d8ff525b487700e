"""The report CLI in a real process: draft, submit, show, correct, export, and its messages."""
import json

from docx import Document

from tests.conftest import run_cli


def _env(tmp_path):
    return {"XUEJI_DUTY_DB": str(tmp_path / "cli.db")}


def _new(tmp_path):
    env = _env(tmp_path)
    r = run_cli("incident", "new", "--title", "学籍账号异常登录", "--category", "网络攻击事件",
                "--occurred", "-40m", "--user", "zhang", "--location", "教务处", env=env)
    assert r.returncode == 0, r.stderr
    return env


FIELDS = ["affected_scope=约120名学生", "damage=无", "threat=低", "trend=已控制",
          "measures_taken=改口令\\n断网", "next_steps=排查", "contact_phone=0874-1234567",
          "summary=异地登录", "info_source=巡检", "event_level=一般", "reporting_unit=海峰中学",
          "location=教务处"]


def test_draft_submit_show_correct_export(tmp_path):
    env = _new(tmp_path)
    r = run_cli("report", "draft", "2026-001", "first", "--user", "zhang", "--field", "damage=无", env=env)
    assert r.returncode == 0, r.stderr
    assert "尚缺" in r.stdout and "contact_phone" in r.stdout
    args = ["report", "submit", "2026-001", "first", "--user", "zhang", "--channel", "fax",
            "--recipient", "王科长", "--confirmed-by", "王科长"]
    for f in FIELDS:
        args += ["--field", f]
    r = run_cli(*args, env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("report", "show", "2026-001", "--json", env=env)
    data = json.loads(r.stdout)
    first = data["reports"][0]
    assert first["status"] == "submitted" and first["channel"] == "fax"
    assert first["fields"]["measures_taken"] == "改口令\n断网"
    # frozen: a draft on a submitted stage is refused with a message
    r = run_cli("report", "draft", "2026-001", "first", "--user", "zhang", "--field", "damage=x", env=env)
    assert r.returncode == 1 and "冻结" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("report", "correct", "2026-001", "first", "--user", "zhang", "--reason", "核实更正",
                "--field", "damage=一台终端损坏", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(run_cli("report", "show", "2026-001", "--json", env=env).stdout)
    assert [(x["revision"], x["status"]) for x in data["reports"]] == [(1, "superseded"), (2, "submitted")]
    out = tmp_path / "first.docx"
    r = run_cli("report", "export", "2026-001", "first", "--format", "docx", "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "一台终端损坏" in text and "（更正）" in text
    md = tmp_path / "first.md"
    r = run_cli("report", "export", "2026-001", "first", "--format", "md", "-o", str(md), env=env)
    assert r.returncode == 0 and "改口令" in md.read_text("utf-8")


def test_bad_input_gets_clear_messages(tmp_path):
    env = _new(tmp_path)
    r = run_cli("report", "draft", "2026-001", "first", "--user", "zhang", "--field", "nonsense=1", env=env)
    assert r.returncode == 1 and "nonsense" in r.stderr and "damage" in r.stderr
    r = run_cli("report", "draft", "2026-001", "first", "--user", "zhang", "--field", "no-equals", env=env)
    assert r.returncode == 1 and "NAME=VALUE" in r.stderr.replace("名称=内容", "NAME=VALUE")
    r = run_cli("report", "draft", "2026-001", "weekly", "--user", "zhang", env=env)
    assert r.returncode == 1 and "first" in r.stderr
    r = run_cli("report", "submit", "2026-001", "first", "--user", "zhang", "--channel", "fax", env=env)
    assert r.returncode == 1 and "接收人" in r.stderr
    r = run_cli("report", "submit", "2026-001", "first", "--user", "zhang", "--channel", "fax",
                "--recipient", "王", env=env)
    assert r.returncode == 1 and "必填" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("report", "export", "2026-001", "final", "--format", "docx", "-o", str(tmp_path / "x.docx"), env=env)
    assert r.returncode == 1 and "尚无" in r.stderr
    r = run_cli("report", "export", "2026-001", "first", "--format", "pdf", "-o", str(tmp_path / "x.pdf"), env=env)
    assert r.returncode == 1 and "docx" in r.stderr
    r = run_cli("report", "draft", "2026-999", "first", "--user", "zhang", env=env)
    assert r.returncode == 1 and "2026-999" in r.stderr


def test_late_submission_via_cli_needs_reason(tmp_path):
    env = _env(tmp_path)
    run_cli("incident", "new", "--title", "x", "--category", "网络攻击事件", "--occurred", "-4h",
            "--discovered", "-1h", "--delay-reason", "夜间无人值守", "--user", "zhang", env=env)
    args = ["report", "submit", "2026-001", "first", "--user", "zhang", "--channel", "phone", "--recipient", "王"]
    for f in FIELDS:
        args += ["--field", f]
    r = run_cli(*args, env=env)
    assert r.returncode == 1 and "迟报原因" in r.stderr
    r = run_cli(*args, "--late-reason", "夜间发现", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(run_cli("report", "show", "2026-001", "--json", env=env).stdout)
    assert data["reports"][0]["late_reason"] == "夜间发现"
