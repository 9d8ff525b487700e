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
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from models.context import Context
from models.errors import ValidationError
from models.reports import find_stage, form_fields
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
TABLE_PT = 12         # 小四: tables of times fit their cells
LINE_TWIPS = 579      # 28.95 pt: 22 lines fill the 225 mm block (580 gives 21 in LibreOffice)
CONDENSE_TWIPS = -5   # −0.25 pt per character: 28 characters fill the 156 mm line
TITLE_CHARS_PER_LINE = 20  # 156 mm / 22 pt
HEADER_DISTANCE_MM = 15
FOOTER_DISTANCE_MM = 25    # tuned in the rendered PDF: the dash 7 mm below the text block


# ---------------------------------------------------------------- Chinese values

GRADE_NUMERALS = {"I": "Ⅰ", "II": "Ⅱ", "III": "Ⅲ", "IV": "Ⅳ"}
CHANNEL_ZH = {"phone": "电话", "fax": "传真", "email": "电子邮件", "in_person": "当面报送",
              "online": "网上报送系统"}


def cn_time(dt: datetime | None, zone, minutes: bool = True) -> str:
    """``2026年11月25日9时05分``; always Chinese, whatever the interface language."""
    if dt is None:
        return ""
    local = dt.astimezone(zone)
    text = f"{local.year}年{local.month}月{local.day}日{local.hour}时"
    if minutes or local.minute:
        text += f"{local.minute:02d}分"
    return text


def cn_date(dt: datetime, zone) -> str:
    local = dt.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日"


def cn_duration(seconds: float | None) -> str:
    """``2小时55分``, ``30分钟``, ``3天2小时``: how a Chinese review states a length of time."""
    if seconds is None:
        return "—"
    minutes = int(round(abs(seconds) / 60))
    h, m = divmod(minutes, 60)
    if h >= 48:
        d, h = divmod(h, 24)
        return f"{d}天{h}小时" if h else f"{d}天"
    if not h:
        return f"{m}分钟"
    return f"{h}小时{m}分" if m else f"{h}小时"


def grade_zh(grade_id: str | None) -> str:
    """``一般（Ⅳ级）``: the name and the Roman numeral of GB/T 20986, never ASCII ``IV``."""
    from models.taxonomy import load_taxonomy
    if not grade_id:
        return ""
    try:
        g = load_taxonomy().grade(grade_id)
    except ValidationError:
        return grade_id
    return f"{g.zh}（{GRADE_NUMERALS.get(g.id, g.id)}级）" if g else ""


def category_zh(cat_id: str | None, sub_id: str | None = None) -> str:
    from models.taxonomy import load_taxonomy
    if not cat_id:
        return ""
    try:
        cat = load_taxonomy().category(cat_id)
    except ValidationError:
        return cat_id
    sub = cat.sub(sub_id) if sub_id else None
    return cat.zh + (f"（{sub.zh}）" if sub else "")


@lru_cache(maxsize=1)
def _english_values() -> dict[str, str]:
    """What earlier releases saved as prefills under an English interface, and its Chinese."""
    from models.taxonomy import load_taxonomy
    tax = load_taxonomy()
    out: dict[str, str] = {}
    for cat in tax.categories:
        out[cat.en] = cat.zh
        out[cat.id] = cat.zh
        for sub in cat.subcategories:
            out[f"{cat.en}（{sub.en}）"] = f"{cat.zh}（{sub.zh}）"
            out[f"{cat.en} ({sub.en})"] = f"{cat.zh}（{sub.zh}）"
            out[f"{cat.zh}（{sub.zh}）"] = f"{cat.zh}（{sub.zh}）"
    for g in tax.grades:
        good = f"{g.zh}（{GRADE_NUMERALS[g.id]}级）"
        for bad in (g.en, f"{g.en}（{g.id}）", f"{g.en} ({g.id})", f"{g.zh}（{g.id}）", g.id):
            out[bad] = good
    return out


_ISO_TIME = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?\b")


def zh_value(value: str) -> str:
    """A stored field value as it must print: English prefills and ISO times made Chinese.

    Text the officer typed is left alone; only the exact strings an English
    interface used to prefill (category and grade names, ``2026-11-25 08:30``,
    ``Discovered: …; occurred: …``) are replaced.
    """
    v = value.strip()
    table = _english_values()
    if v in table:
        return table[v]
    m = re.fullmatch(r"Discovered: (.*); occurred: (.*)", v)
    if m:
        v = f"发现：{m.group(1)}；发生：{m.group(2)}"

    def iso(m: re.Match) -> str:
        y, mo, d, h, mi = (int(x) for x in m.groups())
        return f"{y}年{mo}月{d}日{h}时{mi:02d}分"
    return _ISO_TIME.sub(iso, v)


def person(username: str | None) -> str:
    """A person's name and title from the account profile; never a login name."""
    from models.tables import User
    if not username or username == "-":
        return ""
    u = User.get_or_none(User.username == username)
    if u is None:
        return ""
    name = (u.display_name or "").strip()
    if not name or name == username:
        return ""
    title = (getattr(u, "title", "") or "").strip()
    return f"{name}（{title}）" if title and title not in name else name


def _not_a_login(name: str) -> str:
    """A login name where a person's name belongs becomes the person's name, or nothing."""
    from models.tables import User
    name = (name or "").strip()
    if not name or not re.fullmatch(r"[A-Za-z0-9._@-]+", name):
        return name
    u = User.get_or_none(User.username == name)
    if u is not None:
        return person(name)
    return "" if name in _logins_seen() else name


def _logins_seen() -> set[str]:
    """Names the database knows as logins (the audit's actors), when the account is gone."""
    from models.tables import AuditEvent
    try:
        return {a for (a,) in AuditEvent.select(AuditEvent.actor).distinct().tuples()}
    except Exception:  # noqa: BLE001 - a missing table must not stop an export
        return set()


