"""Every stage's document rendered by LibreOffice and read back from the PDF (issue 16).

One incident goes through every stage; all documents are converted in a single
soffice run (start-up dominates), then pdftotext checks what a bureau clerk
would: page count, the signature block not alone on a page, the title broken
at a phrase boundary, the recipient line per stage, the submission facts, the
date's position and the page number's distance below the text block.

LibreOffice is optional on a workstation (the test then skips), never on CI:
with ``CI=true`` a missing soffice or pdftotext is a failure.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta

import pytest

from models.clock import FixedClock
from models.config import Settings
from models.documents import (FOOTER_DISTANCE_MM, MARGINS_MM, build_letter, export, file_stem,
                              signature_starts)
from models.docx_layout import order_errors, soffice, to_pdf
from models.drills import end_drill, summarize
from models.drills import file_stem as drill_stem
from models.drills import to_docx as drill_docx
from models.incidents import IncidentInput, create_incident, mark_handled
from models.reports import Submission, form_fields, open_report, record_oral_report, save_draft, submit
from models.store import open_store
from models.tables import CallLog
from tests.conftest import T0, make_ctx

SCHOOL = "沾益县海峰中学"
TITLE = "教务处学籍电脑感染勒索病毒"
# Words of the titles that a line break must never cut.
WORDS = ("沾益县", "海峰中学", "教务处", "学籍", "电脑", "感染", "勒索", "病毒", "事件", "首报", "续报",
         "跟报", "终报", "报告", "处置", "情况", "总结", "个人信息", "口头", "记录", "网信", "通知")

FIRST = {  # a typical first report: about 500 characters of content
    "summary": "11月25日7时许，学籍管理员使用的教务处电脑出现文件被加密、桌面弹出勒索信息等异常，"
               "全国中小学生学籍信息管理系统学校端无法正常登录。值班人员发现后立即报告分管领导。",
    "affected_scope": "涉及初一年级约120名学生的学籍记录（姓名、学籍号、身份证号），学籍业务中断约40分钟。",
    "damage": "无设备损毁，无人员受伤。",
    "threat": "初步判断对国家安全和社会安全的威胁程度较低。",
    "trend": "涉事电脑已断网隔离，事态已得到控制，未发现向其他终端扩散。",
    "measures_taken": "1.立即断开涉事电脑网络并封存，保留现场；\n2.修改学籍管理员账号口令并启用双因素认证；\n"
                      "3.导出并保存系统登录日志和操作日志；\n4.通知系统运维单位协助排查。",
    "scene_preservation": "涉事电脑已封存，日志已备份至离线介质。",
    "police_reported": "已向县公安局网安大队报案。",
    "next_steps": "配合县教育局和公安机关开展溯源调查，核实受影响数据范围，视情况告知受影响学生及家长。",
    "support_requested": "请求县教育局协调系统运维单位提供技术支援。",
    "signer": "王建国", "contact_person": "李明", "contact_phone": "0874-3123456",
}
STAGES = {  # (regime, stage): fields, submission (None: left as a draft)
    ("school_plan", "first"): FIRST,
    ("school_plan", "follow_up"): {
        "cause_analysis": "经运维单位排查，系管理员电脑访问不明网站后感染勒索病毒。",
        "nature": "属恶意程序事件（勒索软件事件），未发现数据被外传。",
        "impact_assessment": "影响限于教务处一台电脑，学籍系统服务已恢复。",
        "planned_measures": "全校终端开展病毒查杀，加强上网行为管理。", "service_status": "已恢复正常",
        "contact_phone": "0874-3123456"},
    ("school_plan", "continuing"): {
        "reactions": "校内师生反应平稳，未发现媒体报道。", "tracking": "涉事电脑已重装系统，未再出现异常。",
        "handling": "已完成全校终端查杀，共检查电脑86台。", "contact_phone": "0874-3123456"},
    ("school_plan", "final"): {
        "closed_at": "2026年11月25日16时00分",
        "course_and_handling": "11月25日7时许发现教务处电脑感染勒索病毒，学校立即启动应急预案，断网隔离、保存日志、报案并报告县教育局，当日16时处置完毕。",
        "root_cause": "管理员电脑访问不明网站，终端防护软件未及时更新。", "damage": "学籍业务中断约40分钟，无数据外泄。",
        "evaluation": "一般（Ⅳ级）网络安全事件。", "accountability": "对相关责任人进行批评教育。",
        "rectification": "更新全部终端防护软件，学籍专用电脑禁止访问互联网。",
        "lessons": "加强终端管理和人员培训，定期开展应急演练。", "contact_phone": "0874-3123456"},
    ("cac_2025", "initial"): {
        "system_info": "全国中小学生学籍信息管理系统学校端，部署于教务处。", "impact": "学籍业务中断约40分钟。",
        "measures_taken": "断网隔离，保存日志，报案。", "contact_phone": "0874-3123456"},
    ("cac_2025", "summary"): {
        "root_cause": "终端感染勒索病毒。", "measures_summary": "断网隔离、查杀、恢复。", "damage": "业务中断约40分钟。",
        "accountability": "批评教育。", "rectification": "更新防护软件。", "lessons": "加强终端管理。",
        "contact_phone": "0874-3123456"},
    ("pipl", "authority_notice"): {
        "info_types": "学生姓名、学籍号、身份证号。", "cause": "教务处电脑感染勒索病毒。", "possible_harm": "信息可能被冒用。",
        "remedial_measures": "断网隔离，修改口令，排查泄露范围。", "mitigation_for_individuals": "留意可疑来电和短信。",
        "contact_phone": "0874-3123456"},
    ("pipl", "individual_notice"): {
        "info_types": "姓名、学籍号和身份证号。", "cause": "学校教务处一台电脑感染了勒索病毒。",
        "possible_harm": "这些信息可能被不法分子用于诈骗。", "remedial_measures": "学校已隔离涉事电脑，修改了系统口令，并报告了公安机关。",
        "mitigation_for_individuals": "请提醒孩子不要向陌生人透露个人信息；接到自称学校或教育部门要求转账的电话，请先向班主任核实。",
        "channel_used": "短信、家长群", "contact_phone": "0874-3123456"},
}
RECIPIENTS = {  # what the recipient line must say
    ("school_plan", "first"): "县教育局基教科：",
    ("school_plan", "follow_up"): "县教育局基教科：",
    ("school_plan", "continuing"): "县教育局基教科：",
    ("school_plan", "final"): "县教育局基教科：",
    ("cac_2025", "initial"): "曲靖市委网信办：",          # typed at submission: it wins
    ("cac_2025", "summary"): "属地网信部门：",             # left as a draft: the policy's declaration
    ("pipl", "authority_notice"): "履行个人信息保护职责的部门：",
    ("pipl", "individual_notice"): "各位同学、各位家长：",
}
SUBMITTED_TO = {"school_plan": "县教育局基教科王科长", "cac_2025": "曲靖市委网信办",
                "pipl": "履行个人信息保护职责的部门"}
DRAFTS = {("cac_2025", "summary")}


def _need(tool: str) -> str:
    found = soffice() if tool == "soffice" else shutil.which(tool)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is required on CI (.ci/run installs it)")
        pytest.skip(f"{tool} not installed (LibreOffice / poppler-utils)")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    _need("soffice")
    _need("pdftotext")
    tmp = tmp_path_factory.mktemp("render")
    store = open_store(tmp / "duty.db")
    clock = FixedClock(T0)
    ctx = make_ctx(store, clock, settings=Settings(school_name=SCHOOL))
    inc = create_incident(ctx, IncidentInput(
        title=TITLE, category="malware", subcategory="ransomware", grade="III", personal_info=True,
        occurred_at=T0 - timedelta(minutes=190), discovered_at=T0 - timedelta(minutes=150),
        location="教务处", asset="学籍系统", reported_by="值班员巡检发现",
        description="教务处电脑感染勒索病毒。"))
    with store.write():
        CallLog.create(incident=inc, contact_name="王科长", contact_role="bureau", number="0874-3190001",
                       at=T0 - timedelta(minutes=100), outcome="reached", said="口头报告", logged_by="tester")
    oral = record_oral_report(ctx, inc, {"summary": "报告了事件时间、地点、概况和已采取的措施。",
                                          "instructions": "要求3小时内书面报告。"},
                              recipient="县教育局基教科", at=T0 - timedelta(minutes=100), confirmed_by="王科长")
    reports = {("school_plan", "oral"): oral}
    for (regime, stage), values in STAGES.items():
        if stage == "final":
            inc = mark_handled(ctx, inc.id, at=clock.now())    # a final report follows the handling
        r = open_report(ctx, inc.id, regime, stage)
        r = save_draft(ctx, r.id, r.version, {"contact_person": "李明", **values}
                       if any(f.id == "contact_person" for f in form_fields(ctx, regime, stage)) else values)
        if (regime, stage) not in DRAFTS:
            late = "发现时距事发已逾2小时，核实情况耗时较长。" if stage == "first" else "等待定级。"
            r = submit(ctx, r.id, r.version, Submission(
                channel="fax" if regime == "school_plan" else "online",
                recipient="受影响学生及家长" if stage == "individual_notice" else SUBMITTED_TO[regime],
                confirmed_by="王科长" if regime == "school_plan" else "", late_reason=late))
            clock.advance(minutes=30)
        reports[(regime, stage)] = r
    paths = {key: export(ctx, r, "docx", tmp / f"{file_stem(ctx, r)}.docx", "open") for key, r in reports.items()}
    # A drill with its summary: the same soffice run converts it.
    drill = create_incident(ctx, IncidentInput(
        title="学籍系统遭勒索病毒攻击应急演练", category="malware", is_drill=True,
        occurred_at=clock.now() - timedelta(minutes=20), discovered_at=clock.now() - timedelta(minutes=10)))
    with store.write():
        CallLog.create(incident=drill, contact_name="吴主任", contact_role="academic_affairs", number="139",
                       at=clock.now(), outcome="no_answer", logged_by="tester")
    o = record_oral_report(ctx, drill, {"summary": "演练口头报告。"}, recipient="县教育局基教科",
                           at=clock.now(), confirmed_by="王科长")
    assert o.status == "submitted"
    clock.advance(hours=2, minutes=45)
    end_drill(ctx, drill.id, "通讯录中教务处电话过期", at=clock.now() - timedelta(minutes=10))
    summary = summarize(ctx, drill.id)
    paths["drill"] = tmp / f"{drill_stem(summary)}.docx"
    paths["drill"].write_bytes(drill_docx(ctx, summary))
    pdfs = dict(zip(paths, to_pdf(list(paths.values()), tmp / "pdf")))
    yield ctx, reports, paths, pdfs
    store.close()


def _pages(pdf) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def _lines(page: str) -> list[str]:
    return [re.sub(r"\s+", "", ln) for ln in page.splitlines() if ln.strip()]


def _bbox_lines(pdf, page: int = 1) -> list[tuple[str, float, float, float, float]]:
    """(text, xMin, yMin, xMax, yMax) of every line on a page, in points."""
    html = subprocess.run(["pdftotext", "-bbox-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True).stdout
    out = []
    for m in re.finditer(r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>',
                         html, re.S):
        words = "".join(re.findall(r">([^<]*)</word>", m.group(5)))
        out.append((words, *(float(m.group(i)) for i in range(1, 5))))
    return out


def test_first_report_fits_two_pages_and_keeps_the_signature_with_the_body(rendered):
    ctx, reports, paths, pdfs = rendered
    letter = build_letter(ctx, reports[("school_plan", "first")])
    assert len(letter.body_text()) <= 800
    pages = _pages(pdfs[("school_plan", "first")])
    assert len(pages) <= 2, len(pages)


@pytest.mark.parametrize("key", [("school_plan", "oral"), *STAGES])
def test_every_stage_renders_with_recipient_facts_and_whole_words(rendered, key):
    ctx, reports, paths, pdfs = rendered
    r = reports[key]
    letter = build_letter(ctx, r)
    pages = _pages(pdfs[key])
    first = [ln for ln in _lines(pages[0]) if ln != "草稿（未报送）"]
    text = "".join("".join(_lines(p)) for p in pages)
    # The title, as broken on the page, is the whole title, and no break cuts a word.
    title_lines, joined = [], ""
    for line in first:
        if joined == letter.title.replace(" ", ""):
            break
        title_lines.append(line)
        joined += line
    assert joined == letter.title, (joined, letter.title)
    pos = 0
    for line in title_lines[:-1]:
        pos += len(line)
        for w in WORDS:
            for m in re.finditer(re.escape(w), letter.title):
                assert not (m.start() < pos < m.end()), (w, title_lines)
    # Recipient (the line after the title), or none for the record of a call.
    after = first[len(title_lines)]
    if key in RECIPIENTS:
        assert after == RECIPIENTS[key], (key, after)
    else:
        assert not after.endswith("："), after
    # Submission facts on a submitted document (not on the letter to families).
    if r.status == "submitted" and key != ("pipl", "individual_notice"):
        assert "报送时间：" in text and "报送方式：" in text
        assert re.search(r"报送时间：\d{4}年\d{1,2}月\d{1,2}日\d{1,2}时\d{2}分", text)
    if key == ("school_plan", "first"):
        assert "迟报原因：发现时距事发已逾2小时" in text and "接收人：县教育局基教科王科长" in text
        assert "确认人：王科长" in text
    if key == ("school_plan", "oral"):
        assert "拨打电话：0874-3190001" in text and "接听人：王科长" in text
    if key == ("pipl", "individual_notice"):
        assert "特此报告" not in text and "县教育局" not in text and "短信、家长群" not in text
    if key in DRAFTS:
        assert all("草稿（未报送）" in "".join(_lines(p)) for p in pages)
        assert paths[key].name.endswith("-草稿.docx")
    else:
        assert "草稿" not in text
    # The last page holds more than the date and signature block.
    last = _lines(pages[-1])
    tail = {letter.signature, letter.date, *(n.replace(" ", "") for n in letter.notes)}
    assert [ln for ln in last if ln not in tail and not re.fullmatch(r"—?\d+—?", ln.strip("—"))], last
    assert not order_errors(paths[key])


def test_final_report_table_lists_every_report_sent(rendered):
    ctx, reports, paths, pdfs = rendered
    text = "".join("".join(_lines(p)) for p in _pages(pdfs[("school_plan", "final")]))
    assert "报告报送情况" in text
    for name in ("口头报告", "首报", "跟报", "续报1", "网信首报"):
        assert name in text, name
    assert "迟报" in text and "按时" in text


def test_date_offset_and_page_number_distance(rendered):
    ctx, reports, paths, pdfs = rendered
    key = ("school_plan", "follow_up")
    letter = build_letter(ctx, reports[key])
    pages = _pages(pdfs[key])
    lines = _bbox_lines(pdfs[key], len(pages))
    sig = next(ln for ln in lines if ln[0] == letter.signature)
    date = next(ln for ln in lines if ln[0] == letter.date)
    char = 15.75                                   # 16 pt less the 0.25 pt condensing
    left = MARGINS_MM["left"] / 25.4 * 72
    sig_start, date_start = signature_starts(letter.signature, letter.date)
    # GB/T 9704 §7.3.5.2: the date starts two characters right of the signature's first character.
    assert date[1] - sig[1] == pytest.approx(2 * char, abs=2.5)
    assert sig[1] - left == pytest.approx(sig_start * 16, abs=3)
    right_edge = (210 - MARGINS_MM["right"]) / 25.4 * 72
    assert right_edge - sig[3] >= 1.5 * char        # 右空二字 (the longer line is the one at 2)
    # The page number: 7 mm below the bottom of the 225 mm text block.
    block_bottom = (297 - MARGINS_MM["bottom"]) / 25.4 * 72
    number = next(ln for ln in lines if re.fullmatch(r"—\d+—", ln[0]))
    mid = (number[2] + number[4]) / 2
    assert (mid - block_bottom) / 72 * 25.4 == pytest.approx(7, abs=1.0), (number, FOOTER_DISTANCE_MM)


def test_drill_summary_has_its_own_layout_in_chinese(rendered):
    ctx, reports, paths, pdfs = rendered
    pages = _pages(pdfs["drill"])
    text = "".join("".join(_lines(p)) for p in pages)
    assert text.startswith("【演练】") and pdfs["drill"].name == "2026-002-演练总结.pdf"
    assert "环节计划时限实际完成用时完成人结果" in text            # the table's header row
    assert "历时2小时45分" in text and "吴主任（教务处主任）" in text and "无人接听" in text
    assert not re.search(r"\d+h\d*m|\d+m\b|academic_affairs|tester|T\d\d:", text), text
    assert not order_errors(paths["drill"])


def test_pdf_export_from_the_command_line_and_a_clear_message_without_libreoffice(tmp_path, monkeypatch):
    from models import docx_layout
    from models.documents import render
    from models.errors import ValidationError
    from tests.conftest import run_cli
    env = {"XUEJI_DUTY_DB": str(tmp_path / "cli.db")}
    r = run_cli("incident", "new", "--title", "学籍账号异常登录", "--category", "network_attack",
                "--occurred", "-40m", "--user", "zhang", "--location", "教务处", env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("report", "draft", "2026-001", "first", "--user", "zhang", "--field", "summary=异地登录😀", env=env)
    assert r.returncode == 0, r.stderr
    if soffice() is not None:
        r = run_cli("report", "export", "2026-001", "first", "--format", "pdf", "-o", str(tmp_path), env=env,
                    timeout=180)
        assert r.returncode == 0, r.stderr
        pdf = tmp_path / "2026-001-首报-草稿.pdf"
        assert pdf.read_bytes().startswith(b"%PDF") and "😀" in r.stderr     # the emoji is flagged
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout if shutil.which(
            "pdfinfo") else "Page size: 595.276 x 841.89"
        assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+", info)          # A4
    # Without LibreOffice: a message that says what to install, no traceback.
    monkeypatch.setattr(docx_layout, "soffice", lambda: None)
    store = open_store(tmp_path / "cli.db")
    try:
        ctx = make_ctx(store, FixedClock(T0))
        from models.reports import current
        from models.incidents import get_incident
        rep = current(get_incident("2026-001"), "school_plan", "first", 1)
        with pytest.raises(ValidationError) as exc:
            render(ctx, rep, "pdf")
        assert "LibreOffice" in str(exc.value) and "libreoffice-writer-nogui" in str(exc.value)
    finally:
        store.close()
