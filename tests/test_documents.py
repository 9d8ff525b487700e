"""Exported documents: re-open the .docx with python-docx and check page, fonts and every field."""
import shutil
import subprocess
import zipfile
from datetime import timedelta

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from models.documents import (FONT_PRESETS, build_letter, export, render, signature_indents,
                              split_title, to_text)
from models.errors import ValidationError
from models.incidents import IncidentInput, create_incident
from models.reports import Submission, correct, open_report, save_draft, submit
from tests.conftest import T0

FIRST = {"affected_scope": "涉及约120名学生的学籍记录，系统中断约40分钟。", "damage": "无设备受损，无人员受伤。",
         "threat": "威胁程度较低。", "trend": "已得到控制。",
         "measures_taken": "1.立即修改账号口令；\n2.断开终端网络；\n3.保存登录日志。",
         "next_steps": "配合县教育局排查。", "contact_phone": "0874-1234567", "signer": "王校长",
         "support_requested": "[bold]请求[/] [@click=app.quit]技术支援[/]"}


def _first(ctx, drill=False):
    inc = create_incident(ctx, IncidentInput(
        title="学籍系统遭受网络攻击", category="network_attack", grade="IV", is_drill=drill,
        occurred_at=T0 - timedelta(minutes=90), discovered_at=T0 - timedelta(minutes=60),
        location="教务处学籍终端", asset="学籍系统", reported_by="值班员李老师巡检发现",
        description="学籍管理员账号凌晨3时在异地登录，导出了部分学生信息。"))
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST)
    return submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax", recipient="王科长"))


def _all_text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_docx_reopens_with_every_field_page_and_fonts(ctx, tmp_path):
    r = _first(ctx)
    out = export(ctx, r, "docx", tmp_path / "first.docx", "official")
    doc = Document(str(out))
    sec = doc.sections[0]
    assert abs(sec.page_width - Mm(210)) < Mm(0.5) and abs(sec.page_height - Mm(297)) < Mm(0.5)
    for got, want in ((sec.top_margin, 37), (sec.bottom_margin, 35), (sec.left_margin, 28), (sec.right_margin, 26)):
        assert abs(got - Mm(want)) < Mm(0.5)
    text = _all_text(doc)
    for fid, value in r.fields.items():
        for line in value.splitlines():
            if fid == "discovered_at":          # same day as the occurrence: the date is said once
                assert "于当日9时发现" in text
            elif fid == "contact_person":       # a login name is not a person's name: left out
                assert "tester" not in text
            elif line.strip():
                assert line.strip() in text, (fid, line)
    paras = doc.paragraphs
    assert paras[0].alignment == 1 and "首报" in paras[0].text        # centred title
    assert paras[2].text == "县教育局基教科："                        # recipient, full-width colon
    title_run = paras[0].runs[0]
    assert title_run.font.size.pt == 22
    rfonts = title_run._r.rPr.rFonts
    assert rfonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert rfonts.get(qn("w:eastAsiaTheme")) is None
    body_run = paras[3].runs[0]
    assert body_run.font.size.pt == 16 and body_run._r.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert paras[3].paragraph_format.line_spacing.pt == pytest.approx(28.95, abs=0.01)
    h1 = next(p for p in paras if p.text.startswith("一、"))
    assert h1.runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    # signature and date right-aligned, date last before the note
    sig = next(p for p in paras if p.text == ctx.settings.school_name)
    date = next(p for p in paras if p.text == "2026年11月25日")
    # GB/T 9704 §7.3.5.2: the date starts two characters right of the signature's first character
    assert date.paragraph_format.left_indent - sig.paragraph_format.left_indent == Pt(32)
    assert any("联系电话：0874-1234567" in p.text for p in paras)
    # odd/even page numbers with a PAGE field
    assert doc.settings.odd_and_even_pages_header_footer
    assert "— 1 —" in sec.footer.paragraphs[0].text.replace("  ", " ")
    assert sec.footer.paragraphs[0].alignment == 2 and sec.even_page_footer.paragraphs[0].alignment == 0
    with zipfile.ZipFile(out) as z:
        xml = z.read("word/document.xml").decode()
        styles = z.read("word/styles.xml").decode()
    assert 'w:eastAsia="zh-CN"' in styles and "minorEastAsia" not in styles.split("</w:docDefaults>")[0]
    assert 'w:linePitch="579"' in xml


