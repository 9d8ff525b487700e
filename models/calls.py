"""The call log: every phone call of an emergency, and the oral report it may be.

"Oral first, then written": a call that *reached* a contact whose role the
policy names as an oral-report recipient (``oral_recipient_roles``; the
school plan names the bureau) is the oral report. Logging it submits that
stage's report in the same transaction as the call and its timeline event,
so the board shows the stage met the moment the call is saved, and a call
cannot be half-recorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models import audit
from models.contacts import dial_number, display_name, get_contact, role_label
from models.errors import ValidationError
from models.incidents import get_incident
from models.policy import Regime, Stage
from models.roles import require
from models.tables import CallLog, Contact, Draft, Incident, Report
from models.versioning import update_versioned

OUTCOMES = ("reached", "no_answer", "busy", "message")
_OUTCOME_WORDS = {
    "reached": ("reached", "接通", "已接通", "ok", "answered"),
    "no_answer": ("no_answer", "no-answer", "noanswer", "无人接听", "未接", "未接通"),
    "busy": ("busy", "占线", "忙"),
    "message": ("message", "voicemail", "留言", "语音信箱", "短信"),
}
SAID_MAX = 4000


def resolve_outcome(text: str) -> str:
    low = (text or "").strip().lower()
    for oid, words in _OUTCOME_WORDS.items():
        if low in words:
            return oid
    raise ValidationError({"call.outcome": ("error.contacts.outcome_unknown", {"value": text, "choices": ", ".join(OUTCOMES)})})


def _text(value: Any, name: str, limit: int = SAID_MAX) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()
    if len(text) > limit:
        raise ValidationError({name: ("error.too_long", {"max": limit})})
    return text


def oral_stages_for(ctx, role: str) -> list[tuple[Regime, Stage]]:
    """The oral stages a reached call to ``role`` would meet, by the regimes in force."""
    out = []
    for regime in ctx.policy.regimes:
        if role not in regime.oral_recipient_roles:
            continue
        for stage in regime.stages:
            if stage.kind == "oral":
                out.append((regime, stage))
    return out


def _unmet(inc: Incident | None, oral: list[tuple[Regime, Stage]]) -> bool:
    """Whether any of these oral stages still waits for its report."""
    for regime, stage in oral:
        done = (Report.select().where((Report.incident == inc) & (Report.regime == regime.id)
                                      & (Report.stage == stage.id) & (Report.seq == 1)
                                      & Report.status.in_(("submitted", "superseded"))).exists())
        if not done:
            return True
    return False


def counts_as_oral(ctx, contact: Contact) -> bool:
    return bool(oral_stages_for(ctx, contact.role))


@dataclass
class LoggedCall:
    call: CallLog
    oral_reports: list[Report] = field(default_factory=list)
    already_met: list[str] = field(default_factory=list)   # "regime.stage" keys met earlier


def _submit_oral(ctx, inc: Incident, regime: Regime, stage: Stage, call: CallLog,
                 late_reason: str = "") -> Report | None:
    """Submit the oral stage from this call, unless it was submitted before (then None).

    The school plan's oral report goes through the reports feature's own
    ``record_oral_report`` (a draft already begun is completed, a late call
    gets its note); it runs inside this call's transaction, so the call, the
    report and their audit events commit together or not at all.
    """
    done = (Report.select().where((Report.incident == inc) & (Report.regime == regime.id)
                                  & (Report.stage == stage.id) & (Report.seq == 1)
                                  & Report.status.in_(("submitted", "superseded"))).exists())
    if done:
        return None
    fields = {"summary": call.said, "instructions": call.instructions}
    recipient = call.contact_name or role_label(call.contact_role)
    if (regime.id, stage.id) == ("school_plan", "oral"):
        from models.reports import record_oral_report
        report = record_oral_report(ctx, inc, fields, recipient=recipient, at=call.at, late_reason=late_reason)
    else:
        report = _submit_generic(ctx, inc, regime, stage, call, fields, recipient)
    audit.record(ctx, "call.oral_report", "incident", inc.id,
                 {"call": call.id, "report": report.id, "stage": stage.key, "recipient": recipient,
                  "submitted_at": call.at.isoformat()})
    return report


def _submit_generic(ctx, inc: Incident, regime: Regime, stage: Stage, call: CallLog,
                    fields: dict[str, str], recipient: str) -> Report:
    """An oral stage of another regime (none ships today): submit it directly, merging a draft."""
    submitted = dict(status="submitted", submitted_at=call.at, submitted_by=ctx.actor.username,
                     channel="phone", recipient=recipient, updated_at=ctx.now())
    drafts = list(Report.select().where((Report.incident == inc) & (Report.regime == regime.id)
                                        & (Report.stage == stage.id) & (Report.seq == 1)
                                        & (Report.status == "draft")))
    if drafts:
        draft = max(drafts, key=lambda r: r.revision)
        merged = {**(draft.fields or {}), **{k: v for k, v in fields.items() if v}}
        return update_versioned(Report, draft.id, draft.version, {**submitted, "fields": merged}, "report")
    report = Report.create(incident=inc, regime=regime.id, stage=stage.id, seq=1, revision=1, fields=fields,
                           created_by=ctx.actor.username, created_at=ctx.now(), **submitted)
    audit.record(ctx, "report.submit", "report", report.id, {"status": [None, "submitted"], "channel": [None, "phone"],
                                                           "recipient": [None, recipient]})
    return report


def late_oral_due(ctx, inc: Incident | None, oral: list[tuple[Regime, Stage]], at: datetime) -> datetime | None:
    """The deadline a reached call at ``at`` would miss as the oral report, if it is late."""
    if inc is None:
        return None
    from models.reports import due_at
    for regime, stage in oral:
        done = (Report.select().where((Report.incident == inc) & (Report.regime == regime.id)
                                      & (Report.stage == stage.id) & (Report.seq == 1)
                                      & Report.status.in_(("submitted", "superseded"))).exists())
        if done:
            continue
        due = due_at(ctx, inc, regime.id, stage.id, 1, at)
        if due is not None and at > due:
            return due
    return None


def log_call(ctx, incident_ref: Any | None, contact_ref: Any, outcome: str, said: str = "",
             instructions: str = "", number: str | None = None, at: datetime | None = None,
             late_reason: str = "") -> LoggedCall:
    """Record one call, into the incident's timeline; a reached oral recipient submits the oral report.

    A call that becomes a late oral report needs ``late_reason`` (why it was late): the
    record keeps the officer's words, never a placeholder.
    """
    require(ctx.actor, "officer")
    from models.contacts import clean_phone
    inc = get_incident(incident_ref) if incident_ref not in (None, "") else None
    contact = get_contact(contact_ref)
    errors: dict[str, tuple[str, dict]] = {}
    clean: dict[str, Any] = {}
    for name, fn in (("outcome", lambda: resolve_outcome(outcome)),
                     ("said", lambda: _text(said, "call.said")),
                     ("instructions", lambda: _text(instructions, "call.instructions")),
                     ("number", lambda: clean_phone(number, "call.number") if number else dial_number(contact))):
        try:
            clean[name] = fn()
        except ValidationError as exc:
            errors.update(exc.fields)
    when = at or ctx.now()
    if when > ctx.now() + timedelta(minutes=1):
        errors["call.at"] = ("error.time_future", {})
    # A closed or withdrawn incident takes no more reports: the call is still logged.
    oral = oral_stages_for(ctx, contact.role) if inc is not None and inc.status in ("open", "handled") else []
    if not errors and clean["outcome"] == "reached" and not clean["said"] and _unmet(inc, oral):
        # The call *is* the oral report: it must say what was reported.
        errors["call.said"] = ("error.contacts.oral_needs_said", {})
    late_reason = _text(late_reason, "call.late_reason") if not errors else ""
    if not errors and clean["outcome"] == "reached" and not late_reason:
        due = late_oral_due(ctx, inc, oral, when)
        if due is not None:
            from models.timeparse import fmt_local
            errors["call.late_reason"] = ("error.order.late_call_needs_reason",
                                          {"due": fmt_local(due, ctx.zone)})
    if errors:
        raise ValidationError(errors)
    result_reports: list[Report] = []
    already: list[str] = []
    with ctx.store.write():
        call = CallLog.create(incident=inc, contact=contact, contact_name=contact.name,
                              contact_role=contact.role, number=clean["number"], at=when,
                              outcome=clean["outcome"], said=clean["said"],
                              instructions=clean["instructions"], logged_by=ctx.actor.username)
        entity, entity_id = ("incident", inc.id) if inc is not None else ("call", call.id)
        audit.record(ctx, "call.log", entity, entity_id,
                     {"call": call.id, "contact": contact.id, "name": contact.name,
                      "role": contact.role, "number": call.number, "at": when.isoformat(),
                      "outcome": call.outcome, "said": call.said, "instructions": call.instructions})
        if clean["outcome"] == "reached":
            for regime, stage in oral:
                report = _submit_oral(ctx, inc, regime, stage, call, late_reason)
                if report is None:
                    already.append(stage.key)
                else:
                    result_reports.append(report)
    return LoggedCall(call=call, oral_reports=result_reports, already_met=already)


def calls_for(incident_ref: Any) -> list[CallLog]:
    inc = get_incident(incident_ref)
    return list(CallLog.select().where(CallLog.incident == inc).order_by(CallLog.at, CallLog.id))


def call_label(call: CallLog) -> str:
    """Readable even after the contact was removed: the name and role as they were."""
    name = call.contact_name or role_label(call.contact_role)
    role = role_label(call.contact_role)
    return name if name == role else f"{role} {name}"


def contact_label(contact: Contact) -> str:
    return display_name(contact)


# ---------------------------------------------------------------- drafts of the call dialog

DRAFT_KIND = "call"


def _draft_key(incident_id: int | None, contact_id: int) -> str:
    return f"{incident_id or '-'}:{contact_id}"


def save_call_draft(ctx, incident_id: int | None, contact_id: int, payload: dict[str, Any]) -> None:
    """What the officer typed so far, so a dropped SSH session loses nothing (not a record: no audit)."""
    with ctx.store.write():
        (Draft.insert(owner=ctx.actor.username, kind=DRAFT_KIND, key=_draft_key(incident_id, contact_id),
                      payload=payload, updated_at=ctx.now())
         .on_conflict(conflict_target=[Draft.owner, Draft.kind, Draft.key],
                      update={Draft.payload: payload, Draft.updated_at: ctx.now()}).execute())


def load_call_draft(ctx, incident_id: int | None, contact_id: int) -> dict[str, Any] | None:
    row = Draft.get_or_none((Draft.owner == ctx.actor.username) & (Draft.kind == DRAFT_KIND)
                            & (Draft.key == _draft_key(incident_id, contact_id)))
    return dict(row.payload or {}) if row else None


def drop_call_draft(ctx, incident_id: int | None, contact_id: int) -> None:
    with ctx.store.write():
        Draft.delete().where((Draft.owner == ctx.actor.username) & (Draft.kind == DRAFT_KIND)
                             & (Draft.key == _draft_key(incident_id, contact_id))).execute()