# ---------------------------------------------------------------- stage declarations (assets/policies)

@lru_cache(maxsize=None)
def _doc_decl(regime: str) -> tuple[dict, dict]:
    """The ``[documents]`` table of a regime's policy file, and its stages' raw entries."""
    from models import tomlcache
    from models.policy import POLICY_DIR
    for path in sorted(POLICY_DIR.glob("*.toml")):
        data = tomlcache.load(path)
        if data.get("id") == regime:
            return data.get("documents", {}) or {}, {s.get("id"): s for s in data.get("stages", [])}
    return {}, {}


def doc_kind(regime: str, stage: str) -> str:
    """``report`` (to an authority), ``letter`` (to students and guardians), ``oral`` (a call record)."""
    decl, stages = _doc_decl(regime)
    kind = ((decl.get("stages") or {}).get(stage) or {}).get("kind")
    if kind:
        return kind
    return "oral" if (stages.get(stage) or {}).get("kind") == "oral" else "report"


def declared_recipient(ctx: Context, regime: str, stage: str) -> str:
    """The stage's addressee as ``assets/policies`` declares it; the school plan's is the configured bureau."""
    decl, _ = _doc_decl(regime)
    own = ((decl.get("stages") or {}).get(stage) or {}).get("recipient")
    if own:
        return own
    if decl.get("recipient_setting") == "bureau" and ctx.settings.bureau:
        return ctx.settings.bureau
    if decl.get("recipient"):
        return decl["recipient"]
    try:
        return ctx.policy.regime(regime).recipient_zh
    except KeyError:
        return ""


# ---------------------------------------------------------------- the letter

CN_NUMERALS = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1 → 一 … 10 → 十, 11 → 十一, 20 → 二十 (enough for sections and 续报 numbers)."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMERALS[ones - 1] if ones else "")


# Sections under the plan's headings (document-format.md §5); each lists the fields it holds,
# written as continuous prose. A field not named here gets a section of its own when it is long,
# or joins a first "基本情况" section when it is one short line, so nothing typed is left out.
SECTIONS: dict[str, list[tuple[str, list[str]]]] = {
    "school_plan.first": [
        ("事件基本情况", ["summary", "affected_scope", "damage", "threat", "trend"]),
        ("已采取的处置措施", ["measures_taken", "scene_preservation", "police_reported"]),
        ("下一步工作", ["next_steps"]),
        ("需要协调解决的事项", ["support_requested"]),
    ],
    "school_plan.follow_up": [
        ("事件起因及性质", ["cause_analysis", "nature"]),
        ("影响程度评定", ["impact_assessment", "service_status"]),
        ("拟采取的措施", ["planned_measures"]),
    ],
    "school_plan.continuing": [
        ("事件最新进展", ["tracking", "reactions"]),
        ("处置工作情况", ["handling"]),
        ("下一步工作", ["next_steps"]),
    ],
    "school_plan.final": [
        ("事件基本情况", ["course_and_handling"]),
        ("原因分析", ["root_cause"]),
        ("造成的危害", ["damage"]),
        ("事件评定结果", ["evaluation"]),
        ("责任追究", ["accountability"]),
        ("整改措施", ["rectification"]),
        ("经验教训及防范措施", ["lessons"]),
        ("遗留问题", ["remaining_issues"]),
    ],
    "school_plan.oral": [
        ("口头报告要点", ["summary"]),
        ("上级指示", ["instructions"]),
    ],
    "school_plan.other": [("", ["matter"])],
    "cac_2025.initial": [
        ("涉事单位及系统基本情况", ["system_info"]),
        ("事件基本情况", ["times", "location", "event_type", "event_level", "impact"]),
        ("已采取的应急处置措施及效果", ["measures_taken", "ransom_details", "scene_preservation"]),
        ("事态发展趋势及原因初步分析", ["trend", "preliminary_cause", "trace_clues"]),
        ("拟进一步采取的措施及请求支援事项", ["next_steps"]),
    ],
    "pipl.individual_notice": [
        ("发生了什么", ["cause", "info_types", "possible_harm"]),
        ("学校已经采取的措施", ["remedial_measures"]),
        ("请您这样做", ["mitigation_for_individuals"]),
    ],
}
# Said in the opening sentence: not repeated in the sections.
OPENING_IDS: dict[str, tuple[str, ...]] = {
    "school_plan.first": ("occurred_at", "discovered_at", "location", "info_source", "event_category",
                          "event_level"),
    "school_plan.follow_up": ("ref_previous",),
    "school_plan.continuing": ("ref_previous",),
    "school_plan.final": ("closed_at",),
}
# Internal to the school: never printed (how the families were told is a submission fact).
HIDDEN_IDS: dict[str, tuple[str, ...]] = {"pipl.individual_notice": ("channel_used",)}
# Header fields are laid out as parts of the letter, not as sections.
HEADER_IDS = ("reporting_unit", "recipient", "signer", "contact_person", "contact_phone")
# Run-in leads where the form's label reads badly in a sentence.
LEADS = {"summary": "", "course_and_handling": "", "times": "", "measures_taken": "", "police_reported": "报警情况", "scene_preservation": "现场保护与证据保留情况",
         "service_status": "系统恢复情况", "event_type": "事件类型",
         "event_level": "事件级别", "info_types": "涉及的个人信息", "possible_harm": "可能造成的影响",
         "ransom_details": "勒索情况"}
INLINE_MAX = 60


@dataclass
class Item:
    """A labelled value (release 0.1's form layout; the annual report still builds with it)."""
    label: str
    value: str


