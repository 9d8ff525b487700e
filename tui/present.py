"""Turning domain objects into lines and JSON for the CLI (and tables for the TUI)."""
from __future__ import annotations

from models.deadlines import Obligation
from models.i18n import t
from models.taxonomy import load_taxonomy
from models.timeparse import fmt_duration, fmt_local, iso_local


def stage_name(ctx, ob: Obligation) -> str:
    stage = ob.stage_spec or ctx.policy.stage(ob.regime, ob.stage)
    name = stage.name
    return f"{name}{ob.seq}" if stage.repeatable and ob.seq > 1 else name


def state_text(ob: Obligation) -> str:
    if ob.state == "overdue" and ob.seconds_left is not None:
        return f"{t('state.overdue')} +{fmt_duration(-ob.seconds_left)}"
    return t(ob.state_key)


def reason_text(ob: Obligation) -> str:
    """Why the obligation stands as it does; a conditional one says which grade makes it apply."""
    if not ob.reason:
        return ""
    if ob.reason == "reason.conditional":
        return t("reason.conditional", grade=lowest_grade_name(ob))
    return t(ob.reason)


def lowest_grade_name(ob: Obligation) -> str:
    from models.taxonomy import GRADE_ORDER
    grades = [g for g in GRADE_ORDER if ob.stage_spec is not None and g in ob.stage_spec.grades]
    if not grades:
        return ""
    return load_taxonomy().grade(grades[-1]).name


def obligation_line(ctx, inc, ob: Obligation, with_code: bool = True) -> str:
    parts = [inc.code] if with_code else []
    parts.append(stage_name(ctx, ob))
    if ob.due_at is not None:
        parts.append(fmt_local(ob.due_at, ctx.zone))
    if ob.is_open and ob.seconds_left is not None and ob.seconds_left >= 0:
        parts.append(fmt_duration(ob.seconds_left))
    parts.append(state_text(ob))
    if ob.reason:
        parts.append(f"({reason_text(ob)})")
    if ob.note:
        parts.append(f"“{ob.note}”")   # the leader's own words, as typed
    return "  ".join(parts)


def obligation_json(ctx, inc, ob: Obligation) -> dict:
    return {
        "incident": inc.id, "code": inc.code, "title": inc.title, "regime": ob.regime,
        "stage": ob.stage, "seq": ob.seq, "stage_name": stage_name(ctx, ob),
        "due_at": iso_local(ob.due_at, ctx.zone), "state": ob.state,
        "seconds_left": None if ob.seconds_left is None else int(ob.seconds_left),
        "figure": ob.figure, "reason": ob.reason or None,
        "reason_text": reason_text(ob) or None, "note": ob.note or None,
        "submitted_at": iso_local(ob.submitted_at, ctx.zone), "is_drill": inc.is_drill,
    }


def incident_json(ctx, inc, with_obligations: bool = True) -> dict:
    from models.incidents import incident_obligations
    tax = load_taxonomy()
    cat = tax.category(inc.category)
    sub = cat.sub(inc.subcategory) if inc.subcategory else None
    data = {
        "id": inc.id, "code": inc.code, "title": inc.title, "category": inc.category,
        "category_name": cat.name, "category_in_plan": cat.in_plan,
        "subcategory": inc.subcategory, "subcategory_name": sub.name if sub else None,
        "grade": inc.grade, "grade_decided": inc.grade_decided, "status": inc.status,
        "occurred_at": iso_local(inc.occurred_at, ctx.zone),
        "discovered_at": iso_local(inc.discovered_at, ctx.zone),
        "handling_closed_at": iso_local(inc.handling_closed_at, ctx.zone),
        "location": inc.location, "asset": inc.asset, "personal_info": inc.personal_info,
        "personal_info_unsure": inc.personal_info_unsure,
        "reported_by": inc.reported_by, "description": inc.description,
        "delay_reason": inc.delay_reason, "is_drill": inc.is_drill, "version": inc.version,
    }
    if with_obligations:
        data["obligations"] = [obligation_json(ctx, inc, o) for o in incident_obligations(ctx, inc)]
    return data
