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
from datetime import datetime, timedelta
from typing import Any

from models import audit
from models.context import Context
from models.errors import ValidationError
from models.i18n import t
from models.incidents import _clean_text, facts, get_incident, report_facts
from models.deadlines import obligations
from models.documents import category_zh, cn_duration, person
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
    by: str = ""               # who submitted it: the person's name from the account profile

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
        return "【演练】" + t("prevention.drill.doc_title", school=self.school, title=self.title, lang="zh")


def _require_drill(inc: Incident) -> None:
    if not inc.is_drill:
        raise ValidationError({"drill_incident": ("prevention.error.not_a_drill", {"code": inc.code})})


def end_drill(ctx: Context, ref: Any, findings: str = "", at: datetime | None = None) -> Incident:
    """Close a drill (no final report needed); findings are kept as a note for the summary.

    ``at`` is when the drill really ended (``drill end --at 11:40``), when that was
    before the command was typed; it may not lie in the future or before the drill began.
    """
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    _require_drill(inc)
    if inc.status in ("closed", "withdrawn"):
        raise ValidationError({"status": ("prevention.error.drill_ended", {"code": inc.code})})
    findings = _clean_text(findings, "drill_findings")
    now = ctx.now()
    if at is not None:
        if at > now + timedelta(minutes=1):
            raise ValidationError({"drill_end_at": ("error.time_future", {})})
        start = inc.occurred_at or inc.discovered_at
        if start is not None and at < start:
            raise ValidationError({"drill_end_at": ("prevention.error.drill_end_before_start",
                                                    {"start": fmt_local(start, ctx.zone)})})
        now = min(at, now)
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
    as_of = inc.closed_at or ctx.now()
    # Evaluate the deadlines as they stood when the drill ended, as if it were still open:
    # a closed incident's unmet stages would otherwise read "not applicable".
    f = replace(facts(inc), status="handled" if inc.handling_closed_at else "open")
    reports = list(Report.select().where(Report.incident == inc))
    obls = obligations(f, report_facts(reports), ctx.policy, as_of, ctx.settings.due_soon_minutes)
    start = inc.discovered_at
    summary = DrillSummary(code=inc.code, title=inc.title, school=ctx.settings.school_name or "",
                           category=category_zh(inc.category, inc.subcategory), occurred_at=inc.occurred_at,
                           started_at=start, ended_at=inc.closed_at, as_of=as_of)
    for ob in sorted(obls, key=lambda o: (o.due_at is None, o.due_at or as_of, o.regime, o.stage)):
        if ob.state == "not_applicable":
            continue
        stage = ob.stage_spec or ctx.policy.stage(ob.regime, ob.stage)
        name = f"{stage.zh}{ob.seq}" if stage.repeatable and ob.seq > 1 else stage.zh
        rep = Report.get_or_none(Report.id == ob.report_id) if ob.report_id else None
        row = StageRow(name=name, due_at=ob.due_at, done_at=ob.submitted_at, state=ob.state,
                       allowed_s=(ob.due_at - start).total_seconds() if ob.due_at else None,
                       took_s=(ob.submitted_at - start).total_seconds() if ob.submitted_at else None,
                       by=person(rep.submitted_by) if rep else "")
        summary.stages.append(row)
        # The summary is a document: Chinese whatever the interface language (issue 16).
        if ob.state == "met_late":
            summary.problems.append(t("prevention.drill.problem.late", stage=name, late=cn_duration(row.late_s),
                                      lang="zh"))
        elif ob.state in ("overdue", "missed"):
            summary.problems.append(t("prevention.drill.problem.missed", stage=name,
                                      late=cn_duration((as_of - ob.due_at).total_seconds()), lang="zh"))
    for c in CallLog.select().where(CallLog.incident == inc).order_by(CallLog.at):
        summary.calls.append(CallRow(at=c.at, name=c.contact_name, role=c.contact_role, outcome=c.outcome,
                                     since_start_s=(c.at - start).total_seconds(), said=c.said))
        if c.outcome != "reached":
            summary.problems.append(t("prevention.drill.problem.call", name=c.contact_name or c.number,
                                      outcome=t(f"prevention.drill.outcome.{c.outcome}", default="未接通",
                                                lang="zh"),
                                      at=_clock(c.at, ctx.zone), lang="zh"))
    if not summary.calls:
        summary.problems.append(t("prevention.drill.problem.no_calls", lang="zh"))
    for n in Note.select().where(Note.incident == inc).order_by(Note.at):
        summary.notes.append((n.at, person(n.author), n.text))
    return summary


# ---------------------------------------------------------------- rendering
# The summary is a document kept with the school's records: Chinese only, times as
# 11月25日8时05分, lengths of time as 2小时55分, people by name (issue 16).

def hm(seconds: float) -> str:
    """Compact length for narrow terminal columns: ``1h30m``, ``10m`` (never in a document)."""
    minutes = int(round(abs(seconds) / 60))
    h, m = divmod(minutes, 60)
    if h >= 48:
        return f"{h // 24}d{h % 24:02d}h"
    return f"{h}h{m:02d}m" if h else f"{m}m"


def _clock(dt: datetime, zone) -> str:
    local = dt.astimezone(zone)
    return f"{local.hour}时{local.minute:02d}分"


def _when(dt: datetime | None, zone) -> str:
    if dt is None:
        return "—"
    local = dt.astimezone(zone)
    return f"{local.month}月{local.day}日{local.hour}时{local.minute:02d}分"


_STATE_ZH = {"met": "按时完成", "met_late": "超时完成", "overdue": "未完成（超时）", "missed": "未完成（超时）",
             "due_soon": "未完成", "pending": "未完成", "waiting": "未开始计时"}


