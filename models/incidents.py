"""Incident services: the only code that creates or changes incidents.

Each function validates, writes in one short transaction with its audit
event, and raises a domain error the CLI and the TUI can show as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from peewee import fn

from models import audit
from models.context import Context
from models.deadlines import IncidentFacts, Obligation, ReportFacts, needs_delay_reason, obligations
from models.errors import NotFound, ValidationError
from models.roles import require
from models.tables import Incident, Report
from models.taxonomy import load_taxonomy
from models.timeparse import check_incident_times
from models.versioning import row_dict, update_versioned
from models.text import clean_text

TITLE_MAX = 200
TEXT_MAX = 20000
EDITABLE = ("title", "category", "subcategory", "occurred_at", "discovered_at", "location", "asset",
            "personal_info", "reported_by", "description", "delay_reason")
TIME_FIELDS = ("occurred_at", "discovered_at")


def _clean_text(value: Any, field: str, required: bool = False, limit: int = TEXT_MAX) -> str:
    return clean_text(value, field, required, limit)


def facts(inc: Incident) -> IncidentFacts:
    return IncidentFacts(id=inc.id, code=inc.code, title=inc.title, category=inc.category,
                         grade=inc.grade, occurred_at=inc.occurred_at, discovered_at=inc.discovered_at,
                         handling_closed_at=inc.handling_closed_at, personal_info=inc.personal_info,
                         personal_info_unsure=inc.personal_info_unsure, status=inc.status, is_drill=inc.is_drill)


def report_facts(reports: Iterable[Report]) -> list[ReportFacts]:
    return [ReportFacts(regime=r.regime, stage=r.stage, seq=r.seq, status=r.status,
                        submitted_at=r.submitted_at, id=r.id) for r in reports]


def _next_code(ctx: Context) -> str:
    year = ctx.now().astimezone(ctx.zone).year
    prefix = f"{year}-"
    last = (Incident.select(fn.MAX(Incident.code)).where(Incident.code.startswith(prefix)).scalar())
    n = int(last.split("-")[1]) + 1 if last else 1
    return f"{prefix}{n:03d}"


@dataclass
class IncidentInput:
    title: str
    category: str
    occurred_at: datetime
    discovered_at: datetime
    subcategory: str | None = None
    grade: str | None = None
    location: str = ""
    asset: str = ""
    personal_info: bool | None = False   # None: 不确定 (the PIPL clocks run until decided)
    reported_by: str = ""
    description: str = ""
    delay_reason: str | None = None
    is_drill: bool = False


def validate_input(ctx: Context, data: IncidentInput) -> dict[str, Any]:
    """Check every field at once, so a form can show each message beside its field."""
    errors: dict[str, tuple[str, dict]] = {}
    clean: dict[str, Any] = {}
    tax = load_taxonomy()

    def attempt(name, fn_):
        try:
            clean[name] = fn_()
        except ValidationError as exc:
            errors.update(exc.fields)

    attempt("title", lambda: _clean_text(data.title, "title", True, TITLE_MAX))
    attempt("category", lambda: tax.category(data.category).id)
    if "category" in clean:
        attempt("subcategory", lambda: (lambda s: s.id if s else None)(
            tax.subcategory(tax.category(clean["category"]), data.subcategory)))
    attempt("grade", lambda: (lambda g: g.id if g else None)(tax.grade(data.grade)))
    for name in ("location", "asset", "reported_by", "description"):
        attempt(name, lambda name=name: _clean_text(getattr(data, name), name))
    attempt("delay_reason", lambda: _clean_text(data.delay_reason, "delay_reason") or None)
    try:
        check_incident_times(data.occurred_at, data.discovered_at, ctx.now())
    except ValidationError as exc:
        errors.update(exc.fields)
    clean.update(occurred_at=data.occurred_at, discovered_at=data.discovered_at,
                 personal_info=bool(data.personal_info), personal_info_unsure=data.personal_info is None,
                 is_drill=bool(data.is_drill))
    if not errors:
        probe = IncidentFacts(id=0, code="", occurred_at=data.occurred_at, discovered_at=data.discovered_at)
        if needs_delay_reason(probe, ctx.policy) and not clean.get("delay_reason"):
            errors["delay_reason"] = ("error.delay_reason_needed", {})
    if errors:
        raise ValidationError(errors)
    return clean


def create_incident(ctx: Context, data: IncidentInput) -> Incident:
    require(ctx.actor, "officer")
    clean = validate_input(ctx, data)
    now = ctx.now()
    with ctx.store.write():
        inc = Incident.create(code=_next_code(ctx), created_by=ctx.actor.username, created_at=now,
                              updated_at=now, grade_decided=False, **clean)
        audit.record(ctx, "incident.create", "incident", inc.id,
                     {k: [None, v] for k, v in row_dict(inc).items() if k not in ("id", "version")})
    return inc


def get_incident(ref: Any) -> Incident:
    """By numeric id or by code (``2026-001``)."""
    text = str(ref).strip()
    inc = Incident.get_or_none(Incident.code == text)
    if inc is None and text.isdigit():
        inc = Incident.get_or_none(Incident.id == int(text))
    if inc is None:
        raise NotFound("error.incident_not_found", ref=text)
    return inc


def update_incident(ctx: Context, ref: Any, expected_version: int, changes: dict[str, Any],
                    reason: str | None = None) -> Incident:
    """Edit facts; a changed time needs a reason, and a stale version raises ``ConflictError``."""
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({k: ("error.not_editable", {}) for k in unknown})
    current = {k: getattr(inc, k) for k in EDITABLE}
    current["personal_info"] = inc.personal_info_answer
    merged = IncidentInput(**{**current, **changes, "grade": inc.grade, "is_drill": inc.is_drill})
    clean = validate_input(ctx, merged)
    new = {k: clean[k] for k in changes}
    if "personal_info" in changes:
        new["personal_info_unsure"] = clean["personal_info_unsure"]
    delta = audit.diff({k: getattr(inc, k) for k in new}, new)
    if not delta:
        return inc
    reason = _clean_text(reason, "reason")
    if any(k in TIME_FIELDS for k in delta) and not reason:
        raise ValidationError({"reason": ("error.reason_for_time_change", {})})
    with ctx.store.write():
        inc = update_versioned(Incident, inc.id, expected_version, {**new, "updated_at": ctx.now()}, "incident")
        audit.record(ctx, "incident.update", "incident", inc.id, delta, reason or None)
    return inc


def set_grade(ctx: Context, ref: Any, grade: str, reason: str, expected_version: int | None = None) -> Incident:
    """The leadership group decides the grade; a reason is always recorded."""
    require(ctx.actor, "leader")
    inc = get_incident(ref)
    g = load_taxonomy().grade(grade)
    reason = _clean_text(reason, "reason", required=True)
    version = inc.version if expected_version is None else expected_version
    with ctx.store.write():
        before = inc.grade
        inc = update_versioned(Incident, inc.id, version,
                               {"grade": g.id, "grade_decided": True, "updated_at": ctx.now()}, "incident")
        audit.record(ctx, "incident.grade", "incident", inc.id, {"grade": [before, g.id]}, reason)
    return inc


def _transition(ctx: Context, ref: Any, action: str, changes: dict, reason: str | None,
                expected_version: int | None) -> Incident:
    inc = get_incident(ref)
    version = inc.version if expected_version is None else expected_version
    with ctx.store.write():
        before = {k: getattr(inc, k) for k in changes}
        inc = update_versioned(Incident, inc.id, version, {**changes, "updated_at": ctx.now()}, "incident")
        audit.record(ctx, action, "incident", inc.id, audit.diff(before, changes), reason)
    return inc


def mark_handled(ctx: Context, ref: Any, at: datetime | None = None, expected_version: int | None = None) -> Incident:
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    if inc.status != "open":
        raise ValidationError({"status": ("error.not_open", {"status": inc.status})})
    when = at or ctx.now()
    if when > ctx.now() + timedelta(minutes=1):
        raise ValidationError({"handling_closed_at": ("error.time_future", {})})
    return _transition(ctx, ref, "incident.handled", {"status": "handled", "handling_closed_at": when},
                       None, expected_version)


def close_incident(ctx: Context, ref: Any, expected_version: int | None = None) -> Incident:
    """Close only after the final report went out: the plan ends with the summary."""
    require(ctx.actor, "leader")
    inc = get_incident(ref)
    if inc.status not in ("handled",):
        raise ValidationError({"status": ("error.close_needs_handled", {})})
    final = (Report.select().where((Report.incident == inc) & (Report.regime == "school_plan")
                                   & (Report.stage == "final") & (Report.status == "submitted")).exists())
    if not final:
        raise ValidationError({"status": ("error.close_needs_final", {})})
    return _transition(ctx, ref, "incident.close", {"status": "closed", "closed_at": ctx.now()},
                       None, expected_version)


def withdraw_incident(ctx: Context, ref: Any, reason: str, expected_version: int | None = None) -> Incident:
    require(ctx.actor, "leader")
    reason = _clean_text(reason, "reason", required=True)
    inc = get_incident(ref)
    if inc.status in ("closed", "withdrawn"):
        raise ValidationError({"status": ("error.not_open", {"status": inc.status})})
    return _transition(ctx, ref, "incident.withdraw", {"status": "withdrawn", "closed_at": ctx.now()},
                       reason, expected_version)


def list_incidents(include_closed: bool = False, include_drills: bool = True) -> list[Incident]:
    q = Incident.select()
    if not include_closed:
        q = q.where(Incident.status.in_(("open", "handled")))
    if not include_drills:
        q = q.where(Incident.is_drill == False)  # noqa: E712
    return list(q.order_by(Incident.occurred_at.desc()))


def incident_obligations(ctx: Context, inc: Incident, now: datetime | None = None) -> list[Obligation]:
    reports = Report.select().where(Report.incident == inc)
    return obligations(facts(inc), report_facts(reports), ctx.policy, now or ctx.now(),
                       ctx.settings.due_soon_minutes)


def open_obligations(ctx: Context, now: datetime | None = None,
                     incidents: list[Incident] | None = None) -> list[tuple[Incident, Obligation]]:
    """Every obligation of every open incident, most urgent first, in two queries."""
    now = now or ctx.now()
    incs = incidents if incidents is not None else list_incidents()
    by_inc: dict[int, list[Report]] = {i.id: [] for i in incs}
    if incs:
        for r in Report.select().where(Report.incident.in_(list(by_inc))):
            by_inc[r.incident_id].append(r)
    out = []
    for inc in incs:
        for ob in obligations(facts(inc), report_facts(by_inc[inc.id]), ctx.policy, now,
                              ctx.settings.due_soon_minutes):
            out.append((inc, ob))
    out.sort(key=lambda pair: pair[1].sort_key())
    return out
