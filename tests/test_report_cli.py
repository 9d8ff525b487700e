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
            "--recipient", "王科长", "--confirmed-by", "王科长", "--before-oral-reason", "电话未接通"]
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
    r = run_cli("report", "export", "2026-001", "first", "--format", "odt", "-o", str(tmp_path / "x.odt"), env=env)
    assert r.returncode == 1 and "docx" in r.stderr
    r = run_cli("report", "draft", "2026-999", "first", "--user", "zhang", env=env)
    assert r.returncode == 1 and "2026-999" in r.stderr


def test_late_submission_via_cli_needs_reason(tmp_path):
    env = _env(tmp_path)
    run_cli("incident", "new", "--title", "x", "--category", "网络攻击事件", "--occurred", "-4h",
            "--discovered", "-1h", "--delay-reason", "夜间无人值守", "--user", "zhang", env=env)
    args = ["report", "submit", "2026-001", "first", "--user", "zhang", "--channel", "phone", "--recipient", "王",
            "--before-oral-reason", "电话未接通"]
    for f in FIELDS:
        args += ["--field", f]
    r = run_cli(*args, env=env)
    assert r.returncode == 1 and "迟报原因" in r.stderr
    r = run_cli(*args, "--late-reason", "夜间发现", env=env)
    assert r.returncode == 0, r.stderr
    data = json.loads(run_cli("report", "show", "2026-001", "--json", env=env).stdout)
    assert data["reports"][0]["late_reason"] == "夜间发现"


def test_english_interface_exports_chinese_documents_without_internal_values(tmp_path):
    """Under LANG=C.UTF-8 and --lang en the prefills and the exports stay Chinese (issue 16)."""
    env = {**_env(tmp_path), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    r = run_cli("--lang", "en", "incident", "new", "--title", "学籍账号异常登录", "--category", "network_attack",
                "--subcategory", "credential_attack", "--grade", "IV", "--occurred", "-40m", "--user", "zhang",
                "--location", "教务处", env=env)
    assert r.returncode == 0, r.stderr
    args = ["--lang", "en", "report", "submit", "2026-001", "first", "--user", "zhang", "--channel", "phone",
            "--recipient", "王科长", "--before-oral-reason", "电话未接通"]
    for f in FIELDS:
        if not f.startswith("event_level="):
            args += ["--field", f]
    r = run_cli(*args, env=env)
    assert r.returncode == 0, r.stderr
    texts = {}
    for fmt in ("docx", "txt", "md", "short"):
        out = tmp_path / f"en.{fmt}"
        r = run_cli("--lang", "en", "report", "export", "2026-001", "first", "--format", fmt, "-o", str(out), env=env)
        assert r.returncode == 0, r.stderr
        texts[fmt] = ("\n".join(p.text for p in Document(str(out)).paragraphs) if fmt == "docx"
                      else out.read_text("utf-8"))
    assert "一般（Ⅳ级）" in texts["docx"] and "网络攻击事件" in texts["docx"]
    for fmt, text in texts.items():
        for leak in ("Network", "General", "network_attack", "credential", "(IV)", "（IV）", "phone", "zhang",
                     "Discovered", "First report", "Recipient", "submitted", "school_plan"):
            assert leak not in text, (fmt, leak)
        assert "报送方式：电话" in text or fmt == "short"
    # and the default file name, in the current folder
    r = run_cli("--lang", "en", "report", "export", "2026-001", "first", "-o", str(tmp_path), env=env)
    assert r.returncode == 0 and (tmp_path / "2026-001-首报.docx").exists(), r.stderr


def test_officer_title_with_its_own_line_break(tmp_path):
    env = _new(tmp_path)
    assert run_cli("report", "draft", "2026-001", "first", "--user", "zhang", env=env).returncode == 0
    out = tmp_path / "t.docx"
    r = run_cli("report", "export", "2026-001", "first", "-o", str(out), "--title",
                "关于海峰中学学籍账号|异常登录事件的首报", env=env)
    assert r.returncode == 0, r.stderr
    title = Document(str(out)).paragraphs[0]
    assert title.text == "关于海峰中学学籍账号\n异常登录事件的首报"