@dataclass
class Section:
    heading: str
    paras: list[str] = field(default_factory=list)
    table: list[list[str]] | None = None   # first row is the header
    col_widths: tuple[float, ...] = ()     # in characters
    items: list[Item] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Items become prose: "label：value" run in, a multi-line value keeps its lines.
        if self.paras and any(isinstance(p, Item) for p in self.paras):
            self.items, self.paras = list(self.paras), []
        if self.items and not self.paras and all(isinstance(i, Item) for i in self.items):
            self.paras = _prose([(i.label, i.value) for i in self.items], lead=True)
        elif self.items and not self.paras:
            self.paras = [str(i) for i in self.items]
        self.items = []


@dataclass
class Letter:
    title: str
    recipient: str
    opening: str
    sections: list[Section]
    closing: str
    signature: str
    date: str
    note: str = ""                 # one 附注 line (callers of release 0.1); the lines are ``notes``
    notes: list[str] = field(default_factory=list)
    kind: str = "report"           # report | letter | oral | internal
    is_drill: bool = False
    is_draft: bool = False
    title_hints: tuple[str, ...] = ()
    title_lines: tuple[str, ...] = ()   # the officer's own line breaks (``--title "…|…"``)
    author: str = ""
    created: datetime | None = None
    modified: datetime | None = None

    def __post_init__(self) -> None:
        if self.note and not self.notes:
            self.notes = [self.note]
        self.note = "\n".join(self.notes)

    def body_text(self) -> str:
        return "\n".join([self.opening, *(p for s in self.sections for p in s.paras),
                          *(c for s in self.sections for row in (s.table or []) for c in row)])

    def field_values(self) -> list[str]:
        return [p for s in self.sections for p in s.paras]

    def all_text(self) -> str:
        return "\n".join([self.title, self.recipient, self.body_text(), self.closing, self.signature,
                          self.date, self.note])


DRAFT_MARK = "草稿（未报送）"


def _short(label: str) -> str:
    return re.sub(r"（[^）]*）|\([^)]*\)", "", label).strip()


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in "。！？；…”" else text + "。"


_LIST_ITEM = re.compile(r"^(\d+[.．、]|[（(][\d一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+、)")


def _prose(items: list[tuple[str, str]], lead: bool) -> list[str]:
    """Field values as paragraphs: short one-line values run together, long ones keep their lines."""
    paras: list[str] = []
    run: list[str] = []
    for label, value in items:
        lines = [ln.strip() for ln in value.splitlines() if ln.strip()]
        head = f"{label}：" if lead and label else ""
        if len(lines) == 1 and len(lines[0]) <= INLINE_MAX:
            run.append(_sentence(head + lines[0]))
            continue
        if run:
            paras.append("".join(run))
            run = []
        if head and lines and _LIST_ITEM.match(lines[0]):
            paras.append(head)      # a list follows: its lead stands alone
            paras.extend(lines)
        elif lines:
            paras.append(head + lines[0])
            paras.extend(lines[1:])
    if run:
        paras.append("".join(run))
    return paras


def _same_day(a: str, b: str) -> str:
    """``b`` without its date when ``a`` and ``b`` are the same day: each date stated once."""
    m = re.match(r"^\d{4}年\d{1,2}月\d{1,2}日", a or "")
    if m and b.startswith(m.group(0)) and len(b) > len(m.group(0)):
        return "当日" + b[len(m.group(0)):]
    return b


def _event_phrase(category: str) -> str:
    category = category.strip()
    if not category:
        return "一起网络安全事件"
    return "一起" + (category if "事件" in category else category + "事件")


def _title(ctx: Context, report: Report, inc, kind: str) -> str:
    _, st = find_stage(ctx, report.regime, report.stage)
    school = ctx.settings.school_name or ""
    subject = inc.title if not school or inc.title.startswith(school) else school + inc.title
    subject = subject[:-2] if subject.endswith("事件") else subject
    if kind == "letter":
        title = "致学生及家长的一封信"
    elif report.regime == "school_plan" and report.stage in ("first", "follow_up", "continuing", "final"):
        if report.stage == "continuing":
            title = f"关于{subject}事件的续报（续报{cn_number(report.seq)}）"
        elif report.stage == "final":
            title = f"关于{subject}事件处置情况的报告（终报）"
        else:
            title = f"关于{subject}事件的{st.zh}"
    elif kind == "oral":
        title = f"{subject}事件口头报告记录"
    elif report.regime == "cac_2025" and report.stage == "summary":
        title = f"关于{subject}事件的处置总结报告"
    elif report.regime == "pipl":
        title = f"关于{subject}事件涉及个人信息情况的报告"
    else:
        seq = f"（{cn_number(report.seq)}）" if st.repeatable and report.seq > 1 else ""
        title = f"关于{subject}事件的{st.zh}{seq}"
    if report.revision > 1:
        title += "（更正）"
    if inc.is_drill:
        title = "【演练】" + title
    return title


