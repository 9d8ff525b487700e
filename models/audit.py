"""The audit trail: append-only and hash-chained.

Every service appends its event inside the same transaction as the change,
so a change without its audit row cannot be committed. Each row's hash
covers its content and the previous row's hash; ``verify()`` names the first
row that no longer matches.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from models.tables import AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, at: datetime, actor: str, origin: str, action: str, entity: str,
            entity_id: str, changes: Any, reason: str | None) -> str:
    body = json.dumps([prev_hash, at.isoformat(timespec="microseconds"), actor, origin, action,
                       entity, entity_id, changes, reason],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Field-level old → new, only for fields that changed."""
    out = {}
    for key in after:
        old, new = before.get(key), after[key]
        if isinstance(old, datetime):
            old = old.isoformat()
        if isinstance(new, datetime):
            new = new.isoformat()
        if old != new:
            out[key] = [old, new]
    return out


def record(ctx, action: str, entity: str, entity_id: Any = "", changes: Any = None,
           reason: str | None = None, *, actor: str | None = None) -> AuditEvent:
    """Append one event; call inside the service's write transaction."""
    last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
    prev = last.hash if last else GENESIS
    at = ctx.now()
    who = actor or ctx.actor.username
    origin = ctx.actor.origin
    # Round-trip through JSON so the stored value and the hashed value are the same.
    norm = json.loads(json.dumps(changes, ensure_ascii=False, sort_keys=True, default=str)) if changes is not None else None
    h = _digest(prev, at, who, origin, action, entity, str(entity_id), norm, reason)
    return AuditEvent.create(at=at, actor=who, origin=origin, action=action, entity=entity,
                             entity_id=str(entity_id), changes=norm, reason=reason,
                             prev_hash=prev, hash=h)


@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str = ""


def verify() -> ChainReport:
    prev = GENESIS
    n = 0
    for ev in AuditEvent.select().order_by(AuditEvent.id).iterator():
        n += 1
        if ev.prev_hash != prev:
            return ChainReport(False, n, ev.id, "prev_hash")
        expect = _digest(ev.prev_hash, ev.at, ev.actor, ev.origin, ev.action, ev.entity,
                         ev.entity_id, ev.changes, ev.reason)
        if expect != ev.hash:
            return ChainReport(False, n, ev.id, "hash")
        prev = ev.hash
    return ChainReport(True, n)


def events_for(entity: str, entity_id: Any, limit: int = 200) -> list[AuditEvent]:
    return list(AuditEvent.select().where((AuditEvent.entity == entity) & (AuditEvent.entity_id == str(entity_id)))
                .order_by(AuditEvent.id.desc()).limit(limit))