def _state_words(row: StageRow) -> str:
    return _STATE_ZH.get(row.state, "未完成")


def _role_zh(role: str) -> str:
    from models.contacts import role_spec
    spec = role_spec(role) if role else None
    return spec.zh if spec else role


def table_rows(ctx: Context, s: DrillSummary) -> list[list[str]]:
    """Step, planned time (and the time allowed), actual time (and the time taken), who, result."""
    rows = [["环节", "计划时限", "实际完成", "用时", "完成人", "结果"]]
    for r in s.stages:
        took = cn_duration(r.took_s) if r.took_s is not None else "—"
        if r.allowed_s is not None:
            took += f"（限{cn_duration(r.allowed_s)}）"
        rows.append([r.name, _when(r.due_at, ctx.zone), _when(r.done_at, ctx.zone), took, r.by or "—",
                     _state_words(r)])
    return rows


def call_rows(ctx: Context, s: DrillSummary) -> list[list[str]]:
    rows = [["时间", "开始后", "联系人", "结果"]]
    for c in s.calls:
        role = _role_zh(c.role)
        who = f"{c.name}（{role}）" if role and c.name else (c.name or role)
        rows.append([_when(c.at, ctx.zone), cn_duration(c.since_start_s), who,
                     t(f"prevention.drill.outcome.{c.outcome}", default="未接通", lang="zh")])
    return rows


def _facts_lines(ctx: Context, s: DrillSummary) -> list[tuple[str, str]]:
    ended = _when(s.ended_at, ctx.zone) if s.ended_at else "进行中"
    duration = cn_duration(((s.ended_at or s.as_of) - s.started_at).total_seconds())
    return [("编号", s.code), ("演练情景", s.title), ("事件类别", s.category),
            ("开始（发现）时间", _when(s.started_at, ctx.zone)), ("结束时间", ended), ("历时", duration)]


def _facts_prose(ctx: Context, s: DrillSummary) -> str:
    start = _when(s.started_at, ctx.zone)
    duration = cn_duration(((s.ended_at or s.as_of) - s.started_at).total_seconds())
    if s.ended_at:
        span = f"演练于{start}开始，{_when(s.ended_at, ctx.zone)}结束，历时{duration}。"
    else:
        span = f"演练于{start}开始，至今仍在进行（已历时{duration}）。"
    return f"演练编号{s.code}，情景为“{s.title}”，事件类别为{s.category}。{span}"


def to_markdown(ctx: Context, s: DrillSummary) -> str:
    from models.text import md_safe as md
    out = [f"# {md(s.doc_title)}", "", f"> {t('prevention.drill.banner', lang='zh')}", ""]
    out += [f"- **{md(k)}**：{md(v)}" for k, v in _facts_lines(ctx, s)]
    for heading, rows in (("各报告环节用时与时限", table_rows(ctx, s)), ("电话联络", call_rows(ctx, s))):
        out += ["", f"## {heading}", ""]
        if len(rows) == 1:
            out.append("无")
            continue
        out.append("| " + " | ".join(rows[0]) + " |")
        out.append("|" + "---|" * len(rows[0]))
        for r in rows[1:]:
            out.append("| " + " | ".join(md(c).replace("|", "\\|") for c in r) + " |")
    out += ["", "## 存在的问题", ""]
    out += [f"{i}. {md(p)}" for i, p in enumerate(s.problems, 1)] or ["无"]
    out += ["", "## 演练记录", ""]
    out += [f"- {_when(at, ctx.zone)} {md(who)}：{md(text)}" if who else f"- {_when(at, ctx.zone)} {md(text)}"
            for at, who, text in s.notes] or ["无"]
    return "\n".join(out) + "\n"


def _letter(ctx: Context, s: DrillSummary):
    """The summary as an internal record in the reports' official layout, with its tables."""
    from models.documents import Letter, Section, cn_date
    sections = [Section("一、演练基本情况", [_facts_prose(ctx, s)])]
    stages = table_rows(ctx, s)
    sections.append(Section("二、各报告环节完成情况", [] if len(stages) > 1 else ["无"],
                            stages if len(stages) > 1 else None, (4, 6.25, 6.25, 4.5, 3, 3.5)))
    calls = call_rows(ctx, s)
    sections.append(Section("三、电话联络情况", [] if len(calls) > 1 else ["无"],
                            calls if len(calls) > 1 else None, (6, 4.5, 11, 5)))
    sections.append(Section("四、存在的问题", [f"{i}.{p}" for i, p in enumerate(s.problems, 1)] or ["无"]))
    sections.append(Section("五、演练记录", [f"{_when(at, ctx.zone)}，{who + '：' if who else ''}{text}"
                                          for at, who, text in s.notes] or ["无"]))
    return Letter(title=s.doc_title, recipient="", opening=t("prevention.drill.banner", lang="zh"),
                  sections=sections, closing="", signature=s.school,
                  date=cn_date(s.ended_at or s.as_of, ctx.zone), kind="internal", is_drill=True,
                  title_hints=tuple(h for h in (s.school,) if h), author=s.school,
                  created=s.started_at, modified=s.ended_at or s.as_of)


def to_docx(ctx: Context, s: DrillSummary) -> bytes:
    """GB/T 9704 layout through the reports' document module (A4, margins, faces, page numbers)."""
    from models.documents import font_preset
    from models.documents import to_docx as letter_docx
    return letter_docx(_letter(ctx, s), font_preset(ctx))


def file_stem(s: DrillSummary) -> str:
    """``2026-003-演练总结``."""
    return f"{s.code}-演练总结"