def _opening(ctx: Context, report: Report, inc, v: dict, kind: str) -> str:
    unit = v.get("reporting_unit") or ctx.settings.school_name or "我校"
    drill = "（本报告为应急演练，非真实事件）" if inc.is_drill else ""
    key = f"{report.regime}.{report.stage}"
    subject = inc.title[:-2] if inc.title.endswith("事件") else inc.title
    if kind == "letter":
        when = cn_date(inc.discovered_at, ctx.zone)
        return (f"{when}，学校发现{subject}，可能涉及部分同学的个人信息。学校高度重视，已第一时间处置。"
                f"现将有关情况和需要您注意的事项告知如下：{drill}")
    if kind == "oral":
        at = cn_time(report.submitted_at, ctx.zone) if report.submitted_at else "（尚未报告）"
        to = report.recipient or declared_recipient(ctx, report.regime, report.stage) or "上级主管部门"
        return f"{at}，{unit}以{CHANNEL_ZH.get(report.channel or 'phone', '电话')}向{to}口头报告如下：{drill}"
    if key == "school_plan.first":
        occurred, discovered = v.get("occurred_at", ""), v.get("discovered_at", "")
        place = v.get("location", "")
        parts = []
        lead = f"{occurred}，" if occurred else ""
        parts.append(f"{lead}{unit}{place}发生{_event_phrase(v.get('event_category', ''))}")
        if v.get("event_level"):
            parts[-1] += f"，初判级别为{v['event_level']}"
        text = "，".join(parts) + "。"
        if discovered:
            how = f"（{v['info_source'].rstrip('。')}）" if v.get("info_source") else ""
            text += f"该事件于{_same_day(occurred, discovered)}发现{how}。"
        elif v.get("info_source"):
            text += _sentence(f"发现途径：{v['info_source']}")
        return text + f"现将有关情况报告如下：{drill}"
    prev = v.get("ref_previous", "")
    m = re.fullmatch(r"(.+?)（(.+)）", prev)
    already = f"{unit}已于{m.group(2)}报送{m.group(1)}，" if m else (f"继{prev}之后，" if prev else "")
    if key == "school_plan.follow_up":
        return f"关于{subject}事件，{already}现将事件起因、性质和影响程度报告如下：{drill}"
    if key == "school_plan.continuing":
        return f"关于{subject}事件，{already}现将最新进展续报如下：{drill}"
    if key == "school_plan.final":
        closed = v.get("closed_at")
        done = f"已于{closed}处置完毕" if closed else "已处置完毕"
        return f"{subject}事件{done}，现将处置情况总结报告如下：{drill}"
    if report.regime == "cac_2025" and report.stage == "summary":
        return f"{subject}事件处置工作已结束，现将事件处置总结报告如下：{drill}"
    # The time goes in the opening only when no field of the stage states it: each time once.
    timed = any(f.id in ("times", "discovered_at", "occurred_at") for f in form_fields(ctx, report.regime,
                                                                                        report.stage))
    when = "" if timed else cn_time(inc.discovered_at, ctx.zone) + "，"
    return f"{when}{unit}发现{subject}事件。现将有关情况报告如下：{drill}"


def _report_table(ctx: Context, report: Report) -> Section:
    """Every report sent for the incident: stage, deadline, when sent, on time / late / missed."""
    from models.deadlines import obligations
    from models.incidents import facts, report_facts
    from models.reports import due_at
    inc = report.incident
    now = ctx.now()
    rows = [["报告", "时限", "报送时间", "情况"]]
    sent = (Report.select().where((Report.incident == inc) & (Report.status.in_(("submitted", "superseded")))
                                  & (Report.revision == 1) & Report.submitted_at.is_null(False))
            .order_by(Report.submitted_at))
    for r in sent:
        due = due_at(ctx, inc, r.regime, r.stage, r.seq, r.submitted_at)
        state = "—" if due is None else ("迟报" if r.submitted_at > due else "按时")
        rows.append([_stage_zh(ctx, r.regime, r.stage, r.seq), _short_time(due, ctx.zone) if due else "无",
                     _short_time(r.submitted_at, ctx.zone), state])
    reps = report_facts(Report.select().where(Report.incident == inc))
    for ob in obligations(facts(inc), reps, ctx.policy, now, ctx.settings.due_soon_minutes):
        if ob.state in ("overdue", "missed") and not (ob.regime == report.regime and ob.stage == report.stage):
            rows.append([_stage_zh(ctx, ob.regime, ob.stage, ob.seq), _short_time(ob.due_at, ctx.zone), "未报送",
                         "未报"])
    return Section("报告报送情况", [], rows, (8.5, 8.25, 8.25, 2.5))


def _short_time(dt: datetime, zone) -> str:
    """``11月25日8时05分`` for a table cell (the year is the document's own)."""
    return cn_time(dt, zone).split("年", 1)[1]


def _stage_zh(ctx: Context, regime: str, stage: str, seq: int) -> str:
    try:
        _, st = find_stage(ctx, regime, stage)
    except ValidationError:
        return stage
    return f"{st.zh}{seq}" if st.repeatable and (seq > 1 or stage == "continuing") else st.zh


def _facts(ctx: Context, report: Report, kind: str) -> list[str]:
    """Submission facts: when (to the minute), how, to whom, who confirmed; why late."""
    if report.status == "draft" or report.submitted_at is None or kind == "letter":
        return []
    parts = [f"报送时间：{cn_time(report.submitted_at, ctx.zone)}",
             f"报送方式：{CHANNEL_ZH.get(report.channel or '', report.channel or '')}"]
    if kind == "oral":
        call = _oral_call(report)
        caller = person(call.logged_by if call else None) or person(report.submitted_by)
        if caller:
            parts.append(f"报告人：{caller}")
        if call and call.number:
            parts.append(f"拨打电话：{call.number}")
        answered = (call.contact_name if call else "") or report.receipt_confirmed_by or report.recipient
        if answered:
            parts.append(f"接听人：{answered}")
    else:
        if report.recipient:
            parts.append(f"接收人：{report.recipient}")
        if report.receipt_confirmed_by:
            parts.append(f"确认人：{report.receipt_confirmed_by}")
    # The county's receipt (已签收), as the link brought it back: who signed and when.
    from models.county.receipts import receipt_status
    state, receipt = receipt_status(report)
    if state == "earlier":
        # The bureau signed the version before this correction (county2): not this one.
        parts.append(f"县级签收：更正前的第 {receipt.revision or 1} 版已于 {cn_time(receipt.signed_at, ctx.zone)} "
                     f"由 {receipt.signed_by} 签收，本更正尚未签收")
    if state == "signed":
        if kind != "oral" and not report.receipt_confirmed_by:
            parts.append(f"确认人：{receipt.signed_by}")
        elif receipt.signed_by != report.receipt_confirmed_by:
            parts.append(f"县级签收人：{receipt.signed_by}")
        if receipt.signed_at is not None:
            parts.append(f"签收时间：{cn_time(receipt.signed_at, ctx.zone)}")
    if report.late_reason:
        parts.append(f"迟报原因：{report.late_reason.strip().strip('（）()')}")
    return ["（" + "；".join(parts) + "）"]


