"""The grade and personal-information flag of each incident over time (issue 17).

The audit trail is the source: ``walk`` reads an incident's fact events (creation, grade decision,
edits) and gives the ``FactChange``s the deadline engine reads. Walking a year's trail costs
~0.3–0.4 s (about 18,500 events, each a JSON document), which every ``xueji-duty stats`` run and
the first statistics screen of a process paid. So the walk's result is also kept in a derived
table, ``fact_history`` (one row per incident with more than its creation event), written in the
transaction that recorded the events (a ``store.write`` hook, before the commit) and filled once
for an existing file by a schema step.

The table never decides anything on its own. A row is used only when it still holds:

- the incident's grade, flags and creation time are the ones the row was computed from (a write
  that changed them without a fact event — none of ours — makes the row stale), and
- no fact event of the incident lies after the table's mark (``schema_meta.fact_history_upto``,
  the last audit event the table has seen): an event written without the hook (an older build,
  a bulk copy) is noticed, not missed.

Anything else is walked from the trail, as before; a read never writes (a read-only file works).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from models.deadlines import FactChange
from models.tables import AuditEvent, FactHistory

# Audit actions whose changes may carry the grade or the personal-information flag.
FACT_ACTIONS = ("incident.create", "incident.grade", "incident.update", "incident.edit")
FACT_KEYS = ("grade", "personal_info", "personal_info_unsure")
MARK_KEY = "fact_history_upto"     # schema_meta: the last audit event id the table reflects
FEW = 500                          # up to this many incidents: an IN list; more: a range, filtered


@dataclass
class Known:
    """What the walk reads of an incident: its values today and its creation time."""

    id: int
    grade: str | None
    personal_info: bool
    personal_info_unsure: bool
    created_at: datetime | None


def _db():
    return AuditEvent._meta.database


_ACTIONS_SQL = ", ".join(f"'{a}'" for a in FACT_ACTIONS)


# ---------------------------------------------------------------- the walk (the source)

def walk(incs: Iterable[Any]) -> dict[int, tuple[FactChange, ...]]:
    """Per incident (objects with the ``Known`` attributes) with more than its creation event,
    its grade and flag after each fact event, from the audit trail."""
    by_id = {i.id: i for i in incs}
    if not by_id:
        return {}
    A = AuditEvent
    events: dict[int, list] = {}
    where = (A.entity == "incident") & A.action.in_(FACT_ACTIONS)
    if len(by_id) <= FEW:
        where &= A.entity_id.in_([str(i) for i in by_id])
    # Many incidents: every incident's fact events, kept below, rather than a list of thousands of
    # ids. SQLite picks the three fact keys out of each event's JSON (``json_extract``, in C):
    # decoding whole events in Python (a creation event carries the whole record) cost ~0.3 s for
    # a year's 18,000. Per key: is it there, is its value a change ``[old, new]``, and the old
    # value (JSON true/false come as 1/0 and null as None, read below through bool() and
    # ``is None`` as the decoded values were).
    sql, params = A.select(A.entity_id, A.at).where(where).order_by(A.id).sql()
    picks = ", ".join(
        f"json_type(changes, '$.{k}') IS NOT NULL, json_type(changes, '$.{k}') = 'array', "
        f"json_extract(changes, '$.{k}[0]')" for k in FACT_KEYS)
    head = sql.index(" FROM ")
    sql = sql[:head] + f", json_type(changes) = 'object', {picks}" + sql[head:]
    at_value = A.at.python_value
    for entity_id, at, is_object, *facts in _db().execute_sql(sql, params).fetchall():
        if not is_object or not entity_id.isdigit() or int(entity_id) not in by_id:
            continue
        ch = {}
        for j, key in enumerate(FACT_KEYS):
            present, is_change, old = facts[3 * j:3 * j + 3]
            if present:
                ch[key] = [old, None] if is_change else None
        if ch:
            events.setdefault(int(entity_id), []).append((at_value(at), ch))
    return states_from_events(by_id, events)


def states_from_events(by_id: dict, events: dict[int, list]) -> dict[int, tuple[FactChange, ...]]:
    """Per incident with more than its creation event, the grade and personal-information flag
    after each of its fact events (``(at, changes)`` in order, a change as ``[old, new]``), walked
    back from today's values so a missing creation event still gives the right start."""
    out: dict[int, tuple[FactChange, ...]] = {}
    for iid, evs in events.items():
        if len(evs) < 2:
            continue  # only the creation: nothing changed
        inc = by_id[iid]
        # 不确定 counts as involved, as the engine treats it.
        grade, pi = inc.grade, bool(inc.personal_info)
        unsure = bool(getattr(inc, "personal_info_unsure", False))
        states = []
        for at, ch in reversed(evs):
            states.append(FactChange(at, grade, pi or unsure))
            if isinstance(ch.get("grade"), list):
                grade = ch["grade"][0]
            if isinstance(ch.get("personal_info"), list):
                old = ch["personal_info"][0]
                pi = bool(old)
                if "personal_info_unsure" not in ch:     # an edit records 不确定 as None
                    unsure = old is None
            if isinstance(ch.get("personal_info_unsure"), list):
                unsure = bool(ch["personal_info_unsure"][0])
        states.reverse()
        if states[0].at > inc.created_at:
            states.insert(0, FactChange(inc.created_at, grade, pi or unsure))
        out[iid] = tuple(states)
    return out


