"""Exported documents: re-open the .docx with python-docx and check page, fonts and every field."""
import shutil
import subprocess
import zipfile
from datetime import timedelta

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

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
    return submit(ctx, r.id, r.version, Submission(channel="fax", recipient="王科长"))


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
            if line.strip():
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
    assert sig.alignment == 2 and date.alignment == 2
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
    assert "一台终端硬盘损坏。" in letter.field_values()


def test_continuing_numbered_in_chinese(ctx):
    r = _first(ctx)
    c = open_report(ctx, r.incident_id, "school_plan", "continuing")
    assert "续报一" in build_letter(ctx, c).title


def test_title_breaks_keep_phrases_and_signature_rule():
    assert split_title("短标题") == ["短标题"]
    lines = split_title("关于沾益县海峰中学学籍系统遭受网络攻击事件的首报", hints=("沾益县海峰中学",))
    assert lines == ["关于沾益县海峰中学", "学籍系统遭受网络攻击事件的首报"]
    assert all(len(line) >= 2 for line in split_title("关" * 41))
    # signature 7 wide, date 2026年11月25日 = 8 half-width digits + 3 = 7 wide: date 2 in, signature 4 in
    assert signature_indents("沾益县海峰中学", "2026年11月25日") == (4.0, 2.0)
    # a long signature: it sits 2 in and the date is indented by the difference
    assert signature_indents("沾益县教育局基础教育科学校", "2026年11月5日") == (2.0, 13 - 6.5)


def test_libreoffice_converts_to_pdf_when_installed(ctx, tmp_path):
    r = _first(ctx)
    out = export(ctx, r, "docx", tmp_path / "first.docx", "open")
    assert zipfile.is_zipfile(out) and out.stat().st_size > 5000
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        # No LibreOffice here: the package must at least be a well-formed Word document.
        with zipfile.ZipFile(out) as z:
            assert {"word/document.xml", "word/styles.xml", "[Content_Types].xml"} <= set(z.namelist())
        return
    profile = (tmp_path / "lo-profile").as_uri()
    proc = subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                           "--outdir", str(tmp_path), str(out)], capture_output=True, timeout=180)
    pdf = tmp_path / "first.pdf"
    assert pdf.exists(), proc.stderr
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # A4 media box in points (595.3 × 841.9)
    import re
    box = re.search(rb"MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", data)
    assert box and abs(float(box.group(1)) - 595.3) < 1 and abs(float(box.group(2)) - 841.9) < 1
