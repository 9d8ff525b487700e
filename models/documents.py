"""Reports as documents: a .docx in the style of a Chinese official letter, and plain text.

The layout follows GB/T 9704-2012 as ``../shared/domain/document-format.md``
sets it out: A4, margins 37/28/35/26 mm, 22 lines of 28 characters, a 2号
小标宋 title, a flush-left recipient line ending in a full-width colon,
sections by the stage's fields, signature and date right-aligned, page
numbers ``— 1 —`` right on odd pages and left on even ones. Chinese only
renders in the intended face when ``w:eastAsia`` is set and the template's
theme-font attributes are removed, so every run and style sets all four
font slots explicitly.

The letter is built once as a neutral ``Letter`` and rendered twice: to
docx for printing or faxing, and to Markdown/plain text for pasting into
an email or a messaging app.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from models.context import Context
from models.errors import ValidationError
from models.reports import find_stage, fmt_cn_date, fmt_cn_time, form_fields
from models.tables import Report

# ---------------------------------------------------------------- fonts

FONT_PRESETS: dict[str, dict[str, str]] = {
    # What government PCs usually have: the faces the standard's habit names.
    "official": {"title": "方正小标宋简体", "body": "仿宋_GB2312", "h1": "黑体", "h2": "楷体_GB2312",
                 "page": "宋体", "latin": "Times New Roman"},
    # A stock Windows PC without the Founder/GB2312 faces: the nearest faces it ships.
    "windows": {"title": "华文中宋", "body": "仿宋", "h1": "黑体", "h2": "楷体",
                "page": "宋体", "latin": "Times New Roman"},
    # Linux/LibreOffice with the free Noto CJK faces (fonts-noto-cjk).
    "open": {"title": "Noto Serif CJK SC", "body": "Noto Serif CJK SC", "h1": "Noto Sans CJK SC",
             "h2": "Noto Serif CJK SC", "page": "Noto Serif CJK SC", "latin": "Liberation Serif"},
}
DEFAULT_PRESET = "official"

# ---------------------------------------------------------------- layout figures (document-format.md §1)

PAGE_W_MM, PAGE_H_MM = 210, 297
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
BODY_PT = 16          # 三号
TITLE_PT = 22         # 二号
PAGE_NO_PT = 14       # 四号
LINE_TWIPS = 579      # 28.95 pt: 22 lines fill the 225 mm block (580 gives 21 in LibreOffice)
CONDENSE_TWIPS = -5   # −0.25 pt per character: 28 characters fill the 156 mm line
TITLE_CHARS_PER_LINE = 20  # 156 mm / 22 pt

CN_NUMERALS = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一 … 10 → 十, 11 → 十一, 20 → 二十 (enough for sections and 续报 numbers)."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMERALS[ones - 1] if ones else "")


# ---------------------------------------------------------------- the letter

# Sections of the school plan's letters (document-format.md §5); each lists the fields it holds.
# A field not named here gets a section of its own, so nothing the officer typed is left out.
SECTIONS: dict[str, list[tuple[str, str, list[str]]]] = {
    "school_plan.first": [
        ("事件基本情况", "Basic facts", ["occurred_at", "discovered_at", "location", "info_source",
                                         "event_category", "event_level", "summary", "affected_scope",
                                         "damage", "threat", "trend"]),
        ("已采取的处置措施", "Measures taken", ["measures_taken", "scene_preservation", "police_reported"]),
        ("下一步工作", "Next steps", ["next_steps"]),
        ("需要协调解决的事项", "Support requested", ["support_requested"]),
    ],
    "school_plan.follow_up": [
        ("事件最新进展", "Latest developments", ["ref_previous", "cause_analysis", "nature",
                                                  "impact_assessment", "service_status"]),
        ("拟采取的措施", "Measures planned", ["planned_measures"]),
    ],
    "school_plan.continuing": [
        ("事件最新进展", "Latest developments", ["ref_previous", "reactions", "tracking"]),
        ("处置工作情况", "Handling", ["handling"]),
        ("下一步工作", "Next steps", ["next_steps"]),
    ],
    "school_plan.final": [
        ("事件基本情况", "Basic facts", ["closed_at", "course_and_handling"]),
        ("原因分析", "Cause", ["root_cause"]),
        ("造成的危害", "Harm", ["damage"]),
        ("事件评定结果", "Evaluation", ["evaluation"]),
        ("责任追究", "Accountability", ["accountability"]),
        ("整改措施", "Rectification", ["rectification"]),
        ("经验教训及防范措施", "Lessons", ["lessons"]),
        ("遗留问题", "Remaining issues", ["remaining_issues"]),
    ],
}
# Header fields are laid out as parts of the letter, not as sections.
HEADER_IDS = ("reporting_unit", "recipient", "signer", "contact_person", "contact_phone")
INLINE_MAX = 40  # a value this short and on one line goes on the same line as its label


@dataclass
class Item:
    label: str
    value: str

    @property
    def inline(self) -> bool:
        return "\n" not in self.value and len(self.value) <= INLINE_MAX


@dataclass
class Section:
    heading: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Letter:
    title: str
    recipient: str
    opening: str
    sections: list[Section]
    closing: str
    signature: str
    date: str
    note: str
    is_drill: bool = False
    title_hints: tuple[str, ...] = ()

    def field_values(self) -> list[str]:
        return [i.value for s in self.sections for i in s.items]


def _title(ctx: Context, report: Report, inc) -> str:
    _, st = find_stage(ctx, report.regime, report.stage)
    school = ctx.settings.school_name or ""
    subject = inc.title if not school or inc.title.startswith(school) else school + inc.title
    if report.regime == "school_plan" and report.stage in ("first", "follow_up", "continuing", "final"):
        name = {"first": "首报", "follow_up": "跟报", "continuing": "续报", "final": "终报"}[report.stage]
        if report.stage == "continuing":
            title = f"关于{subject}事件的续报（续报{cn_number(report.seq)}）"
        elif report.stage == "final":
            title = f"关于{subject}事件处置情况的报告（{name}）"
        else:
            title = f"关于{subject}事件的{name}"
    elif report.stage == "oral":
        title = f"{subject}事件口头报告记录"
    else:
        seq = f"（{cn_number(report.seq)}）" if st.repeatable and report.seq > 1 else ""
        title = f"关于{subject}事件的{st.zh}{seq}"
    title = title.replace("事件事件", "事件")
    if report.revision > 1:
        title += "（更正）"
    if inc.is_drill:
        title = "【演练】" + title
    return title


def _opening(ctx: Context, report: Report, inc, fields: dict) -> str:
    school = fields.get("reporting_unit") or ctx.settings.school_name or "我校"
    when = fmt_cn_time(inc.discovered_at, ctx.zone)
    drill = "（本报告为应急演练，非真实事件）" if inc.is_drill else ""
    stage = report.stage
    if report.regime == "school_plan" and stage == "first":
        return f"{when}，{school}发现{inc.title}。现将有关情况报告如下：{drill}"
    if report.regime == "school_plan" and stage == "follow_up":
        return f"{school}于{when}发现的{inc.title}事件，现将最新进展报告如下：{drill}".replace("事件事件", "事件")
    if report.regime == "school_plan" and stage == "continuing":
        return f"现将{inc.title}事件最新进展续报如下：{drill}".replace("事件事件", "事件")
    if report.regime == "school_plan" and stage == "final":
        return f"{inc.title}事件已处置完毕，现将处置情况总结报告如下：{drill}".replace("事件事件", "事件")
    if stage == "oral":
        at = fmt_cn_time(report.submitted_at, ctx.zone) if report.submitted_at else "（尚未报告）"
        who = report.recipient or "（未记录）"
        return f"{at}，{school}以{_channel_zh(report.channel)}向{who}口头报告如下：{drill}"
    return f"现将有关情况报告如下：{drill}"


def _channel_zh(channel: str | None) -> str:
    return {"phone": "电话", "fax": "传真", "email": "电子邮件", "in_person": "当面",
            "online": "网上报送系统"}.get(channel or "phone", "电话")


def build_letter(ctx: Context, report: Report) -> Letter:
    """The letter's parts, from the report's stored fields (exactly as frozen when submitted)."""
    inc = report.incident
    values = {k: (v or "").strip() for k, v in (report.fields or {}).items()}
    specs = [f for f in form_fields(ctx, report.regime, report.stage)]
    by_id = {f.id: f for f in specs}
    body_ids = [f.id for f in specs if f.id not in HEADER_IDS]
    sections: list[Section] = []
    used: set[str] = set()
    for zh, en, ids in SECTIONS.get(f"{report.regime}.{report.stage}", []):
        items = [Item(by_id[i].zh, values[i]) for i in ids if i in by_id and values.get(i)]
        used.update(ids)
        if len(items) == 1:
            items[0].label = ""   # the heading already names it
        if items:
            sections.append(Section(zh, items))
    for fid in body_ids:
        if fid in used or not values.get(fid):
            continue
        sections.append(Section(by_id[fid].zh, [Item("", values[fid])]))
    for n, sec in enumerate(sections, 1):
        sec.heading = f"{cn_number(n)}、{sec.heading}"
    recipient = values.get("recipient") or ctx.settings.bureau or ""
    if report.stage == "oral" or not recipient:
        recipient = "" if report.stage == "oral" else recipient
    when = report.submitted_at or ctx.now()
    note_parts = []
    if values.get("signer"):
        note_parts.append(f"签发人：{values['signer']}")
    contact = []
    if values.get("contact_person"):
        contact.append(f"联系人：{values['contact_person']}")
    if values.get("contact_phone"):
        contact.append(f"联系电话：{values['contact_phone']}")
    if contact:
        note_parts.append("，".join(contact))
    if report.revision > 1 and report.correction_reason:
        note_parts.append(f"更正原因：{report.correction_reason}")
    return Letter(
        title=_title(ctx, report, inc),
        recipient=(recipient.rstrip("：:") + "：") if recipient else "",
        opening=_opening(ctx, report, inc, values),
        sections=sections,
        closing="特此报告。" if report.stage != "oral" else "",
        signature=values.get("reporting_unit") or ctx.settings.school_name or "",
        date=fmt_cn_date(when, ctx.zone),
        note=("（" + "；".join(note_parts) + "）") if note_parts else "",
        is_drill=inc.is_drill,
        title_hints=tuple(h for h in (ctx.settings.school_name, inc.title) if h),
    )


def split_title(title: str, per_line: int = TITLE_CHARS_PER_LINE, hints: Iterable[str] = ()) -> list[str]:
    """Break a long title into balanced lines, each keeping whole phrases, no orphan character.

    Candidate breaks: before "的", "（", "事件" or "关于", and after a hint
    (the school's name, the incident's title). The candidate nearest the
    middle wins; with none, the title is cut evenly.
    """
    n = len(title)
    if n <= per_line:
        return [title]
    lines = -(-n // per_line)
    target = -(-n // lines)
    cands = set()
    for c in range(2, n - 1):
        if title[c] in "的（" or title.startswith("事件", c) or title.startswith("关于", c):
            cands.add(c)
    for h in hints:
        i = title.find(h)
        if i >= 0:
            cands.update({i, i + len(h)})
    ok = [c for c in cands if 2 <= c <= per_line and n - c >= 2]
    if lines == 2:
        ok = [c for c in ok if n - c <= per_line]
    cut = min(ok, key=lambda c: (abs(c - target), c)) if ok else target
    if abs(cut - target) > max(4, target // 3):
        cut = target
    return [title[:cut], *split_title(title[cut:], per_line, hints)]


# ---------------------------------------------------------------- plain text / Markdown

def to_text(letter: Letter, markdown: bool = True) -> str:
    """For pasting into an email or a messaging app: the same words, light formatting. In Markdown
    every piece of text is made inert first (``models.text.md_safe``: HTML escaped, only http(s)
    links kept)."""
    if markdown:
        letter = _md_letter(letter)
    lines = [("# " if markdown else "") + letter.title, ""]
    if letter.recipient:
        lines += [letter.recipient, ""]
    lines += [letter.opening, ""]
    for sec in letter.sections:
        lines.append((f"**{sec.heading}**" if markdown else sec.heading))
        for item in sec.items:
            value = item.value
            if item.label:
                label = f"{item.label}：" if not markdown else f"*{item.label}*："
                if item.inline:
                    lines.append(label + value)
                else:
                    lines.append(label)
                    lines += value.splitlines()
            else:
                lines += value.splitlines()
        lines.append("")
    if letter.closing:
        lines += [letter.closing, ""]
    lines += [letter.signature, letter.date]
    if letter.note:
        lines.append(letter.note)
    text = "\n".join(lines).rstrip() + "\n"
    if markdown:
        # Two trailing spaces keep line breaks inside a paragraph in Markdown renderers.
        text = "\n".join(line + "  " if line and not line.startswith("#") else line
                         for line in text.split("\n"))
    return text


def _md_letter(letter: Letter) -> Letter:
    import dataclasses
    from models.text import md_safe
    sections = [dataclasses.replace(sec, heading=md_safe(sec.heading),
                                    items=[dataclasses.replace(i, label=md_safe(i.label), value=md_safe(i.value))
                                           for i in sec.items])
                for sec in letter.sections]
    changes = {f.name: md_safe(getattr(letter, f.name)) for f in dataclasses.fields(letter)
               if isinstance(getattr(letter, f.name), str)}
    return dataclasses.replace(letter, sections=sections, **changes)


# ---------------------------------------------------------------- docx

def _fonts(preset: str) -> dict[str, str]:
    if preset not in FONT_PRESETS:
        raise ValidationError({"font_preset": ("error.report.font_preset_unknown",
                                               {"value": preset, "known": ", ".join(FONT_PRESETS)})})
    return FONT_PRESETS[preset]


def _set_rfonts(rpr, east: str, latin: str) -> None:
    """All four slots, and no theme attribute left to override them."""
    from docx.oxml.ns import qn
    rfonts = rpr.get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        if rfonts.get(qn(attr)) is not None:
            del rfonts.attrib[qn(attr)]
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east)
    rfonts.set(qn("w:cs"), latin)
    rfonts.set(qn("w:hint"), "eastAsia")


def _run(par, text: str, east: str, latin: str, size: float, bold: bool = False,
         condense: bool = True):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt
    run = par.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._r.get_or_add_rPr()
    _set_rfonts(rpr, east, latin)
    if condense:
        sp = OxmlElement("w:spacing")
        sp.set(qn("w:val"), str(CONDENSE_TWIPS))
        rpr.append(sp)
    return run


def _line_exact(par) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Twips
    pf = par.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Twips(LINE_TWIPS)
    pf.space_before = 0
    pf.space_after = 0


def _indent_two_chars(par) -> None:
    from docx.oxml.ns import qn
    ppr = par._p.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        from docx.oxml import OxmlElement
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    ind.set(qn("w:firstLineChars"), "200")
    ind.set(qn("w:firstLine"), "640")


def _setup_defaults(doc, fonts: dict[str, str]) -> None:
    """docDefaults: 三号, the body face in every slot, Chinese as the East Asian language."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    styles = doc.styles.element
    rpr_default = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_rfonts(rpr_default, fonts["body"], fonts["latin"])
    for tag in ("w:sz", "w:szCs"):
        el = rpr_default.find(qn(tag))
        if el is None:
            el = OxmlElement(tag)
            rpr_default.append(el)
        el.set(qn("w:val"), str(BODY_PT * 2))
    lang = rpr_default.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr_default.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal = doc.styles["Normal"]
    normal.font.size = None
    _set_rfonts(normal.element.get_or_add_rPr(), fonts["body"], fonts["latin"])