def _oral_call(report: Report):
    """The answered call nearest the oral report's time, as the call log kept it."""
    from models.tables import CallLog
    calls = [c for c in CallLog.select().where((CallLog.incident == report.incident)
                                               & (CallLog.outcome == "reached"))]
    if not calls or report.submitted_at is None:
        return None
    return min(calls, key=lambda c: abs((c.at - report.submitted_at).total_seconds()))


def recipient_line(ctx: Context, report: Report, values: dict) -> str:
    """Who the document is addressed to: what was recorded wins over what the policy declares.

    The form's own 主送单位 (the school plan's header) first, then the recipient recorded
    at submission, then the stage's declaration in ``assets/policies``.
    """
    kind = doc_kind(report.regime, report.stage)
    if kind == "oral":
        return ""
    if kind == "letter":
        return declared_recipient(ctx, report.regime, report.stage) or "各位同学、各位家长"
    return (values.get("recipient") or (report.recipient or "").strip()
            or declared_recipient(ctx, report.regime, report.stage))


def build_letter(ctx: Context, report: Report) -> Letter:
    """The letter's parts, from the report's stored fields (exactly as frozen when submitted)."""
    inc = report.incident
    key = f"{report.regime}.{report.stage}"
    kind = doc_kind(report.regime, report.stage)
    values = {k: zh_value(str(v or "")) for k, v in (report.fields or {}).items()}
    specs = form_fields(ctx, report.regime, report.stage)
    by_id = {f.id: f for f in specs}
    skip = set(HEADER_IDS) | set(OPENING_IDS.get(key, ())) | set(HIDDEN_IDS.get(key, ()))
    if key not in OPENING_IDS and kind == "oral":
        skip.add("ref_previous")
    sections: list[Section] = []
    used: set[str] = set()

    def label(fid: str) -> str:
        return LEADS[fid] if fid in LEADS else _short(by_id[fid].zh)

    for heading, ids in SECTIONS.get(key, []):
        items = [(label(i), values[i]) for i in ids if i in by_id and values.get(i) and i not in skip]
        used.update(ids)
        if items:
            # One field under its own heading needs no run-in label.
            sections.append(Section(heading, _prose(items, lead=len(items) > 1)))
    rest = [f.id for f in specs if f.id not in used and f.id not in skip and values.get(f.id)]
    short = [i for i in rest if "\n" not in values[i] and len(values[i]) <= INLINE_MAX]
    if short:
        sections.insert(0, Section("基本情况", _prose([(label(i), values[i]) for i in short], lead=True)))
    for fid in rest:
        if fid not in short:
            sections.append(Section(_short(by_id[fid].zh), _prose([("", values[fid])], lead=False)))
    if key == "school_plan.final":
        sections.append(_report_table(ctx, report))
    numbered = [s for s in sections if s.heading]
    if len(numbered) > 1 or kind != "report":
        for n, sec in enumerate(numbered, 1):
            sec.heading = f"{cn_number(n)}、{sec.heading}"
    contact = []
    for who in ("contact_person", "signer"):
        values[who] = _not_a_login(values.get(who, ""))
    if values.get("contact_person"):
        contact.append(f"联系人：{values['contact_person']}")
    if values.get("contact_phone"):
        contact.append(f"联系电话：{values['contact_phone']}")
    if kind == "letter":
        if contact:
            sections.append(Section(f"{cn_number(len(numbered) + 1)}、联系方式",
                                    ["如有疑问，请与学校联系（" + "，".join(contact) + "）。"]))
        contact = []
    notes = []
    note_parts = []
    if values.get("signer") and kind == "report":
        note_parts.append(f"签发人：{values['signer']}")
    if contact:
        note_parts.append("，".join(contact))
    if report.revision > 1 and report.correction_reason:
        note_parts.append(f"更正原因：{report.correction_reason.strip()}")
    if note_parts:
        notes.append("（" + "；".join(note_parts) + "）")
    notes += _facts(ctx, report, kind)
    recipient = recipient_line(ctx, report, values)
    when = report.submitted_at or ctx.now()
    school = ctx.settings.school_name or ""
    closing = {"report": "特此报告。", "oral": "",
               "letter": "学校将持续做好学生个人信息保护工作。感谢各位同学和家长的理解与支持！"}.get(kind, "")
    return Letter(
        title=_title(ctx, report, inc, kind),
        recipient=(recipient.rstrip("：:") + "：") if recipient else "",
        opening=_opening(ctx, report, inc, values, kind),
        sections=sections,
        closing=closing,
        signature=values.get("reporting_unit") or school,
        date=cn_date(when, ctx.zone),
        notes=notes,
        kind=kind,
        is_drill=inc.is_drill,
        is_draft=report.status == "draft",
        title_hints=tuple(h for h in (school, inc.title) if h),
        author=school or values.get("reporting_unit", ""),
        created=report.created_at,
        modified=report.submitted_at or report.updated_at,
    )


# Words a title must not be broken inside, and places where a break reads well.
_BREAK_BEFORE = ("的", "（", "事件", "关于", "遭受", "发生", "处置", "总结", "致", "涉及", "口头", "续报",
                 "首报", "终报", "跟报")
