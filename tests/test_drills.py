"""Drills: marked everywhere, never in statistics or real lists, and a summary that says 演练."""
import io
import json
import zipfile
from datetime import timedelta

import pytest

from models.drills import end_drill, summarize, to_docx, to_markdown
from models.errors import ValidationError
from models.incidents import IncidentInput, create_incident, list_incidents
from models.stats import incident_stats
from models.tables import CallLog, Note, Report
from tests.conftest import T0, run_cli


def _drill(ctx, **kw):
    return create_incident(ctx, IncidentInput(title="演练：学籍数据被导出外传", category="data_security",
                                              occurred_at=T0 - timedelta(minutes=30),
                                              discovered_at=T0 - timedelta(minutes=20), is_drill=True, **kw))


def _real(ctx):
    return create_incident(ctx, IncidentInput(title="学籍账号异常登录", category="network_attack",
                                              occurred_at=T0 - timedelta(minutes=10), discovered_at=T0))


def test_drills_are_left_out_of_statistics_and_real_lists(ctx):
    _drill(ctx)
    real = _real(ctx)
    assert [i.id for i in list_incidents(include_drills=False)] == [real.id]
    s = incident_stats()
    assert s.total == 1 and s.by_category == {"network_attack": 1} and s.drills_held == 1


def test_summary_times_each_stage_and_lists_calls_and_problems(ctx, clock):
    drill = _drill(ctx)
    # The oral report (30 min after discovery) is made 40 min in: 10 min late.
    Report.create(incident=drill, regime="school_plan", stage="oral", fields={}, status="submitted",
                  submitted_at=T0 + timedelta(minutes=20), created_at=T0, updated_at=T0)
    CallLog.create(incident=drill, contact_name="陈云柱", contact_role="组长", number="139", outcome="no_answer",
                   at=T0 - timedelta(minutes=15))
    CallLog.create(incident=drill, contact_name="张学荣", contact_role="副组长", number="138", outcome="reached",
                   at=T0 - timedelta(minutes=12))
    clock.advance(hours=4)     # the first report (3 h after occurrence) was never sent
    ended = end_drill(ctx, drill.id, "首报模板找不到，耽误时间")
    assert ended.status == "closed" and ended.closed_at == clock.now()
    s = summarize(ctx, drill.id)
    by_name = {r.name: r for r in s.stages}
    oral = by_name["口头报告"]
    assert oral.state == "met_late" and oral.allowed_s == 30 * 60 and oral.took_s == 40 * 60
    assert by_name["首报"].state == "overdue" and by_name["首报"].done_at is None
    assert [c.name for c in s.calls] == ["陈云柱", "张学荣"] and s.calls[0].since_start_s == 5 * 60
    text = "\n".join(s.problems)
    assert "口头报告超时10分钟完成" in text and "首报至演练结束仍未完成" in text and "陈云柱" in text
    assert any("首报模板找不到" in n[2] for n in s.notes)
    md = to_markdown(ctx, s)
    assert md.startswith("# ") and "演练" in md.splitlines()[0]
    assert "| 口头报告 |" in md and "超时完成" in md and "（限30分钟）" in md
    doc = to_docx(ctx, s)
    with zipfile.ZipFile(io.BytesIO(doc)) as z:
        body = z.read("word/document.xml").decode("utf-8")
        core = z.read("docProps/core.xml").decode("utf-8")
    assert "演练" in core and "应急演练总结" in body and "陈云柱" in body
    # its own layout: a table of steps (planned, actual, who), Chinese durations, 【演练】 first
    from docx import Document
    d = Document(io.BytesIO(doc))
    assert d.paragraphs[0].text.startswith("【演练】")
    head = [c.text for c in d.tables[0].rows[0].cells]
    assert head == ["环节", "计划时限", "实际完成", "用时", "完成人", "结果"]
    oral_row = [c.text for c in d.tables[0].rows[1].cells]
    assert oral_row[0] == "口头报告" and oral_row[3] == "40分钟（限30分钟）" and oral_row[5] == "超时完成"
    everything = body + md
    for leak in ("10m", "2h", "T02:", "+08:00", "(academic_affairs)", "tester", "overdue", "met_late"):
        assert leak not in everything, leak


def test_drill_end_at_a_given_time_and_chinese_durations(ctx, clock):
    drill = _drill(ctx)
    clock.advance(hours=3)
    from models.timeparse import parse_time
    at = parse_time("-5m", now=clock.now(), zone=ctx.zone)
    ended = end_drill(ctx, drill.id, at=at)
    assert ended.closed_at == at
    s = summarize(ctx, drill.id)
    md = to_markdown(ctx, s)
    assert "历时**：3小时15分" in md      # discovery 20 min before T0, ended 5 min before T0+3h
    with pytest.raises(ValidationError):
        end_drill(ctx, _drill(ctx).id, at=clock.now() + timedelta(hours=1))
    with pytest.raises(ValidationError):
        end_drill(ctx, _drill(ctx).id, at=T0 - timedelta(days=1))


def test_only_drills_can_be_ended_as_drills_and_only_once(ctx):
    real = _real(ctx)
    with pytest.raises(ValidationError):
        end_drill(ctx, real.id)
    with pytest.raises(ValidationError):
        summarize(ctx, real.id)
    drill = _drill(ctx)
    end_drill(ctx, drill.id)
    with pytest.raises(ValidationError):
        end_drill(ctx, drill.id)
    assert Note.select().count() == 0   # no findings typed: no empty note


def test_drill_cli_end_to_end(tmp_path):
    db = str(tmp_path / "d.db")
    r = run_cli("--db", db, "incident", "new", "--title", "学籍系统遭勒索病毒（演练）", "--category", "malware",
                "--occurred", "-20m", "--drill", "--user", "zhang")
    assert r.returncode == 0, r.stderr
    assert "演练" in r.stdout
    r = run_cli("--db", db, "incident", "new", "--title", "真实事件", "--category", "malware", "--occurred", "-5m",
                "--user", "zhang")
    listing = run_cli("--db", db, "incident", "list").stdout
    drill_line = next(line for line in listing.splitlines() if "勒索" in line)
    assert "[演练]" in drill_line
    stats = json.loads(run_cli("--db", db, "stats", "--json").stdout)
    assert stats["incidents"]["real"] == 1 and stats["incidents"]["drills"] == 1
    deadlines = json.loads(run_cli("--db", db, "deadlines", "--json").stdout)
    assert {d["is_drill"] for d in deadlines if "勒索" in d["title"]} == {True}
    code = drill_line.split()[0]
    r = run_cli("--db", db, "drill", "end", code, "--findings", "联系人电话过期", "--at", "-1m", "--user", "zhang")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "总结.docx"
    r = run_cli("--db", db, "drill", "summary", code, "--format", "docx", "-o", str(out))
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        assert "演练" in z.read("word/document.xml").decode("utf-8")
    md = run_cli("--db", db, "drill", "summary", code, "--format", "md").stdout
    assert md.splitlines()[0].startswith("# ") and "演练" in md.splitlines()[0] and "联系人电话过期" in md
    real_code = next(line.split()[0] for line in listing.splitlines() if "真实事件" in line)
    r = run_cli("--db", db, "drill", "summary", real_code)
    assert r.returncode == 1 and "不是演练" in r.stderr
    r = run_cli("--db", db, "drill", "summary", code, "--format", "docx")
    assert r.returncode == 1 and "-o" in r.stderr