# ---------------------------------------------------------------- the derived table

def at_text(at: datetime) -> str:
    """An instant as the store writes it (UTC, to the microsecond: one width, so two such texts
    compare as the instants do)."""
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def raw(states: tuple[FactChange, ...]) -> list[list]:
    """``[[at text, grade, involved], …]``: the table's form of a history."""
    return [[at_text(c.at), c.grade, bool(c.personal_info)] for c in states]


def encode(states: tuple[FactChange, ...]) -> str:
    return json.dumps(raw(states), ensure_ascii=False, separators=(",", ":"))


def decode(states: list) -> tuple[FactChange, ...]:
    """The table's parsed ``states`` as ``FactChange``s."""
    parse = datetime.fromisoformat
    return tuple(FactChange(parse(at), grade, bool(pi)) for at, grade, pi in states)


def _mark(db) -> int | None:
    """The last audit event the table reflects; None: the table was never filled (the step has
    not run on this file: everything is walked)."""
    row = db.execute_sql("SELECT value FROM schema_meta WHERE key = ?", (MARK_KEY,)).fetchone()
    if row is None:
        return None
    try:
        return int(row[0])
    except (TypeError, ValueError):
        return None


_HAS_FACT_SQL = " OR ".join(f"json_type(changes, '$.{k}') IS NOT NULL" for k in FACT_KEYS)


def _unseen(db, mark: int) -> set[int]:
    """Incidents with a fact event after the mark (a few rows: the ids are the table's rowid).
    An event of a fact action that carries none of the fact keys (an edit of the location) is
    one the walk skips too: it changes no history, so it is not counted."""
    rows = db.execute_sql(
        # ``+entity``: the range of ids after the mark (a few rows), never the entity index (which
        # would read every incident event of the trail).
        f"SELECT DISTINCT entity_id FROM audit_event WHERE id > ? AND +entity = 'incident' "
        f"AND action IN ({_ACTIONS_SQL}) AND json_type(changes) = 'object' AND ({_HAS_FACT_SQL})",
        (mark,)).fetchall()
    return {int(e) for (e,) in rows if isinstance(e, str) and e.isdigit()}


def _fresh_rows(db, ids: list[int], columns: str) -> tuple[list[tuple], set[int]] | None:
    """The table's rows for ``ids`` that still hold (``(incident, *columns)``), and the ids it
    cannot answer for; None when the table was never filled (everything is walked)."""
    mark = _mark(db)
    if mark is None:
        return None
    if not ids:
        return [], set()
    unseen = _unseen(db, mark)
    wanted = set(ids)
    # The row is fresh when the incident still holds what it was computed from (``IS``: NULLs).
    sql = (f"SELECT f.incident, {columns}, (i.grade IS f.grade AND i.personal_info IS f.personal_info "
           "AND i.personal_info_unsure IS f.personal_info_unsure AND i.created_at IS f.created_at) "
           "FROM fact_history f LEFT JOIN incident i ON i.id = f.incident WHERE ")
    if len(ids) <= FEW:
        rows = db.execute_sql(sql + f"f.incident IN ({','.join('?' * len(ids))})", list(ids)).fetchall()
    else:
        # A period's incidents lie close together: a range of the key, the others skipped below.
        rows = db.execute_sql(sql + "f.incident BETWEEN ? AND ?", (min(ids), max(ids))).fetchall()
    stale = unseen & wanted
    keep = []
    for row in rows:
        iid = row[0]
        if iid not in wanted or iid in unseen:
            continue
        if row[-1]:
            keep.append(row[:-1])
        else:
            stale.add(iid)
    return keep, stale


def read(incs: list[Any]) -> tuple[dict[int, tuple[FactChange, ...]], list[Any]]:
    """(histories the table holds for ``incs``, the incidents it cannot answer for: to walk).

    An incident the table has no row for had no fact event beyond its creation (up to the
    mark): no history, nothing to walk."""
    by_id = {i.id: i for i in incs}
    got = _fresh_rows(_db(), list(by_id), "f.states")
    if got is None:
        return {}, list(incs)
    keep, stale = got
    found: dict[int, tuple[FactChange, ...]] = {}
    for iid, text in keep:
        try:
            states = json.loads(text)
            if not _well_formed(states):
                raise ValueError("shape")
            found[iid] = decode(states)
        except (ValueError, TypeError):
            stale.add(iid)        # unreadable: the trail decides
    return found, [by_id[i] for i in by_id if i in stale]