_BREAK_AFTER = ("关于", "中学", "小学", "学校", "系统", "学籍", "遭受", "发生", "）", "】", "、", "，", "与", "和",
                "及")


def title_breaks(title: str, hints: Iterable[str] = ()) -> set[int]:
    """Positions where a line may end without cutting a word (phrase boundaries)."""
    n = len(title)
    cands: set[int] = set()
    for c in range(1, n):
        if any(title.startswith(w, c) for w in _BREAK_BEFORE) or any(title[:c].endswith(w) for w in _BREAK_AFTER):
            cands.add(c)
    for h in hints:
        i = title.find(h)
        if i >= 0:
            cands.update({i, i + len(h)})
    # Never inside a hint (the school's name, the incident's title words) or a two-character word.
    for h in hints:
        i = title.find(h)
        if i >= 0 and len(h) >= 2:
            inside = set(range(i + 1, i + len(h)))
            inner = {j for j in inside if any(title.startswith(w, j) for w in _BREAK_BEFORE)
                     or any(title[:j].endswith(w) for w in _BREAK_AFTER)}
            cands -= inside - inner
    return {c for c in cands if 0 < c < n}


def split_title(title: str, per_line: int = TITLE_CHARS_PER_LINE, hints: Iterable[str] = ()) -> list[str]:
    """Break a long title into balanced lines at phrase boundaries, no orphan character.

    The boundary nearest the middle wins; a title with no boundary that fits
    is cut evenly (a title of that kind is one long word anyway).
    """
    hints = tuple(hints)
    n = len(title)
    if n <= per_line:
        return [title]
    lines = -(-n // per_line)
    target = -(-n // lines)
    ok = [c for c in title_breaks(title, hints) if 2 <= c <= per_line and n - c >= 2]
    if lines == 2:
        ok = [c for c in ok if n - c <= per_line]
    cut = min(ok, key=lambda c: (abs(c - target), -c)) if ok else target
    rest = title[cut:]
    return [title[:cut], *split_title(rest, per_line, hints)]


# ---------------------------------------------------------------- plain text / Markdown

def to_text(letter: Letter, markdown: bool = True) -> str:
    """For email or a messaging app: the same words; Markdown only when asked for. In Markdown
    every piece of text is made inert first (``models.text.md_safe``: HTML escaped, only http(s)
    links kept)."""
    if markdown:
        letter = _md_letter(letter)
    lines = []
    if letter.is_draft:
        lines += [f"【{DRAFT_MARK}】", ""]
    lines += [("# " if markdown else "") + letter.title, ""]
    if letter.recipient:
        lines += [letter.recipient, ""]
    lines += [letter.opening, ""]
    for sec in letter.sections:
        if sec.heading:
            lines.append(f"**{sec.heading}**" if markdown else sec.heading)
        lines += sec.paras
        if sec.table:
            if markdown:
                lines.append("")
                lines.append("| " + " | ".join(sec.table[0]) + " |")
                lines.append("|" + "---|" * len(sec.table[0]))
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in sec.table[1:]]
            else:
                lines += ["　".join(row) for row in sec.table]
        lines.append("")
    if letter.closing:
        lines += [letter.closing, ""]
    lines += [letter.signature, letter.date]
    lines += letter.notes
    text = "\n".join(lines).rstrip() + "\n"
    if markdown:
        # Two trailing spaces keep line breaks inside a paragraph in Markdown renderers.
        text = "\n".join(line + "  " if line and not line.startswith(("#", "|")) else line
                         for line in text.split("\n"))
    return text


def _md_letter(letter: Letter) -> Letter:
    import dataclasses
    from models.text import md_safe
    sections = [dataclasses.replace(sec, heading=md_safe(sec.heading), paras=[md_safe(p) for p in sec.paras],
                                    table=[[md_safe(c) for c in row] for row in sec.table] if sec.table else None)
                for sec in letter.sections]
    changes = {f.name: md_safe(getattr(letter, f.name)) for f in dataclasses.fields(letter)
               if isinstance(getattr(letter, f.name), str)}
    return dataclasses.replace(letter, sections=sections, notes=[md_safe(n) for n in letter.notes], **changes)


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


_NUMBER_HYPHEN = re.compile(r"(?<=\d)-(?=\d)")


def _run(par, text: str, east: str, latin: str, size: float, bold: bool = False,
         condense: bool = True):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt
    # A hyphen inside a number (0874-3123456) never ends a line: w:noBreakHyphen, the hyphen glyph.
    pieces = _NUMBER_HYPHEN.split(text)
    run = par.add_run(pieces[0])
    for piece in pieces[1:]:
        run._r.append(OxmlElement("w:noBreakHyphen"))
        t_el = OxmlElement("w:t")
        t_el.set(qn("xml:space"), "preserve")
        t_el.text = piece
        run._r.append(t_el)
    run.font.size = Pt(size)
    if bold:
        run.font.bold = True
    rpr = run._r.get_or_add_rPr()
    _set_rfonts(rpr, east, latin)
    if condense:
        sp = OxmlElement("w:spacing")
        sp.set(qn("w:val"), str(CONDENSE_TWIPS))
        rpr.append(sp)   # fix_order puts it before w:sz
    return run


def _ppr_flag(par, tag: str, val: str | None = None) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    ppr = par._p.get_or_add_pPr()
    el = ppr.find(qn(tag))
    if el is None:
        el = OxmlElement(tag)
        ppr.append(el)
    if val is not None:
        el.set(qn("w:val"), val)


def _line_exact(par, twips: int = LINE_TWIPS) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Twips
    pf = par.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Twips(twips)
    pf.space_before = 0
    pf.space_after = 0


def _indent_chars(par, first_line: int = 2, left: float = 0) -> None:
    """First-line indent in characters (``w:firstLineChars`` plus the twips fallback)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    ppr = par._p.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    if first_line:
        ind.set(qn("w:firstLineChars"), str(first_line * 100))
        ind.set(qn("w:firstLine"), str(first_line * BODY_PT * 20))
    if left:
        ind.set(qn("w:left"), str(int(round(left * BODY_PT * 20))))


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
    normal.paragraph_format.widow_control = True


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


def _headers_footers(doc, section, fonts: dict[str, str], draft: bool) -> None:
    """Odd pages: number on the right, one character in; even pages: on the left.

    A draft carries 草稿（未报送） at the top of every page, odd and even.
    """
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
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        par = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
        par.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        par.paragraph_format.space_before = par.paragraph_format.space_after = 0
        if draft:
            par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _run(par, DRAFT_MARK, fonts["h1"], fonts["latin"], PAGE_NO_PT, condense=False)


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


def signature_starts(signature: str, date: str, per_line: int = 28) -> tuple[float, float]:
    """Where signature and date begin, in characters from the left edge of the text block.

    Positioned from the left so the date's first character lands exactly two
    characters right of the signature's first character, whatever the digits'
    real width in the face that prints them.
    """
    sig_right, _ = signature_indents(signature, date)
    sig_start = per_line - sig_right - _char_width(signature)
    return sig_start, sig_start + 2


def _table(doc, sec: Section, fonts: dict[str, str]):
    """A ruled table in 小四 仿宋, header row in 黑体, repeated on every page it spans."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt
    rows = sec.table or []
    ncol = len(rows[0])
    tbl = doc.add_table(rows=len(rows), cols=ncol)
    tbl.style = doc.styles["Table Grid"]
    tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
    tbl.autofit = False          # fixed layout: the widths below are the widths printed
    widths = sec.col_widths or tuple(28 / ncol for _ in range(ncol))
    scale = 27.5 / sum(widths)
    for i, row in enumerate(rows):
        cells = tbl.rows[i].cells
        if i == 0:
            trpr = tbl.rows[i]._tr.get_or_add_trPr()
            h = OxmlElement("w:tblHeader")
            trpr.append(h)
        for j, text in enumerate(row):
            cell = cells[j]
            cell.width = Pt(widths[j] * scale * BODY_PT)
            par = cell.paragraphs[0]
            pf = par.paragraph_format
            pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            pf.line_spacing = Pt(20)
            pf.space_before = pf.space_after = 0
            _ppr_flag(par, "w:snapToGrid", "0")
            _ppr_flag(par, "w:autoSpaceDE", "0")
            _ppr_flag(par, "w:autoSpaceDN", "0")
            if i == 0:
                par.alignment = WD_ALIGN_PARAGRAPH.CENTER
            if i < len(rows) - 1:
                pf.keep_with_next = i == 0
            _run(par, text, fonts["h1"] if i == 0 else fonts["body"], fonts["latin"], TABLE_PT,
                 condense=False)
    # keep the table's grid widths in step with the cells (LibreOffice reads tblGrid)
    tblw = tbl._tbl.tblPr.find(qn("w:tblW"))
    if tblw is not None:
        tblw.set(qn("w:type"), "dxa")
        tblw.set(qn("w:w"), str(int(sum(widths) * scale * BODY_PT * 20)))
    grid = tbl._tbl.find(qn("w:tblGrid"))
    if grid is not None:
        for j, col in enumerate(grid.findall(qn("w:gridCol"))):
            col.set(qn("w:w"), str(int(widths[j] * scale * BODY_PT * 20)))
    return tbl


def to_docx(letter: Letter, preset: str = DEFAULT_PRESET) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    from models.docx_layout import fix_document

    fonts = _fonts(preset)
    doc = Document()
    _setup_defaults(doc, fonts)
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
    sec.top_margin, sec.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    sec.left_margin, sec.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    sec.header_distance = Mm(HEADER_DISTANCE_MM)
    sec.footer_distance = Mm(FOOTER_DISTANCE_MM)
    grid = sec._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sec._sectPr.append(grid)
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(LINE_TWIPS))
    _headers_footers(doc, sec, fonts, letter.is_draft)
    cp = doc.core_properties
    cp.title = letter.title + (f"（{DRAFT_MARK}）" if letter.is_draft else "")
    cp.author = letter.author
    cp.last_modified_by = letter.author
    cp.comments = ""
    cp.keywords = ""
    cp.subject = ""
    cp.category = DRAFT_MARK if letter.is_draft else ""
    cp.language = "zh-CN"
    cp.revision = 1
    for attr, when in (("created", letter.created), ("modified", letter.modified)):
        if when is not None:
            setattr(cp, attr, when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo else when)
    for el in list(cp._element):
        if el.tag.endswith("}lastPrinted"):
            cp._element.remove(el)

    body, latin = fonts["body"], fonts["latin"]

    def para(align=None, keep=False):
        p = doc.add_paragraph()
        _line_exact(p)
        if align is not None:
            p.alignment = align
        if keep:
            p.paragraph_format.keep_with_next = True
        return p

    def blank(keep=False):
        p = para(keep=keep)
        _run(p, "", body, latin, BODY_PT)

    # Title: 2号 小标宋, centred, broken at phrase boundaries into balanced lines.
    p = para(WD_ALIGN_PARAGRAPH.CENTER, keep=True)
    # A 22 pt line does not fit one grid line: without this, every title line takes two.
    _ppr_flag(p, "w:snapToGrid", "0")
    lines = letter.title_lines or split_title(letter.title, hints=letter.title_hints)
    for i, line in enumerate(lines):
        if i:
            p.add_run().add_break()
        _run(p, line, fonts["title"], fonts["title"], TITLE_PT, condense=False)
    blank(keep=True)
    if letter.recipient:
        p = para(keep=True)
        _run(p, letter.recipient, body, latin, BODY_PT)
    p = para()
    _indent_chars(p)
    _run(p, letter.opening, body, latin, BODY_PT)
    last = p
    for section in letter.sections:
        if section.heading:
            p = para(keep=True)
            _indent_chars(p)
            face = fonts["h1"]
            _run(p, section.heading, face, latin, BODY_PT)
            last = p
        for text in section.paras:
            p = para()
            _indent_chars(p)
            _run(p, text, body, latin, BODY_PT)
            last = p
        if section.table:
            _table(doc, section, fonts)
            last = None
    # The signature, date and notes stay with the closing line (特此报告。is body text), or with
    # the last body paragraph when there is no closing: no page may hold only the date and
    # signature, and a long last section is not dragged whole onto the next page.
    if last is not None and not letter.closing:
        last.paragraph_format.keep_with_next = True
        last.paragraph_format.keep_together = True
    if letter.closing:
        p = para(keep=True)
        _indent_chars(p)
        _run(p, letter.closing, body, latin, BODY_PT)
    blank(keep=True)
    sig_start, date_start = signature_starts(letter.signature, letter.date)
    for text, start, keep in ((letter.signature, sig_start, True), (letter.date, date_start, bool(letter.notes))):
        p = para(keep=keep)
        # No extra space between Chinese and digits: the widths counted are the widths printed.
        _ppr_flag(p, "w:autoSpaceDE", "0")
        _ppr_flag(p, "w:autoSpaceDN", "0")
        _indent_chars(p, first_line=0, left=start)
        _run(p, text, body, latin, BODY_PT)
    for i, note in enumerate(letter.notes):
        p = para(keep=i < len(letter.notes) - 1)
        _indent_chars(p)
        _run(p, note, body, latin, BODY_PT)
    fix_document(doc)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- export

