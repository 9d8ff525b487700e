"""Deadline alarms: fire once per obligation and threshold, shared by every session.

Whichever session first sees a threshold crossed records it in ``AlarmState``;
the unique index makes a second session's insert a no-op, so an alarm is
recorded once however many copies of the board are open. Every session shows
the unacknowledged alarms it reads, and acknowledging in one silences all.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from models import audit
from models.deadlines import Obligation
from models.tables import AlarmState


@dataclass(frozen=True)
class AlarmKey:
    incident_id: int
    regime: str
    stage: str
    seq: int
    threshold: int          # minutes before the deadline; 0 = the deadline itself

    @property
    def obligation(self) -> tuple[int, str, str, int]:
        return (self.incident_id, self.regime, self.stage, self.seq)


def crossed(due_at: datetime, now: datetime, thresholds: Iterable[int]) -> list[int]:
    """The thresholds already reached at ``now`` (a threshold of 10 is reached at 10 min left)."""
    left = (due_at - now).total_seconds()
    return sorted({int(m) for m in thresholds if left <= int(m) * 60}, reverse=True)


def due_alarms(obligations: Iterable[Obligation], fired: set[AlarmKey], thresholds: Iterable[int],
               now: datetime) -> list[AlarmKey]:
    """Alarms that should fire now and have not yet fired (pure: no database, no clock)."""
    thresholds = list(thresholds)
    out = []
    for ob in obligations:
        if not ob.is_open or ob.due_at is None:
            continue
        for m in crossed(ob.due_at, now, thresholds):
            key = AlarmKey(ob.incident_id, ob.regime, ob.stage, ob.seq, m)
            if key not in fired:
                out.append(key)
    return out


def next_alarm_at(obligations: Iterable[Obligation], fired: set[AlarmKey], thresholds: Iterable[int],
                  now: datetime) -> datetime | None:
    """When ``due_alarms`` next has something to say, if nothing changes meanwhile: the earliest
    threshold instant after ``now`` not yet fired; ``None`` if there is none. The board's tick
    skips the alarm check until then."""
    thresholds = [int(m) for m in thresholds]
    first = None
    for ob in obligations:
        if not ob.is_open or ob.due_at is None:
            continue
        for m in thresholds:
            at = ob.due_at - timedelta(minutes=m)
            if at > now and (first is None or at < first) and \
                    AlarmKey(ob.incident_id, ob.regime, ob.stage, ob.seq, m) not in fired:
                first = at
    return first


def _key(row: AlarmState) -> AlarmKey:
    return AlarmKey(row.incident_id, row.regime, row.stage, row.seq, row.threshold)


def fired_keys(incident_ids: Iterable[int]) -> set[AlarmKey]:
    ids = list(incident_ids)
    if not ids:
        return set()
    A = AlarmState
    return {AlarmKey(*row) for row in A.select(A.incident, A.regime, A.stage, A.seq, A.threshold)
            .where(A.incident.in_(ids)).tuples()}


def fire(ctx, keys: Iterable[AlarmKey], now: datetime) -> list[AlarmKey]:
    """Record alarms; returns only those this call recorded (another session may have been first)."""
    keys = list(keys)
    if not keys:
        return []
    mine = []
    with ctx.store.write():
        # BEGIN IMMEDIATE holds the write lock: no other session can slip in between check and insert.
        for k in keys:
            exists = AlarmState.select().where(
                (AlarmState.incident == k.incident_id) & (AlarmState.regime == k.regime)
                & (AlarmState.stage == k.stage) & (AlarmState.seq == k.seq)
                & (AlarmState.threshold == k.threshold)).exists()
            if not exists:
                AlarmState.create(incident=k.incident_id, regime=k.regime, stage=k.stage, seq=k.seq,
                                  threshold=k.threshold, fired_at=now)
                mine.append(k)
    return mine


@dataclass(frozen=True)
class PendingAlarm:
    """An obligation with at least one unacknowledged alarm; ``threshold`` is the latest reached."""

    incident_id: int
    regime: str
    stage: str
    seq: int
    threshold: int
    fired_at: datetime

    @property
    def obligation(self) -> tuple[int, str, str, int]:
        return (self.incident_id, self.regime, self.stage, self.seq)


def pending(incident_ids: Iterable[int], owed: Iterable[tuple[int, str, str, int]] | None = None
            ) -> list[PendingAlarm]:
    """Unacknowledged alarms of these incidents, one per obligation, most pressing first.

    With ``owed`` (the obligations still open), an alarm of an obligation met, missed and
    closed, or no longer applicable is neither shown nor asks to be acknowledged (issue 12).
    """
    ids = list(incident_ids)
    owed = set(owed) if owed is not None else None
    if not ids:
        return []
    best: dict[tuple, AlarmState] = {}
    for r in AlarmState.select().where(AlarmState.incident.in_(ids) & AlarmState.acked_at.is_null()):
        ob = (r.incident_id, r.regime, r.stage, r.seq)
        if owed is not None and ob not in owed:
            continue
        if ob not in best or r.threshold < best[ob].threshold:
            best[ob] = r
    out = [PendingAlarm(r.incident_id, r.regime, r.stage, r.seq, r.threshold, r.fired_at)
           for r in best.values()]
    out.sort(key=lambda a: (a.threshold, a.fired_at, a.incident_id))
    return out


def acknowledge(ctx, incident_id: int, regime: str, stage: str, seq: int) -> int:
    """Silence every alarm of one obligation, in every session; recorded in the audit trail.

    Silencing is the duty officer's decision: a viewer must not quiet every session's alarms.
    """
    from models.roles import require
    require(ctx.actor, "officer")
    now = ctx.now()
    with ctx.store.write():
        q = AlarmState.update(acked_at=now, acked_by=ctx.actor.username).where(
            (AlarmState.incident == incident_id) & (AlarmState.regime == regime)
            & (AlarmState.stage == stage) & (AlarmState.seq == seq) & AlarmState.acked_at.is_null())
        n = q.execute()
        if n:
            audit.record(ctx, "alarm.ack", "incident", incident_id,
                         {"obligation": [None, f"{regime}.{stage}.{seq}"]})
    return n


def who_to_call(ctx, incident_id: int, regime: str, stage: str) -> str:
    """The contact panel's answer when it exists, otherwise the recipient the policy names."""
    try:
        contacts = importlib.import_module("models.contacts")
    except ModuleNotFoundError as exc:
        if exc.name != "models.contacts":
            raise
        contacts = None
    finder = getattr(contacts, "next_contact", None) if contacts else None
    if finder is not None:
        try:
            found = finder(ctx, incident_id=incident_id, regime=regime, stage=stage)
        except TypeError:
            found = None
        if found:
            return _contact_text(found)
    try:
        reg = ctx.policy.regime(regime)
    except KeyError:
        return ""
    if regime == "school_plan" and getattr(ctx.settings, "bureau", ""):
        return ctx.settings.bureau
    return reg.recipient


def _contact_text(found) -> str:
    if isinstance(found, str):
        return found
    name = getattr(found, "name", "") or getattr(found, "role", "")
    phone = getattr(found, "mobile", "") or getattr(found, "office", "")
    return f"{name} {phone}".strip()