def summaries(ids: list[int]) -> tuple[dict[int, tuple[str, str]], set[int]] | None:
    """For a reader of many incidents that needs the whole history of only a few (the
    statistics): per incident the table answers for, ``(last_at, facts)`` — the latest change's
    time (``at_text``) and the sequence of ``[grade, involved]`` as JSON text — and the ids it
    cannot answer for (walk them). None: the table was never filled."""
    got = _fresh_rows(_db(), ids, "f.last_at, f.facts")
    if got is None:
        return None
    keep, stale = got
    out = {}
    for iid, last_at, facts in keep:
        if isinstance(last_at, str) and len(last_at) == 32 and isinstance(facts, str) and facts:
            out[iid] = (last_at, facts)
        else:
            stale.add(iid)
    return out, stale


def facts_text(states: tuple[FactChange, ...]) -> str:
    """The ``facts`` column: the sequence of ``[grade, involved]``, without the times."""
    return json.dumps([[c.grade, bool(c.personal_info)] for c in states], ensure_ascii=False,
                      separators=(",", ":"))


def last_at(states: tuple[FactChange, ...]) -> str:
    return max(at_text(c.at) for c in states)


def _well_formed(states: Any) -> bool:
    return isinstance(states, list) and bool(states) and all(
        isinstance(s, list) and len(s) == 3 and isinstance(s[0], str) and len(s[0]) == 32
        and (s[1] is None or isinstance(s[1], str)) and isinstance(s[2], bool) for s in states)


def _known_rows(db, ids: list[int] | None) -> list[Known]:
    from models.tables import Incident
    at = Incident.created_at.python_value
    sql = ("SELECT id, grade, personal_info, personal_info_unsure, created_at FROM incident "
           "WHERE version > 1")
    params: list = []
    if ids is not None:
        sql += f" AND id IN ({','.join('?' * len(ids))})"
        params = ids
    return [Known(iid, grade, bool(pi), bool(unsure), at(created) if created else None)
            for iid, grade, pi, unsure, created in db.execute_sql(sql, params).fetchall()]


def _store(db, ids: Iterable[int], found: dict[int, tuple[FactChange, ...]]) -> None:
    """Write the walked histories of ``ids`` (rows copied from the incident as it is now, in the
    same transaction); an incident with no history loses its row."""
    ids = list(ids)
    for start in range(0, len(ids), FEW):
        chunk = ids[start:start + FEW]
        db.execute_sql(f"DELETE FROM fact_history WHERE incident IN ({','.join('?' * len(chunk))})", chunk)
    for iid in ids:
        states = found.get(iid)
        if states:
            db.execute_sql(
                "INSERT INTO fact_history (incident, grade, personal_info, personal_info_unsure, created_at, "
                "states, last_at, facts) SELECT id, grade, personal_info, personal_info_unsure, created_at, ?, ?, ? "
                "FROM incident WHERE id = ?", (encode(states), last_at(states), facts_text(states), iid))


def _set_mark(db, mark: int) -> None:
    db.execute_sql("INSERT OR REPLACE INTO schema_meta (key, value) VALUES (?, ?)", (MARK_KEY, str(mark)))


def _last_event(db) -> int:
    row = db.execute_sql("SELECT max(id) FROM audit_event").fetchone()
    return int(row[0] or 0)


def catch_up(db) -> int:
    """Bring the table up to the trail's last event: the incidents with fact events after the
    mark are walked again and written. Returns how many were. Call inside a write."""
    mark = _mark(db)
    if mark is None:
        return 0        # never filled (the step fills it): readers walk
    last = _last_event(db)
    if last <= mark:
        return 0
    ids = sorted(_unseen(db, mark))
    if ids:
        known = []
        for start in range(0, len(ids), FEW):
            known.extend(_known_rows(db, ids[start:start + FEW]))
        _store(db, ids, walk(known))
    _set_mark(db, last)
    return len(ids)


def rebuild(db) -> int:
    """Fill the table from the whole trail (the schema step; idempotent). Returns the rows written."""
    db.create_tables([FactHistory], safe=True)
    db.execute_sql("DELETE FROM fact_history")
    found = walk(_known_rows(db, None))
    _store(db, sorted(found), found)
    _set_mark(db, _last_event(db))
    return len(found)


def verify(db) -> tuple[int, list[int]]:
    """(incidents the table answers for, those whose row differs from a walk of the trail): the
    table is derived and not covered by the audit chain, so the full check walks it again."""
    known = _known_rows(db, None)
    if _mark(db) is None or not known:
        return 0, []
    held, left = read(known)
    walked = walk(known)
    answered = {k.id for k in known} - {k.id for k in left}
    wrong = sorted(i for i in answered if held.get(i, ()) != walked.get(i, ()))
    return len(answered), wrong


class _Hooks:
    """models.store calls these around each outermost write transaction: before the commit, the
    table catches up with the events the transaction recorded (one small range read when it
    recorded no fact event)."""

    def begin(self, store) -> None:
        pass

    def before_commit(self, store) -> None:
        catch_up(store.db)

    def end(self, store, ok: bool) -> None:
        pass


from models import store as _store_module  # noqa: E402  (registration, after the definitions)

if not any(isinstance(h, _Hooks) for h in _store_module.WRITE_HOOKS):
    _store_module.WRITE_HOOKS.append(_Hooks())