FORMATS = ("docx", "pdf", "md", "txt", "short")


def font_preset(ctx: Context, override: str | None = None) -> str:
    preset = override or (ctx.settings.extra or {}).get("document_fonts") or DEFAULT_PRESET
    _fonts(preset)
    return preset


def file_stem(ctx: Context, report: Report) -> str:
    """``2026-001-首报``, ``2026-001-续报2``, ``2026-001-首报-更正1``, ``2026-001-首报-草稿``."""
    try:
        _, st = find_stage(ctx, report.regime, report.stage)
        name = st.zh + (str(report.seq) if st.repeatable else "")
    except ValidationError:
        name = report.stage
    stem = f"{report.incident.code}-{name}"
    if report.revision > 1:
        stem += f"-更正{report.revision - 1}"
    if report.status == "draft":
        stem += "-草稿"
    return re.sub(r'[\\/:*?"<>|\s]+', "_", stem)


def default_path(ctx: Context, report: Report, fmt: str, folder: Path | None = None) -> Path:
    return Path(folder or ".") / f"{file_stem(ctx, report)}.{fmt}"


def flagged_characters(ctx: Context, report: Report) -> list[str]:
    """Characters in the report the official faces cannot print (emoji and the like)."""
    from models.docx_layout import unprintable
    return unprintable("\n".join(str(v or "") for v in (report.fields or {}).values()))