def test_other_presets_and_unknown_preset(ctx, tmp_path):
    r = _first(ctx)
    doc = Document(str(export(ctx, r, "docx", tmp_path / "w.docx", "windows")))
    assert doc.paragraphs[3].runs[0]._r.rPr.rFonts.get(qn("w:eastAsia")) == FONT_PRESETS["windows"]["body"]
    with pytest.raises(ValidationError):
        render(ctx, r, "docx", "comic")


def test_drill_title_and_markdown(ctx, tmp_path):
    r = _first(ctx, drill=True)
    letter = build_letter(ctx, r)
    assert "演练" in letter.title
    md = export(ctx, r, "md", tmp_path / "f.md").read_text("utf-8")
    assert md.startswith("# 【演练】")
    assert "[bold]请求[/] [@click=app.quit]技术支援[/]" in md        # typed text kept literally
    assert "县教育局基教科：" in md and "特此报告。" in md
    txt = to_text(letter, markdown=False)
    assert "**" not in txt and "2.断开终端网络；" in txt
    doc = Document(str(export(ctx, r, "docx", tmp_path / "d.docx")))
    assert "演练" in doc.paragraphs[0].text


def test_correction_title_and_reason(ctx):
    r = _first(ctx)
    new = correct(ctx, r.id, {"damage": "一台终端硬盘损坏。"}, reason="核实后更正")
    letter = build_letter(ctx, new)
    assert letter.title.endswith("（更正）") and "更正原因：核实后更正" in letter.note
    assert "一台终端硬盘损坏。" in letter.body_text()


def test_continuing_numbered_in_chinese(ctx):
    r = _first(ctx)
    c = open_report(ctx, r.incident_id, "school_plan", "continuing")
    assert "续报一" in build_letter(ctx, c).title


def test_title_breaks_keep_phrases_and_signature_rule():
    assert split_title("短标题") == ["短标题"]
    lines = split_title("关于沾益县海峰中学学籍系统遭受网络攻击事件的首报", hints=("沾益县海峰中学",))
    assert lines == ["关于沾益县海峰中学学籍系统", "遭受网络攻击事件的首报"]
    # never inside a word: 感｜染, 电｜脑, 总｜结 were the faults of release 0.1
    for title in ("关于沾益县海峰中学教务处电脑感染勒索病毒事件的首报", "沾益县海峰中学学籍系统应急演练总结报告",
                  "【演练】关于沾益县海峰中学学籍系统遭受网络攻击事件处置情况的报告（终报）"):
        lines = split_title(title, hints=("沾益县海峰中学",))
        pos = len(lines[0])
        for word in ("感染", "电脑", "总结", "学籍", "系统", "演练", "处置", "情况", "报告", "海峰"):
            for i in range(len(title) - 1):
                if title.startswith(word, i):
                    assert not (i < pos < i + len(word)), (word, lines)
    assert all(len(line) >= 2 for line in split_title("关" * 41))
    # signature 7 wide, date 2026年11月25日 = 8 half-width digits + 3 = 7 wide: date 2 in, signature 4 in
    assert signature_indents("沾益县海峰中学", "2026年11月25日") == (4.0, 2.0)
    # a long signature: it sits 2 in and the date is indented by the difference
    assert signature_indents("沾益县教育局基础教育科学校", "2026年11月5日") == (2.0, 13 - 6.5)


def test_every_exported_document_has_properties_in_schema_order(ctx, tmp_path):
    """rPr/pPr/sectPr children in the OOXML sequence, in every part, for every stage and the drill."""
    from models.docx_layout import order_errors
    from models.drills import end_drill, summarize
    from models.drills import to_docx as drill_docx
    r = _first(ctx)
    inc = r.incident
    for st in ctx.policy.stages():
        rep = open_report(ctx, inc.id, st.regime, st.id)
        data = render(ctx, rep, "docx")
        assert not order_errors(data), (st.key, order_errors(data)[:3])
    drill = _first(ctx, drill=True).incident
    end_drill(ctx, drill.id)
    assert not order_errors(drill_docx(ctx, summarize(ctx, drill.id)))


