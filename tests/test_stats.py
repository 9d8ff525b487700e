"""Statistics and the annual report: a seeded year with known on-time, late and missed reports.

The JSON, the .xlsx (re-read with openpyxl) and the .docx (re-read with python-docx) carry the
same figures; drills and withdrawn false alarms never count among real incidents.
"""
import io
import json
from datetime import datetime, timedelta

import pytest

from models import annual_report as ar
from models.errors import ValidationError
from models.incidents import IncidentInput, create_incident
from models.stats import compute, period
from models.tables import CheckRun, Incident, Report
from tests.conftest import SH, T0, run_cli


def _at(month, day, hour=8, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def _inc(ctx, title, occurred, category="malware", grade="IV", **kw):
    return create_incident(ctx, IncidentInput(title=title, category=category, occurred_at=occurred,
                                              discovered_at=occurred, grade=grade, **kw))


def _report(inc, stage, at, seq=1):
    Report.create(incident=inc, regime="school_plan", stage=stage, seq=seq, fields={}, status="submitted",
                  submitted_at=at, created_at=at, updated_at=at)


def _close(inc, handled, closed):
    Incident.update(status="closed", handling_closed_at=handled, closed_at=closed).where(
        Incident.id == inc.id).execute()


def seed_year(ctx, with_open=True):
    """2026: A and A2 reported on time, B's first report 4 h after, C never reported (overdue),
    D just happened (not yet due); a withdrawn false alarm, a drill and one 2025 incident."""
    out = {}
    for key, month, cat in (("A", 3, "malware"), ("A2", 7, "network_attack")):
        occ = _at(month, 10)
        inc = _inc(ctx, f"事件{key}", occ, category=cat)
        _report(inc, "oral", occ + timedelta(minutes=10))
        _report(inc, "first", occ + timedelta(hours=1))
        _report(inc, "follow_up", occ + timedelta(hours=3))
        _report(inc, "final", occ + timedelta(days=5))
        _close(inc, occ + timedelta(days=2), occ + timedelta(days=6))
        out[key] = inc
    occ = _at(5, 5)
    b = _inc(ctx, "事件B：首报迟了", occ, category="data_security", grade="IV")
    _report(b, "first", occ + timedelta(hours=4))
    _close(b, occ + timedelta(hours=5), occ + timedelta(hours=6))   # no oral report ever made
    out["B"] = b
    out["C"] = _inc(ctx, "事件C：无人上报", _at(11, 20), category="facility_failure", grade=None)
    if with_open:
        out["D"] = _inc(ctx, "事件D：刚发生", T0 - timedelta(minutes=30), category="malware")
    w = _inc(ctx, "误报：打印机告警", _at(6, 1))
    Incident.update(status="withdrawn").where(Incident.id == w.id).execute()
    _inc(ctx, "演练：勒索病毒", _at(9, 15), is_drill=True)
    _inc(ctx, "去年的事件", _at(12, 30, year=2025))
    return out


def test_seeded_year_gives_exact_counts_and_rates(ctx):
    seed_year(ctx)
    data = compute(ctx, period(ctx.settings, 2026))
    inc = data["incidents"]
    assert (inc["real"], inc["drills"], inc["withdrawn"]) == (5, 1, 1)
    assert inc["by_class"]["harmful_program"] == 2 and inc["by_class"]["network_attack"] == 1
    assert inc["by_class"]["information_destruction"] == 1 and inc["by_class"]["facility_fault"] == 1
    assert sum(inc["by_class"].values()) == 5 and sum(inc["by_category"].values()) == 5
    assert inc["by_grade"] == {"I": 0, "II": 0, "III": 0, "IV": 4, "undecided": 1}
    assert len(inc["by_month"]) == 12
    assert inc["by_month"]["2026-03"] == 1 and inc["by_month"]["2026-11"] == 2 and inc["by_month"]["2026-06"] == 0
    on = data["on_time"]
    assert list(on)[0] == "school_plan.first"       # the statutory 3-hour report first
    assert on["school_plan.first"] == {"met": 2, "met_late": 1, "missed": 1, "open": 1, "rate": 0.5}
    # Oral: A and A2 on time; B closed without it and C overdue: missed; D not yet due.
    assert on["school_plan.oral"] == {"met": 2, "met_late": 0, "missed": 2, "open": 1, "rate": 0.5}
    # Follow-up: B was closed before it fell due (not counted); C and D wait for a first report.
    assert on["school_plan.follow_up"] == {"met": 2, "met_late": 0, "missed": 0, "open": 2, "rate": 1.0}
    assert data["first_report"]["median_minutes"] == 60.0
    assert data["first_report"]["worst_minutes"] == 240.0
    assert data["first_report"]["count"] == 3
    assert [d["title"] for d in data["drills"]] == ["演练：勒索病毒"]
    assert [r["first_report"] for r in data["list"]] == ["met", "met_late", "met", "missed", "open"]


def test_semester_and_month_periods(ctx):
    seed_year(ctx)
    spring = compute(ctx, period(ctx.settings, 2026, semester=1))   # 03-01 … 08-31
    assert spring["incidents"]["real"] == 3 and spring["period"]["to"] == "2026-08-31"
    autumn = compute(ctx, period(ctx.settings, 2026, semester=2))   # 09-01 … 2027-02-28
    assert autumn["incidents"]["real"] == 2 and autumn["incidents"]["drills"] == 1
    assert autumn["period"]["to"] == "2027-02-28"
    may = compute(ctx, period(ctx.settings, 2026, month=5))
    assert may["incidents"]["real"] == 1 and may["on_time"]["school_plan.first"]["rate"] == 0.0
    assert may["period"]["label"] == "2026年5月"
    for bad in ({"semester": 3}, {"month": 13}, {"semester": 1, "month": 2}):
        with pytest.raises(ValidationError):
            period(ctx.settings, 2026, **bad)
    with pytest.raises(ValidationError):
        period(ctx.settings, "二〇二六")


def test_checks_on_time_counted(ctx):
    from models.checks import add_check
    check = add_check(ctx, "隐患排查", "monthly")
    CheckRun.create(check=check, done_at=_at(4, 1, 9), done_by="t", due_at=_at(4, 1, 0))
    CheckRun.create(check=check, done_at=_at(5, 3, 9), done_by="t", due_at=_at(5, 1, 0))
    data = compute(ctx, period(ctx.settings, 2026))
    assert data["checks"] == {"runs": 2, "on_time": 1, "late": 1, "rate": 0.5}


def test_xlsx_and_docx_hold_the_same_figures(ctx, tmp_path):
    from docx import Document
    from openpyxl import load_workbook
    seed_year(ctx)
    data = compute(ctx, period(ctx.settings, 2026))
    wb = load_workbook(io.BytesIO(ar.to_xlsx(ctx, data)))
    assert wb.sheetnames == ["总体情况", "按预案分类", "按事件类别", "按事件级别", "按月份", "报告及时情况",
                             "应急演练", "事件清单"]
    ws = wb["报告及时情况"]
    assert [c.value for c in ws[2]] == ["报告阶段", "按时", "超时完成", "未报", "未到期", "按时率"]
    first = [c.value for c in ws[3]]
    assert first == ["学校应急预案 · 首报", 2, 1, 1, 1, 0.5] and ws.cell(3, 6).number_format == "0.00%"
    summary = {r[0].value: r[1].value for r in wb["总体情况"].iter_rows(min_row=3)}
    assert summary["真实事件（起）"] == 5 and summary["应急演练（次，不计入）"] == 1
    assert summary["事发至首报用时（最长）"] == 240.0
    classes = {r[0].value: r[1].value for r in wb["按预案分类"].iter_rows(min_row=3)}
    assert classes["有害程序事件"] == 2
    listing = [r[0].value for r in wb["事件清单"].iter_rows(min_row=3)]
    assert listing == [r["code"] for r in data["list"]]

    doc = Document(io.BytesIO(ar.to_docx(ctx, data)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert doc.core_properties.title == "海峰中学2026年度学籍信息系统安全事件统计报告"
    assert "共发生学籍信息系统安全事件5起" in text and "按时率50.00%" in text
    assert len(doc.tables) == 8
    on_time = doc.tables[5]
    assert [c.text for c in on_time.rows[0].cells] == ["报告阶段", "按时", "超时完成", "未报", "未到期", "按时率"]
    assert [c.text for c in on_time.rows[1].cells] == ["学校应急预案 · 首报", "2", "1", "1", "1", "50.00%"]
    by_class = {r.cells[0].text: r.cells[1].text for r in doc.tables[1].rows[1:]}
    assert by_class["有害程序事件"] == "2"
    # The same rows in both: every table's figures agree cell by cell.
    for table, sheet in zip(doc.tables, wb.worksheets):
        assert len(table.rows) - 1 == max(sheet.max_row - 2, 1)


def test_cli_json_docx_xlsx(ctx, db_path, tmp_path):
    seed_year(ctx, with_open=False)   # the CLI runs on the real clock: every deadline is behind it
    ctx.store.close()
    r = run_cli("--db", str(db_path), "stats", "--year", "2026", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data["incidents"]) >= {"real", "drills", "withdrawn", "by_class", "by_category", "by_grade",
                                      "by_month"}
    assert data["incidents"]["real"] == 4 and data["incidents"]["withdrawn"] == 1
    first = data["on_time"]["school_plan.first"]
    assert (first["met"], first["met_late"], first["missed"], first["open"], first["rate"]) == (2, 1, 1, 0, 0.5)
    for fmt in ("docx", "xlsx"):
        out = tmp_path / f"年报.{fmt}"
        r = run_cli("--db", str(db_path), "stats", "--year", "2026", "--format", fmt, "-o", str(out))
        assert r.returncode == 0, r.stderr
        assert out.stat().st_size > 1000
    r = run_cli("--db", str(db_path), "stats", "--year", "2026", "--format", "pdf")
    assert r.returncode == 1 and "未知格式" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("--db", str(db_path), "stats", "--year", "2026", "--month", "13")
    assert r.returncode == 1 and "月份" in r.stderr
    r = run_cli("--db", str(db_path), "stats", "--year", "2026")
    assert r.returncode == 0 and "报告及时情况" in r.stdout and "50.00%" in r.stdout


def test_fast_verdicts_agree_with_the_deadline_engine(ctx):
    """judge_fast (used for speed) and judge (read off deadlines.obligations()) on 400 random incidents."""
    import random
    from datetime import timezone

    from models.deadlines import IncidentFacts
    from models.stats import _needs_engine, _Row, judge, judge_fast, rules
    rnd = random.Random(17)
    now = T0
    stage_rules = rules(ctx.policy, 2026)
    stages = ["oral", "first", "follow_up", "continuing", "final"]
    seen = set()
    quick = 0
    for i in range(400):
        occ = now - timedelta(hours=rnd.randrange(1, 2000))
        status = rnd.choice(["open", "handled", "closed", "closed"])
        handled = occ + timedelta(hours=rnd.randrange(1, 300)) if status != "open" or rnd.random() < .2 else None
        closed = (handled or occ) + timedelta(hours=rnd.randrange(0, 900)) if status == "closed" else None
        if closed and closed > now:
            closed = now
        facts = IncidentFacts(id=i, code=f"X{i}", category="malware", grade=rnd.choice(["I", "III", "IV", None]),
                              occurred_at=occ, discovered_at=occ + timedelta(minutes=rnd.randrange(0, 300)),
                              handling_closed_at=handled, personal_info=rnd.random() < .3, status=status,
                              personal_info_unsure=rnd.random() < .1, closed_at=closed,
                              close_over=((rnd.choice(["school_plan.follow_up", "school_plan.final"]), "领导决定"),)
                              if status == "closed" and rnd.random() < .2 else ())
        row = _Row(facts, closed)
        for n in range(rnd.randrange(0, 7)):
            stage = rnd.choice(stages)
            regime = "school_plan" if rnd.random() < .8 else rnd.choice(["cac_2025", "pipl"])
            stage = stage if regime == "school_plan" else rnd.choice(
                ["initial", "summary"] if regime == "cac_2025" else ["authority_notice", "individual_notice"])
            at = occ + timedelta(minutes=rnd.randrange(1, 60 * 24 * 40))
            if at > now:
                continue
            row.add_report(regime, stage, rnd.choice([1, 1, 2, 3]), at.astimezone(timezone.utc))
        quick += not _needs_engine(row, now)
        slow = {k: sorted(v) for k, v in judge(row, ctx.policy, now).items() if v}
        fast = {k: sorted(v) for k, v in judge_fast(row, stage_rules, now, ctx.policy).items() if v}
        assert slow == fast, (facts, row.by_stage)
        seen.update(o for v in fast.values() for o in v)
    assert seen == {"met", "met_late", "missed", "open"} and quick > 150


def test_documents_are_in_chinese_whatever_the_screen_language(ctx):
    from docx import Document
    from openpyxl import load_workbook

    from models.i18n import set_language
    seed_year(ctx)
    set_language("en")
    data = compute(ctx, period(ctx.settings, 2026, semester=1))
    assert data["period"]["label"] == "the spring semester 2026"
    wb = load_workbook(io.BytesIO(ar.to_xlsx(ctx, data)))
    assert wb.sheetnames[0] == "总体情况" and "2026年春季学期" in wb["总体情况"]["A1"].value
    doc = Document(io.BytesIO(ar.to_docx(ctx, data)))
    assert doc.core_properties.title == "海峰中学2026年春季学期学籍信息系统安全事件统计报告"
    from models.i18n import get_language
    assert get_language() == "en"