def own_title(letter: Letter, title: str | None) -> Letter:
    """The officer's title in place of the built one; ``|`` marks where its lines break."""
    import dataclasses
    if not title or not title.strip():
        return letter
    parts = [p.strip() for p in re.split(r"[|｜]", title) if p.strip()]
    text = "".join(parts)
    if letter.is_drill and not text.startswith("【演练】"):
        text, parts = "【演练】" + text, ["【演练】" + parts[0], *parts[1:]]
    return dataclasses.replace(letter, title=text, title_lines=tuple(parts) if len(parts) > 1 else ())


def render(ctx: Context, report: Report, fmt: str, preset: str | None = None, title: str | None = None) -> bytes:
    if fmt not in FORMATS:
        raise ValidationError({"format": ("error.report.format_unknown", {"value": fmt})})
    if fmt == "short":
        from models.messaging import short_text
        return (short_text(ctx, report) + "\n").encode("utf-8")
    letter = own_title(build_letter(ctx, report), title)
    if fmt in ("docx", "pdf"):
        data = to_docx(letter, font_preset(ctx, preset))
        return _pdf_bytes(data, file_stem(ctx, report)) if fmt == "pdf" else data
    return to_text(letter, markdown=(fmt == "md")).encode("utf-8")


def _pdf_bytes(docx: bytes, stem: str) -> bytes:
    import subprocess
    import tempfile

    from models.docx_layout import soffice, to_pdf
    if soffice() is None:
        raise ValidationError({"format": ("error.report.pdf_needs_soffice", {})})
    with tempfile.TemporaryDirectory(prefix="xueji-pdf-") as tmp:
        src = Path(tmp) / "doc.docx"
        src.write_bytes(docx)
        try:
            (pdf,) = to_pdf([src], Path(tmp))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            raise ValidationError({"format": ("error.report.pdf_failed", {"detail": str(exc)[:300]})})
        return pdf.read_bytes()


def export(ctx: Context, report: Report, fmt: str, path: Path, preset: str | None = None,
           title: str | None = None) -> Path:
    """Write atomically: a half-written file is never left where the officer expects the document."""
    data = render(ctx, report, fmt, preset, title)
    path = Path(path).expanduser()
    if path.is_dir():
        path = default_path(ctx, report, fmt, path)
    from models.outfile import write_output
    try:
        write_output(path, data)
    except OSError as exc:
        raise ValidationError({"output": ("error.report.write_failed",
                                          {"path": str(path), "detail": exc.strerror or str(exc)})})
    return path
