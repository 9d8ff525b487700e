"""Incident services: the only code that creates or changes incidents.

Each function validates, writes in one short transaction with its audit
event, and raises a domain error the CLI and the TUI can show as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from peewee import IntegrityError

from models import audit
from models import fact_history as fact_store
from models.context import Context
from models.deadlines import (FactChange, IncidentFacts, Obligation, ReportFacts, UNMET_STATES,
                              needs_delay_reason, obligations)
from models.errors import DomainError, NotFound, ValidationError
from models.i18n import t
from models.roles import require
from models.tables import Incident, ObligationNote, Report
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


from models.fact_history import FACT_ACTIONS, FACT_KEYS, states_from_events  # noqa: E402,F401


def facts(inc: Incident, close_over: tuple | None = None, history: tuple | None = None) -> IncidentFacts:
    """The engine's view of one incident; the close-over reasons and grade history are read if not given."""
    if close_over is None:
        # Only a closed incident has close-over reasons.
        close_over = close_over_for([inc.id]).get(inc.id, ()) if inc.status == "closed" else ()
    if history is None:
        history = fact_history([inc]).get(inc.id, ())
    return IncidentFacts(id=inc.id, code=inc.code, title=inc.title, category=inc.category,
                         grade=inc.grade, occurred_at=inc.occurred_at, discovered_at=inc.discovered_at,
                         handling_closed_at=inc.handling_closed_at, personal_info=inc.personal_info,
                         personal_info_unsure=inc.personal_info_unsure,
                         status=inc.status, is_drill=inc.is_drill, created_at=inc.created_at,
                         closed_at=inc.closed_at, close_over=close_over, history=history)


def close_over_for(ids: Iterable[int]) -> dict[int, tuple[tuple[str, str], ...]]:
    ids = list(ids)
    out: dict[int, list] = {}
    if ids:
        N = ObligationNote
        for iid, regime, stage, reason in (N.select(N.incident, N.regime, N.stage, N.reason)
                                           .where(N.incident.in_(ids) & (N.kind == "close_over"))
                                           .order_by(N.id).tuples()):
            out.setdefault(iid, []).append((f"{regime}.{stage}", reason))
    return {k: tuple(v) for k, v in out.items()}


def fact_history(incs: Iterable[Incident]) -> dict[int, tuple[FactChange, ...]]:
    """Grade and personal-information flag over time, from the audit trail (only if they changed)."""
    incs = list(incs)
    out: dict[int, tuple[FactChange, ...]] = {}
    todo = []
    for inc in incs:
        # The grade and the flag change only with a new version of the row: never edited, no
        # history; an unchanged version, the history read before (the incident screen asks
        # every second, and the audit trail is long).
        key = _history_key(inc)
        if inc.version <= 1:
            continue
        if key in _HISTORY_CACHE:
            if _HISTORY_CACHE[key]:
                out[inc.id] = _HISTORY_CACHE[key]
            continue
        todo.append(inc)
    if not todo:
        return out
    # The derived table answers for most (one row each, or none: never changed); the rest (a
    # row gone stale, events it has not seen, a file without the table) are walked from the trail.
    found, walk_these = fact_store.read(todo)
    if walk_these:
        found.update(fact_store.walk(walk_these))
    if len(_HISTORY_CACHE) > 5000:
        _HISTORY_CACHE.clear()
    for inc in todo:
        _HISTORY_CACHE[_history_key(inc)] = found.get(inc.id, ())
    out.update(found)
    return out


_HISTORY_CACHE: dict[tuple, tuple[FactChange, ...]] = {}


def _history_key(inc: Incident) -> tuple:
    """The file and which opening of it (``store._make_db``): a restore brings back older
    versions, and edits after it reuse their numbers with other histories."""
    db = Incident._meta.database
    db = getattr(db, "obj", db)
    return (str(getattr(db, "database", "")), getattr(db, "xj_opened", 0), inc.id, inc.version, inc.created_at)


def _read_history(incs: list[Incident]) -> dict[int, tuple[FactChange, ...]]:
    """The walk of the audit trail itself (``models.fact_history.walk``), without the table."""
    return fact_store.walk(incs)


def report_facts(reports: Iterable[Report]) -> list[ReportFacts]:
    return [ReportFacts(regime=r.regime, stage=r.stage, seq=r.seq, status=r.status,
                        submitted_at=r.submitted_at, id=r.id) for r in reports]


def _next_code(ctx: Context) -> str:
    """``2026-001`` … ``2026-999``, ``2026-1000`` …: the largest number this year, plus one (numerically)."""
    year = ctx.now().astimezone(ctx.zone).year
    prefix = f"{year}-"
    top = 0
    for (code,) in Incident.select(Incident.code).where(Incident.code.startswith(prefix)).tuples():
        tail = code[len(prefix):]
        if tail.isdigit():
            top = max(top, int(tail))
    return f"{prefix}{top + 1:03d}"


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
    try:
        with ctx.store.write():
            # The code is chosen inside the write lock: no other session can take it meanwhile.
            inc = Incident.create(code=_next_code(ctx), created_by=ctx.actor.username, created_at=now,
                                  updated_at=now, grade_decided=False, **clean)
            audit.record(ctx, "incident.create", "incident", inc.id,
                         {k: [None, v] for k, v in row_dict(inc).items() if k not in ("id", "version")})
    except IntegrityError as exc:
        # Should never happen; if it does, say so plainly instead of a traceback.
        raise DomainError("error.incident_code_taken", detail=str(exc)[:120]) from None
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


