"""Drills (演练): ending one, and the drill summary as a document.

A drill is an ordinary incident with ``is_drill`` set: it runs through every
screen with the real deadlines so people practise, is marked 演练 everywhere,
and is left out of statistics (``models.stats``) and real reporting lists
(``list_incidents(include_drills=False)``).

Ending a drill closes it without the final report a real incident needs, and
the summary says, for each reporting stage, how long it took against its
deadline, who was called and when, and what went wrong.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from models import audit
from models.context import Context
from models.errors import ValidationError
from models.i18n import t
from models.incidents import _clean_text, facts, get_incident, report_facts
from models.deadlines import obligations
from models.roles import require
from models.tables import CallLog, Incident, Note, Report
from models.timeparse import fmt_local
from models.versioning import update_versioned

DRILL_MARK = "演练"


@dataclass
class StageRow:
    name: str
    due_at: datetime | None
    done_at: datetime | None
    state: str                 # met | met_late | overdue | due_soon | pending | waiting
    allowed_s: float | None    # from discovery to the deadline
    took_s: float | None       # from discovery to the submission

    @property
    def late_s(self) -> float | None:
        if self.due_at is None or self.done_at is None:
            return None
        return max(0.0, (self.done_at - self.due_at).total_seconds())


@dataclass
class CallRow:
    at: datetime
    name: str
    role: str
    outcome: str
    since_start_s: float
    said: str = ""


@dataclass
class DrillSummary:
    code: str
    title: str
    school: str
    category: str
    occurred_at: datetime
    started_at: datetime        # discovery: when the drill's clock started
    ended_at: datetime | None   # None while the drill is still running
    as_of: datetime
    stages: list[StageRow] = field(default_factory=list)
    calls: list[CallRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[tuple[datetime, str, str]] = field(default_factory=list)

    @property
    def doc_title(self) -> str:
        return t("prevention.drill.doc_title", school=self.school, title=self.title)


def _require_drill(inc: Incident) -> None:
    if not inc.is_drill:
        raise ValidationError({"drill_incident": ("prevention.error.not_a_drill", {"code": inc.code})})


def end_drill(ctx: Context, ref: Any, findings: str = "") -> Incident:
    """Close a drill (no final report needed); findings are kept as a note for the summary."""
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    _require_drill(inc)
    if inc.status in ("closed", "withdrawn"):
        raise ValidationError({"status": ("prevention.error.drill_ended", {"code": inc.code})})
    findings = _clean_text(findings, "drill_findings")
    now = ctx.now()
    changes = {"status": "closed", "closed_at": now, "updated_at": now}
    if inc.handling_closed_at is None:
        changes["handling_closed_at"] = now
    with ctx.store.write():
        before = {k: getattr(inc, k) for k in changes}
        inc = update_versioned(Incident, inc.id, inc.version, changes, "incident")
        if findings:
            Note.create(incident=inc, author=ctx.actor.username, at=now,
                        text=t("prevention.drill.findings_note", text=findings, lang="zh"))
        audit.record(ctx, "drill.end", "incident", inc.id, audit.diff(before, changes), findings or None)
    return inc


def summarize(ctx: Context, ref: Any) -> DrillSummary:
    inc = get_incident(ref)
    _require_drill(inc)
    from models.taxonomy import load_taxonomy
    as_of = inc.closed_at or ctx.now()
    # Evaluate the deadlines as they stood when the drill ended, as if it were still open:
    # a closed incident's unmet stages would otherwise read "not applicable".
    f = replace(facts(inc), status="handled" if inc.handling_closed_at else "open")
    reports = list(Report.select().where(Report.incident == inc))
    obls = obligations(f, report_facts(reports), ctx.policy, as_of, ctx.settings.due_soon_minutes)
    start = inc.discovered_at
    summary = DrillSummary(code=inc.code, title=inc.title, school=ctx.settings.school_name or "",
                           category=load_taxonomy().category(inc.category).name, occurred_at=inc.occurred_at,
                           started_at=start, ended_at=inc.closed_at, as_of=as_of)
    for ob in sorted(obls, key=lambda o: (o.due_at is None, o.due_at or as_of, o.regime, o.stage)):
        if ob.state == "not_applicable":
            continue
        stage = ob.stage_spec or ctx.policy.stage(ob.regime, ob.stage)
        name = f"{stage.name}{ob.seq}" if stage.repeatable and ob.seq > 1 else stage.name
        row = StageRow(name=name, due_at=ob.due_at, done_at=ob.submitted_at, state=ob.state,
                       allowed_s=(ob.due_at - start).total_seconds() if ob.due_at else None,
                       took_s=(ob.submitted_at - start).total_seconds() if ob.submitted_at else None)
        summary.stages.append(row)
        if ob.state == "met_late":
            summary.problems.append(t("prevention.drill.problem.late", stage=name, late=hm(row.late_s)))
        elif ob.state == "overdue":
            summary.problems.append(t("prevention.drill.problem.missed", stage=name,
                                      late=hm((as_of - ob.due_at).total_seconds())))
    for c in CallLog.select().where(CallLog.incident == inc).order_by(CallLog.at):
        summary.calls.append(CallRow(at=c.at, name=c.contact_name, role=c.contact_role, outcome=c.outcome,
                                     since_start_s=(c.at - start).total_seconds(), said=c.said))
        if c.outcome != "reached":
            summary.problems.append(t("prevention.drill.problem.call", name=c.contact_name or c.number,
                                      outcome=t(f"prevention.drill.outcome.{c.outcome}", default=c.outcome),
                                      at=fmt_local(c.at, ctx.zone, date=False, with_zone=False)))
    if not summary.calls:
        summary.problems.append(t("prevention.drill.problem.no_calls"))
    for n in Note.select().where(Note.incident == inc).order_by(Note.at):
        summary.notes.append((n.at, n.author, n.text))
    return summary


# ---------------------------------------------------------------- rendering

def hm(seconds: float) -> str:
    """Whole minutes are what a drill review talks about: ``1h30m``, ``10m``."""
    minutes = int(round(abs(seconds) / 60))
    h, m = divmod(minutes, 60)
    if h >= 48:
        return f"{h // 24}d{h % 24:02d}h"
    return f"{h}h{m:02d}m" if h else f"{m}m"


def _dur(seconds: float | None) -> str:
    return "—" if seconds is None else hm(seconds)


def _state_words(row: StageRow) -> str:
    return t(f"prevention.drill.state.{row.state}", default=row.state)


def table_rows(ctx: Context, s: DrillSummary) -> list[list[str]]:
    head = [t("prevention.drill.col.stage"), t("prevention.drill.col.due"), t("prevention.drill.col.done"),
            t("prevention.drill.col.allowed"), t("prevention.drill.col.took"), t("prevention.drill.col.result")]
    rows = [head]
    for r in s.stages:
        rows.append([r.name, fmt_local(r.due_at, ctx.zone, with_zone=False),
                     fmt_local(r.done_at, ctx.zone, with_zone=False) if r.done_at else "—",
                     _dur(r.allowed_s), _dur(r.took_s), _state_words(r)])
    return rows


def call_rows(ctx: Context, s: DrillSummary) -> list[list[str]]:
    rows = [[t("prevention.drill.col.time"), t("prevention.drill.col.after"), t("prevention.drill.col.who"),
             t("prevention.drill.col.outcome")]]
    for c in s.calls:
        who = f"{c.name}（{c.role}）" if c.role else c.name
        rows.append([fmt_local(c.at, ctx.zone, with_zone=False), hm(c.since_start_s), who,
                     t(f"prevention.drill.outcome.{c.outcome}", default=c.outcome)])
    return rows


def _facts_lines(ctx: Context, s: DrillSummary) -> list[tuple[str, str]]:
    ended = fmt_local(s.ended_at, ctx.zone, with_zone=False) if s.ended_at else t("prevention.drill.running")
    duration = hm(((s.ended_at or s.as_of) - s.started_at).total_seconds())
    return [(t("prevention.drill.f.code"), s.code), (t("prevention.drill.f.scenario"), s.title),
            (t("prevention.drill.f.category"), s.category),
            (t("prevention.drill.f.started"), fmt_local(s.started_at, ctx.zone, with_zone=False)),
            (t("prevention.drill.f.ended"), ended), (t("prevention.drill.f.duration"), duration)]


def to_markdown(ctx: Context, s: DrillSummary) -> str:
    out = [f"# {s.doc_title}", "", f"> {t('prevention.drill.banner')}", ""]
    out += [f"- **{k}**：{v}" for k, v in _facts_lines(ctx, s)]
    for heading, rows in ((t("prevention.drill.h.stages"), table_rows(ctx, s)),
                          (t("prevention.drill.h.calls"), call_rows(ctx, s))):
        out += ["", f"## {heading}", ""]
        if len(rows) == 1:
            out.append(t("prevention.drill.none"))
            continue
        out.append("| " + " | ".join(rows[0]) + " |")
        out.append("|" + "---|" * len(rows[0]))
        for r in rows[1:]:
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    out += ["", f"## {t('prevention.drill.h.problems')}", ""]
    out += [f"{i}. {p}" for i, p in enumerate(s.problems, 1)] or [t("prevention.drill.none")]
    out += ["", f"## {t('prevention.drill.h.notes')}", ""]
    out += [f"- {fmt_local(at, ctx.zone, with_zone=False)} {who}：{text}" for at, who, text in s.notes] \
        or [t("prevention.drill.none")]
    return "\n".join(out) + "\n"


# GB/T 9704 basics shared with the reports' documents: A4, margins 37/35/28/26 mm,
# title 二号 小标宋, headings 三号 黑体, body 三号 仿宋 (tables 四号 so six columns fit).
FONT_TITLE, FONT_HEAD, FONT_BODY, FONT_LATIN = "方正小标宋简体", "黑体", "仿宋_GB2312", "Times New Roman"


def _run(par, text: str, east: str, size: float, bold: bool = False):
    from docx.oxml.ns import qn
    from docx.shared import Pt
    run = par.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT_LATIN
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east)
    fonts.set(qn("w:ascii"), FONT_LATIN)
    fonts.set(qn("w:hAnsi"), FONT_LATIN)
    return run


def to_docx(ctx: Context, s: DrillSummary) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    doc = Document()
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    doc.core_properties.title = s.doc_title
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, s.doc_title, FONT_TITLE, 22)
    mark = doc.add_paragraph()
    mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(mark, t("prevention.drill.banner"), FONT_HEAD, 14, bold=True)
    for k, v in _facts_lines(ctx, s):
        p = doc.add_paragraph()
        _run(p, f"{k}：", FONT_HEAD, 16)
        _run(p, v, FONT_BODY, 16)

    def heading(text: str) -> None:
        p = doc.add_paragraph()
        _run(p, text, FONT_HEAD, 16)

    def table(rows: list[list[str]]) -> None:
        if len(rows) == 1:
            _run(doc.add_paragraph(), t("prevention.drill.none"), FONT_BODY, 16)
            return
        tbl = doc.add_table(rows=len(rows), cols=len(rows[0]))
        tbl.style = "Table Grid"
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                cell = tbl.cell(i, j)
                cell.text = ""
                _run(cell.paragraphs[0], value, FONT_HEAD if i == 0 else FONT_BODY, 12, bold=(i == 0))

    heading("一、" + t("prevention.drill.h.stages"))
    table(table_rows(ctx, s))
    heading("二、" + t("prevention.drill.h.calls"))
    table(call_rows(ctx, s))
    heading("三、" + t("prevention.drill.h.problems"))
    for i, p in enumerate(s.problems or [t("prevention.drill.none")], 1):
        par = doc.add_paragraph()
        par.paragraph_format.first_line_indent = Pt(32)
        _run(par, f"{i}. {p}" if s.problems else p, FONT_BODY, 16)
    heading("四、" + t("prevention.drill.h.notes"))
    for at, who, text in s.notes or [(None, "", t("prevention.drill.none"))]:
        par = doc.add_paragraph()
        par.paragraph_format.first_line_indent = Pt(32)
        prefix = f"{fmt_local(at, ctx.zone, with_zone=False)} {who}：" if at else ""
        _run(par, prefix + text, FONT_BODY, 16)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