def test_core_properties_name_the_school_and_the_real_dates(ctx, tmp_path):
    r = _first(ctx)
    doc = Document(str(export(ctx, r, "docx", tmp_path / "c.docx")))
    cp = doc.core_properties
    assert cp.author == "海峰中学" and cp.last_modified_by == "海峰中学"
    assert "python-docx" not in (cp.author + cp.comments + cp.last_modified_by)
    assert cp.created.year == 2026 and cp.modified.replace(tzinfo=None) == T0.replace(tzinfo=None)


def test_draft_is_marked_in_every_page_header_and_the_file_name(ctx, tmp_path):
    from models.documents import file_stem
    inc = _first(ctx).incident
    d = open_report(ctx, inc.id, "school_plan", "follow_up")
    assert file_stem(ctx, d) == "2026-001-跟报-草稿"
    out = export(ctx, d, "docx", tmp_path)            # a folder: the standard name inside it
    assert out.name == "2026-001-跟报-草稿.docx"
    doc = Document(str(out))
    sec = doc.sections[0]
    assert sec.header.paragraphs[0].text == "草稿（未报送）" == sec.even_page_header.paragraphs[0].text
    # A continuing report comes after the follow-up (issue 12): send the follow-up first.
    d = save_draft(ctx, d.id, d.version, {"cause_analysis": "弱口令", "nature": "攻击", "impact_assessment": "小",
                                          "planned_measures": "改口令", "contact_phone": "1"})
    submit(ctx, d.id, d.version, Submission(channel="email", recipient="县教育局"))
    c = open_report(ctx, inc.id, "school_plan", "continuing")
    c = save_draft(ctx, c.id, c.version, {"reactions": "平稳", "tracking": "无异常", "handling": "已处置",
                                          "contact_phone": "1"})
    c = submit(ctx, c.id, c.version, Submission(channel="email", recipient="县教育局"))
    assert file_stem(ctx, c) == "2026-001-续报1"
    assert file_stem(ctx, _first(ctx)) == "2026-002-首报"


def test_short_message_and_plain_text(ctx):
    from models.messaging import plain_text, short_text
    r = _first(ctx)
    short = short_text(ctx, r)
    assert len(short) <= 300
    for part in ("【海峰中学】", "8时30分", "教务处学籍终端", "网络攻击", "120名学生", "修改账号口令", "0874-1234567"):
        assert part in short, part
    long = save_draft(ctx, open_report(ctx, r.incident_id, "school_plan", "follow_up").id, 1,
                      {"impact_assessment": "影响" * 400, "planned_measures": "措施" * 400, "contact_phone": "1"})
    assert len(short_text(ctx, long)) <= 300
    plain = plain_text(ctx, r)
    assert "**" not in plain and "#" not in plain and "特此报告。" in plain


def test_emoji_are_flagged_before_export(ctx, tmp_path):
    from models.documents import flagged_characters
    r = _first(ctx)
    assert flagged_characters(ctx, r) == []
    new = correct(ctx, r.id, {"next_steps": "配合排查👍，已通知☎家长★"}, reason="补充")
    assert flagged_characters(ctx, new) == ["👍", "☎"]       # ★ is in GB 2312: the faces have it


def test_english_prefills_saved_by_release_0_1_print_in_chinese(ctx):
    """Reports saved under an English interface held "Network attack", "General（IV）", ISO times."""
    inc = _first(ctx).incident
    r = open_report(ctx, inc.id, "cac_2025", "initial")
    r = save_draft(ctx, r.id, r.version, {"event_type": "Network attack", "event_level": "General（IV）",
                                          "times": "Discovered: 2026-11-25 09:00; occurred: 2026-11-25 08:30"})
    text = build_letter(ctx, r).all_text()
    assert "网络攻击事件" in text and "一般（Ⅳ级）" in text and "发现：2026年11月25日9时00分" in text
    for leak in ("Network", "General", "IV）", "Discovered", "2026-11-25"):
        assert leak not in text, leak