def _check_times_against_record(ctx: Context, row: Incident, applied: dict[str, Any]) -> None:
    """A corrected occurrence or discovery time must not put what was already done before it.

    The services refuse a written report sent before the incident occurred and an oral report
    before its discovery (issue 12); an edit of the incident's own times is held to the same
    order, or the record would say the school reported an incident that had not happened yet.
    """
    from models.timeparse import fmt_local
    occurred = applied.get("occurred_at", row.occurred_at)
    discovered = applied.get("discovered_at", row.discovered_at)
    errors: dict[str, tuple[str, dict]] = {}
    fmt = lambda when: fmt_local(when, ctx.zone)  # noqa: E731
    originals = (Report.select().where((Report.incident == row.id) & (Report.revision == 1)
                                       & Report.submitted_at.is_null(False))
                 .order_by(Report.submitted_at))
    for r in originals:
        try:
            stage = ctx.policy.stage(r.regime, r.stage)
        except KeyError:
            continue          # a regime switched off since: its reports are not this check's
        oral, name = stage.kind == "oral", stage.name
        if oral and discovered and r.submitted_at < discovered and "discovered_at" not in errors:
            errors["discovered_at"] = ("error.order.edit_after_report",
                                       {"time": fmt(discovered), "stage": name, "at": fmt(r.submitted_at)})
        if not oral and occurred and r.submitted_at < occurred and "occurred_at" not in errors:
            errors["occurred_at"] = ("error.order.edit_after_report",
                                     {"time": fmt(occurred), "stage": name, "at": fmt(r.submitted_at)})
    if row.handling_closed_at and occurred and row.handling_closed_at < occurred and "occurred_at" not in errors:
        errors["occurred_at"] = ("error.order.edit_after_handled",
                                 {"time": fmt(occurred), "at": fmt(row.handling_closed_at)})
    if errors:
        raise ValidationError(errors)


def update_incident(ctx: Context, ref: Any, expected_version: int | None, changes: dict[str, Any],
                    reason: str | None = None, *, base: dict[str, Any] | None = None,
                    resolved: Iterable[str] = ()) -> Incident:
    """Edit facts, merged field by field from ``expected_version`` (None: the version stored now).

    ``changes`` holds only the fields the user changed; ``base`` (optional) what the form
    showed for them. Fields the other session changed are kept, a field both changed
    differently raises ``ConflictError`` for that field (the others are saved). A changed
    time needs a reason.
    """
    from models.merge import merge_save
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({k: ("error.not_editable", {}) for k in unknown})
    current = _answers(inc)
    clean = validate_input(ctx, IncidentInput(**{**current, **changes, "grade": inc.grade, "is_drill": inc.is_drill}))
    # personal_info is three-valued (None: 不确定), kept as such for the merge.
    new = {k: (clean[k] if k != "personal_info" or clean["personal_info_unsure"] is False else None)
           for k in changes}
    if not audit.diff({k: current[k] for k in new}, new):
        return inc
    reason = _clean_text(reason, "reason")
    if any(k in TIME_FIELDS for k in audit.diff({k: current[k] for k in new}, new)) and not reason:
        raise ValidationError({"reason": ("error.reason_for_time_change", {})})

    def columns(row: Incident, applied: dict[str, Any]) -> dict[str, Any]:
        # The merged record as a whole must still hold together (times in order, delay reason).
        validate_input(ctx, IncidentInput(**{**_answers(row), **applied,
                                             "grade": row.grade, "is_drill": row.is_drill}))
        if any(k in TIME_FIELDS for k in applied) and not reason:
            raise ValidationError({"reason": ("error.reason_for_time_change", {})})
        if any(k in TIME_FIELDS for k in applied):
            _check_times_against_record(ctx, row, applied)
        out = {**applied, "updated_at": ctx.now()}
        if "personal_info" in applied:
            out["personal_info"] = bool(applied["personal_info"])
            out["personal_info_unsure"] = applied["personal_info"] is None
        return out

    def view(values: dict[str, Any]) -> dict[str, Any]:
        out = {k: values.get(k) for k in EDITABLE}
        if values.get("personal_info_unsure"):
            out["personal_info"] = None
        return out

    row, _ = merge_save(ctx, Incident, inc.id, "incident", new, base_version=expected_version,
                        view=view, columns=columns, action="incident.update",
                        base=base, resolved=resolved, reason=reason,
                        label=f"{t('entity.incident')} {inc.code}")
    return row


