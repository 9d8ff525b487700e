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
    from models.text import md_safe as md
    out = [f"# {md(s.doc_title)}", "", f"> {t('prevention.drill.banner')}", ""]
    out += [f"- **{md(k)}**：{md(v)}" for k, v in _facts_lines(ctx, s)]
    for heading, rows in ((t("prevention.drill.h.stages"), table_rows(ctx, s)),
                          (t("prevention.drill.h.calls"), call_rows(ctx, s))):
        out += ["", f"## {heading}", ""]
        if len(rows) == 1:
            out.append(t("prevention.drill.none"))
            continue
        out.append("| " + " | ".join(rows[0]) + " |")
        out.append("|" + "---|" * len(rows[0]))
        for r in rows[1:]:
            out.append("| " + " | ".join(md(c).replace("|", "\\|") for c in r) + " |")
    out += ["", f"## {t('prevention.drill.h.problems')}", ""]
    out += [f"{i}. {md(p)}" for i, p in enumerate(s.problems, 1)] or [t("prevention.drill.none")]
    out += ["", f"## {t('prevention.drill.h.notes')}", ""]
    out += [f"- {fmt_local(at, ctx.zone, with_zone=False)} {md(who)}：{md(text)}" for at, who, text in s.notes] \
        or [t("prevention.drill.none")]
    return "\n".join(out) + "\n"


def _letter(ctx: Context, s: DrillSummary):
    """The summary as the reports' neutral ``Letter``, so it prints in the same official layout."""
    from models.documents import Item, Letter, Section, cn_number
    from models.reports import fmt_cn_date
    sections = [Section(t("prevention.drill.h.facts"), [Item(k, v) for k, v in _facts_lines(ctx, s)])]
    stage_items = []
    for row in table_rows(ctx, s)[1:]:
        name, due, done, allowed, took, result = row
        stage_items.append(Item(name, t("prevention.drill.stage_line", due=due, done=done, allowed=allowed,
                                        took=took, result=result)))
    sections.append(Section(t("prevention.drill.h.stages"), stage_items or [Item("", t("prevention.drill.none"))]))
    call_items = [Item(row[0], t("prevention.drill.call_line", after=row[1], who=row[2], outcome=row[3]))
                  for row in call_rows(ctx, s)[1:]]
    sections.append(Section(t("prevention.drill.h.calls"), call_items or [Item("", t("prevention.drill.none"))]))
    sections.append(Section(t("prevention.drill.h.problems"),
                            [Item("", f"{i}. {p}") for i, p in enumerate(s.problems, 1)]
                            or [Item("", t("prevention.drill.none"))]))
    sections.append(Section(t("prevention.drill.h.notes"),
                            [Item(fmt_local(at, ctx.zone, with_zone=False), f"{who}：{text}")
                             for at, who, text in s.notes] or [Item("", t("prevention.drill.none"))]))
    for n, sec in enumerate(sections, 1):
        sec.heading = f"{cn_number(n)}、{sec.heading}"
    return Letter(title=s.doc_title, recipient="", opening=t("prevention.drill.banner"), sections=sections,
                  closing="", signature=s.school, date=fmt_cn_date(s.ended_at or s.as_of, ctx.zone), note="",
                  is_drill=True, title_hints=tuple(h for h in (s.school,) if h))


def to_docx(ctx: Context, s: DrillSummary) -> bytes:
    """GB/T 9704 layout through the reports' document module (A4, margins, faces, page numbers)."""
    from models.documents import font_preset
    from models.documents import to_docx as letter_docx
    return letter_docx(_letter(ctx, s), font_preset(ctx))
