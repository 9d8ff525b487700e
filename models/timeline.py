"""An incident's history in one list, newest first: audit events, notes and logged calls.

The audit trail already holds every change with its actor and reason; notes
and calls carry their own text. A note's own audit event is left out, since
the note itself is on the list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.tables import AuditEvent, CallLog, Incident, Note, Report

SKIP_ACTIONS = {"note.add"}


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


def timeline(inc: Incident, limit: int = 500) -> list[Entry]:
    out: list[Entry] = []
    report_ids = [str(r.id) for r in Report.select(Report.id).where(Report.incident == inc)]
    cond = (AuditEvent.entity == "incident") & (AuditEvent.entity_id == str(inc.id))
    if report_ids:
        cond = cond | ((AuditEvent.entity == "report") & (AuditEvent.entity_id.in_(report_ids)))
    note_order: dict[int, int] = {}
    for ev in AuditEvent.select().where(cond).order_by(AuditEvent.id.desc()).limit(limit):
        if ev.action in SKIP_ACTIONS:
            # Its position in the trail orders the note among the other events of the same second.
            note_id = ((ev.changes or {}).get("note") or [None, None])[1]
            if isinstance(note_id, int):
                note_order[note_id] = ev.id
            continue
        out.append(Entry(ev.at, ev.actor, "audit", ev.action, ev.changes or {}, ev.reason, order=ev.id))
    for note in Note.select().where(Note.incident == inc).order_by(Note.id.desc()).limit(limit):
        out.append(Entry(note.at, note.author, "note", "note.add", text=note.text,
                         order=note_order.get(note.id, 0)))
    for call in CallLog.select().where(CallLog.incident == inc).order_by(CallLog.id.desc()).limit(limit):
        out.append(Entry(call.at, call.logged_by, "call", call.outcome,
                         {"contact": call.contact_name, "role": call.contact_role, "number": call.number},
                         text="\n".join(x for x in (call.said, call.instructions) if x), order=call.id))
    out.sort(key=lambda e: (e.at, e.order), reverse=True)
    return out[:limit]