def _answers(inc: Incident) -> dict[str, Any]:
    """The editable facts as the form knows them (personal_info None while 不确定)."""
    out = {k: getattr(inc, k) for k in EDITABLE}
    out["personal_info"] = inc.personal_info_answer
    return out


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
    if when < inc.occurred_at:
        raise ValidationError({"handling_closed_at": ("error.order.handled_before_occurred", {
            "at": _fmt(ctx, when), "occurred": _fmt(ctx, inc.occurred_at)})})
    return _transition(ctx, ref, "incident.handled", {"status": "handled", "handling_closed_at": when},
                       None, expected_version)


def _fmt(ctx: Context, when: datetime) -> str:
    from models.timeparse import fmt_local
    return fmt_local(when, ctx.zone)


class CloseBlocked(DomainError):
    """Closing would leave owed reports unsent: the checklist, and which items still need a reason."""

    key = "error.close_blocked"

    def __init__(self, checklist: list[Obligation], blocking: list[Obligation], names: list[str]) -> None:
        self.checklist = checklist
        self.blocking = blocking
        super().__init__(None, n=len(blocking), items="、".join(names))


def close_checklist(ctx: Context, inc: Incident, now: datetime | None = None) -> list[Obligation]:
    """Every open, late or missed obligation, statutory ones first, then the most urgent."""
    obls = incident_obligations(ctx, inc, now)
    items = [o for o in obls if o.state in UNMET_STATES]
    return sorted(items, key=lambda o: (o.figure != "statutory", o.sort_key()))


def parse_over(values: Iterable[str] | None) -> dict[str, str]:
    """``--over "school_plan.first=理由"`` per obligation, or ``--over "理由"`` for every one ("*")."""
    import re
    out: dict[str, str] = {}
    for raw in values or ():
        text = str(raw)
        m = re.match(r"^\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)\s*=(.*)$", text, re.S)
        if m:
            out[m.group(1)] = m.group(2).strip()
        else:
            out["*"] = text.strip()
    return out


def close_incident(ctx: Context, ref: Any, over: dict[str, str] | None = None,
                   expected_version: int | None = None) -> Incident:
    """Close once handling is finished; an obligation still owed blocks it.

    A leader may close over owed obligations only with a reason for each
    (``over`` maps ``regime.stage`` or a stage id to the reason, ``"*"`` to one
    reason for all); each then reads ``missed`` with that reason, for good.
    """
    require(ctx.actor, "leader")
    inc = get_incident(ref)
    if inc.status not in ("handled",):
        raise ValidationError({"status": ("error.close_needs_handled", {})})
    now = ctx.now()
    checklist = close_checklist(ctx, inc, now)
    # A stage that applies only above some grade cannot be settled while the grade is open:
    # closing then would leave the record silent on whether that report was owed.
    undecided = [o for o in incident_obligations(ctx, inc, now) if o.state == "conditional"]
    if undecided:
        raise ValidationError({"grade": ("error.close_needs_grade",
                                         {"stages": "、".join(o.name for o in undecided)})})
    blocking = [o for o in checklist if o.is_open]
    over = {k: _clean_text(v, "reason") for k, v in (over or {}).items()}
    known = {o.key for o in blocking} | {o.stage for o in blocking}
    unknown = [k for k in over if k != "*" and k not in known]
    if unknown:
        raise ValidationError({"over": ("error.close_over_unknown", {
            "value": ", ".join(unknown), "known": ", ".join(o.key for o in blocking) or "-"})})
    reasons: dict[str, str] = {}
    missing = []
    for o in blocking:
        why = over.get(o.key) or over.get(o.stage) or over.get("*", "")
        if why:
            reasons[o.key] = why
        else:
            missing.append(o)
    if missing:
        raise CloseBlocked(checklist, missing, [o.name for o in missing])
    version = inc.version if expected_version is None else expected_version
    with ctx.store.write():
        before = {"status": inc.status, "closed_at": inc.closed_at}
        changes = {"status": "closed", "closed_at": now}
        inc = update_versioned(Incident, inc.id, version, {**changes, "updated_at": now}, "incident")
        for o in blocking:
            ObligationNote.create(incident=inc, regime=o.regime, stage=o.stage, seq=o.seq, kind="close_over",
                                  reason=reasons[o.key], by=ctx.actor.username, at=now)
        delta = audit.diff(before, changes)
        if reasons:
            delta["closed_over"] = [None, reasons]
        audit.record(ctx, "incident.close", "incident", inc.id, delta,
                     "; ".join(f"{k}: {v}" for k, v in reasons.items()) or None)
    return inc


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
    """Every obligation of these incidents (default: the open ones), most urgent first, in few queries."""
    now = now or ctx.now()
    incs = incidents if incidents is not None else list_incidents()
    by_inc: dict[int, list[Report]] = {i.id: [] for i in incs}
    if incs:
        for r in Report.select().where(Report.incident.in_(list(by_inc))):
            by_inc[r.incident_id].append(r)
    overs = close_over_for(by_inc)
    history = fact_history(incs)
    out = []
    for inc in incs:
        f = facts(inc, overs.get(inc.id, ()), history.get(inc.id, ()))
        for ob in obligations(f, report_facts(by_inc[inc.id]), ctx.policy, now, ctx.settings.due_soon_minutes):
            out.append((inc, ob))
    out.sort(key=lambda pair: pair[1].sort_key())
    return out
