"""An incident's history in one list, newest first: audit events, notes and logged calls.

The audit trail already holds every change with its actor and reason; notes
and calls carry their own text. A note's own audit event is left out, since
the note itself is on the list.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from models.profiles import display_name_map
from models.tables import AuditEvent, CallLog, Incident, Note, Report

# A note's and a call's own audit events are left out (the note or call itself is listed, in the
# event's place); a report's autosaves are left out as noise (its draft, submission and corrections stay).
SHOWN_ELSEWHERE = {"note.add": ("note", "note"), "call.log": ("call", "call")}
NOISE = {"report.save"}


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    kind: str                  # audit | note | call
    action: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    text: str = ""
    order: int = 0
    subject: tuple[str, str, int] | None = None   # (regime, stage, seq) of a report event
    actor_name: str = ""       # how the screen names the actor (models.profiles.display_name)


def timeline(inc: Incident, limit: int = 500) -> list[Entry]:
    out: list[Entry] = []
    reports = {str(r.id): (r.regime, r.stage, r.seq)
               for r in Report.select(Report.id, Report.regime, Report.stage, Report.seq).where(Report.incident == inc)}
    report_ids = list(reports)
    cond = (AuditEvent.entity == "incident") & (AuditEvent.entity_id == str(inc.id))
    if report_ids:
        cond = cond | ((AuditEvent.entity == "report") & (AuditEvent.entity_id.in_(report_ids)))
    order_of: dict[tuple[str, int], int] = {}
    for ev in AuditEvent.select().where(cond).order_by(AuditEvent.id.desc()).limit(limit):
        if ev.action in NOISE:
            continue
        if ev.action in SHOWN_ELSEWHERE:
            # Its position in the trail orders the note or call among the events of the same second.
            kind, key = SHOWN_ELSEWHERE[ev.action]
            ref = (ev.changes or {}).get(key)
            ref = ref[1] if isinstance(ref, list) else ref
            if isinstance(ref, int):
                order_of[(kind, ref)] = ev.id
            continue
        subject = reports.get(ev.entity_id) if ev.entity == "report" else None
        out.append(Entry(ev.at, ev.actor, "audit", ev.action, ev.changes or {}, ev.reason, order=ev.id,
                         subject=subject))
    for note in Note.select().where(Note.incident == inc).order_by(Note.id.desc()).limit(limit):
        out.append(Entry(note.at, note.author, "note", "note.add", text=note.text,
                         order=order_of.get(("note", note.id), 0)))
    for call in CallLog.select().where(CallLog.incident == inc).order_by(CallLog.id.desc()).limit(limit):
        out.append(Entry(call.at, call.logged_by, "call", call.outcome,
                         {"contact": call.contact_name, "role": call.contact_role, "number": call.number},
                         text="\n".join(x for x in (call.said, call.instructions) if x),
                         order=order_of.get(("call", call.id), 0)))
    out.sort(key=lambda e: (e.at, e.order), reverse=True)
    out = out[:limit]
    names = display_name_map(e.actor for e in out)
    return [replace(e, actor_name=names.get(e.actor, e.actor)) for e in out]