def _page_number(par, fonts: dict[str, str]) -> None:
    """``— N —`` with a PAGE field, 4号 宋体, half-width digits."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld(kind: str):
        r = _run(par, "", fonts["page"], fonts["page"], PAGE_NO_PT, condense=False)
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        r._r.append(el)

    _run(par, "— ", fonts["page"], fonts["page"], PAGE_NO_PT, condense=False)
    fld("begin")
    r = _run(par, "", fonts["page"], fonts["page"], PAGE_NO_PT, condense=False)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    r._r.append(instr)
    fld("separate")
    _run(par, "1", fonts["page"], fonts["page"], PAGE_NO_PT, condense=False)
    fld("end")
    _run(par, " —", fonts["page"], fonts["page"], PAGE_NO_PT, condense=False)


def _footers(doc, section, fonts: dict[str, str]) -> None:
    """Odd pages: number on the right, one character in; even pages: on the left."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Pt
    doc.settings.odd_and_even_pages_header_footer = True
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        par = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
        par.alignment = align
        pf = par.paragraph_format
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
        pf.space_before = pf.space_after = 0
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            pf.right_indent = Pt(PAGE_NO_PT)
        else:
            pf.left_indent = Pt(PAGE_NO_PT)
        _page_number(par, fonts)


def _char_width(text: str) -> float:
    """Width in Chinese characters: half-width digits and letters count half."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1 for ch in text)


def signature_indents(signature: str, date: str) -> tuple[float, float]:
    """Right indents (in characters) of signature and date without a seal, GB/T 9704 §7.3.5.2.

    The signature sits two characters in from the right; the date starts two
    characters right of the signature's start. A date longer than that moves
    the signature further left instead.
    """
    n, d = _char_width(signature), _char_width(date)
    if n - d >= 2:
        return 2.0, n - d
    return d + 4 - n, 2.0


def to_docx(letter: Letter, preset: str = DEFAULT_PRESET) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    fonts = _fonts(preset)
    doc = Document()
    _setup_defaults(doc, fonts)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    sec.left_margin, sec.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    sec.header_distance = Mm(15)
    sec.footer_distance = Mm(23)   # puts "— 1 —" about 7 mm below the text block
    grid = sec._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sec._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_TWIPS))
    _footers(doc, sec, fonts)
    doc.core_properties.title = letter.title
    doc.core_properties.language = "zh-CN"

    body, latin = fonts["body"], fonts["latin"]

    def para(align=None):
        p = doc.add_paragraph()
        _line_exact(p)
        if align is not None:
            p.alignment = align
        return p

    def blank():
        p = para()
        _run(p, "", body, latin, BODY_PT)

    # Title: 2号 小标宋, centred, broken into balanced lines.
    p = para(WD_ALIGN_PARAGRAPH.CENTER)
    # A 22 pt line does not fit one grid line: without this, every title line takes two.
    snap = OxmlElement("w:snapToGrid")
    snap.set(qn("w:val"), "0")
    p._p.get_or_add_pPr().append(snap)
    for i, line in enumerate(split_title(letter.title, hints=letter.title_hints)):
        r = _run(p, line, fonts["title"], fonts["title"], TITLE_PT, condense=False)
        if i:
            r._r.addprevious(_break_run(fonts))
    blank()
    if letter.recipient:
        p = para()
        _run(p, letter.recipient, body, latin, BODY_PT)
    p = para()
    _indent_two_chars(p)
    _run(p, letter.opening, body, latin, BODY_PT)
    for n, section in enumerate(letter.sections, 1):
        p = para()
        _indent_two_chars(p)
        _run(p, section.heading, fonts["h1"], latin, BODY_PT)
        sub = 0
        for item in section.items:
            value_lines = [ln for ln in item.value.splitlines() if ln.strip()] or [""]
            if item.label:
                sub += 1
                label = f"（{cn_number(sub)}）{item.label}"
                p = para()
                _indent_two_chars(p)
                if item.inline:
                    _run(p, label + "：", fonts["h2"], latin, BODY_PT)
                    _run(p, value_lines[0], body, latin, BODY_PT)
                    continue
                _run(p, label, fonts["h2"], latin, BODY_PT)
            for line in value_lines:
                p = para()
                _indent_two_chars(p)
                _run(p, line, body, latin, BODY_PT)
    if letter.closing:
        p = para()
        _indent_two_chars(p)
        _run(p, letter.closing, body, latin, BODY_PT)
    blank()
    sig_indent, date_indent = signature_indents(letter.signature, letter.date)
    for text, indent in ((letter.signature, sig_indent), (letter.date, date_indent)):
        p = para(WD_ALIGN_PARAGRAPH.RIGHT)
        p.paragraph_format.right_indent = Pt(BODY_PT * indent)
        _run(p, text, body, latin, BODY_PT)
    if letter.note:
        p = para()
        _indent_two_chars(p)
        _run(p, letter.note, body, latin, BODY_PT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _break_run(fonts):
    from docx.oxml import OxmlElement
    r = OxmlElement("w:r")
    br = OxmlElement("w:br")
    r.append(br)
    return r


# ---------------------------------------------------------------- export

FORMATS = ("docx", "md", "txt")


def font_preset(ctx: Context, override: str | None = None) -> str:
    preset = override or (ctx.settings.extra or {}).get("document_fonts") or DEFAULT_PRESET
    _fonts(preset)
    return preset


def render(ctx: Context, report: Report, fmt: str, preset: str | None = None) -> bytes:
    if fmt not in FORMATS:
        raise ValidationError({"format": ("error.report.format_unknown", {"value": fmt})})
    letter = build_letter(ctx, report)
    if fmt == "docx":
        return to_docx(letter, font_preset(ctx, preset))
    return to_text(letter, markdown=(fmt == "md")).encode("utf-8")


def export(ctx: Context, report: Report, fmt: str, path: Path, preset: str | None = None) -> Path:
    """Write atomically: a half-written file is never left where the officer expects the document."""
    data = render(ctx, report, fmt, preset)
    path = Path(path).expanduser()
    from models.outfile import write_output
    try:
        write_output(path, data)
    except OSError as exc:
        raise ValidationError({"output": ("error.report.write_failed",
                                          {"path": str(path), "detail": exc.strerror or str(exc)})})
    return path
