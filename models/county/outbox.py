"""The school's transactional outbox for the county (issue 19, item 2).

On an enrolled database (the ``county.school`` setting), every ``store.write()`` that touches
an incident, one of its reports or one of its obligation notes writes, inside the same
transaction, one ``Outbox`` row per incident touched: record ``incident:<code>``, version =
1 + the last version of that record in the outbox (its newest row always stays, so versions
never repeat; older rows the county acknowledged are pruned by ``prune_sent``),
and the incident's whole state as the county wants it (its obligations from
``models.deadlines`` at commit time, its submitted reports). A write that rolls back leaves no
outbox row; a change that commits cannot lack one.

How rows are seen: like ``models.audit``, per-connection TEMP triggers note the incident id of
every inserted, updated or deleted incident, report and obligation note in a TEMP table, and
``before_commit`` turns those ids into outbox rows. The triggers exist only on connections of an
enrolled database, so a school that never enrols pays one primary-key read per write and nothing
else. A database enrolled by this very transaction (``link.enrol``) or by another session since
this write began snapshots every incident: nothing slips between the check and the commit.

No psycopg here: the hook runs in every process that writes the school's database.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Any, Iterable

SETTING_SCHOOL = "county.school"
SETTING_URL = "county.url"
RECORD_PREFIX = "incident:"

_tx = threading.local()
_settings_override = None
_policy_cache: dict = {}


def use_settings(settings) -> None:
    """The settings whose regimes, targets and zone the obligations are computed with (the app's
    and the CLI's own); without them the config file's (``models.config.load_settings``)."""
    global _settings_override
    _settings_override = settings


def enrolled_school(store) -> str | None:
    """The county school code this database is enrolled as, or None (one primary-key read)."""
    row = store.db.execute_sql("SELECT value FROM setting WHERE key = ?", (SETTING_SCHOOL,)).fetchone()
    if row is None or row[0] is None:
        return None
    try:
        value = json.loads(row[0])
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, str) and value else None


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat()


def _policy():
    from models.config import load_settings
    from models.policy import build_policy
    settings = _settings_override
    if settings is None:
        settings = _policy_cache.get("settings")
        if settings is None:
            try:
                settings = load_settings()
            except Exception:  # noqa: BLE001 - a broken config must not stop the officer's write
                from models.config import Settings
                settings = Settings()
            _policy_cache["settings"] = settings
    key = (tuple(settings.regimes), tuple(sorted(settings.targets.items())), settings.timezone)
    found = _policy_cache.get(key)
    if found is None:
        found = _policy_cache[key] = (build_policy(settings.regimes, settings.targets, settings.zone),
                                      settings.due_soon_minutes)
    return found


def _commit_time() -> datetime:
    """The time of the transaction's last audit event (the service's ``ctx.now()``), else now."""
    from models import audit
    from models.tables import AuditEvent
    events = getattr(audit._tx, "state", {}).get("events") or []
    if events:
        row = AuditEvent._meta.database.execute_sql("SELECT at FROM audit_event WHERE id = ?",
                                                    (events[-1],)).fetchone()
        if row is not None and row[0]:
            return AuditEvent.at.python_value(row[0])
    return datetime.now(timezone.utc)


FEW = 20
_SQL: dict[str, str] = {}


def _sql(key: str, build) -> str:
    found = _SQL.get(key)
    if found is None:
        found = _SQL[key] = build().sql()[0]
    return found


def payloads(incident_ids: Iterable[int], now: datetime | None = None) -> dict[str, dict]:
    """``{code: payload}`` for these incidents as they are now (absent ids: nothing)."""
    from models.deadlines import obligations
    from models.incidents import close_over_for, fact_history, facts, report_facts
    from models.tables import Incident, Report
    ids = sorted(set(incident_ids))
    if not ids:
        return {}
    now = now or _commit_time()
    policy, due_soon = _policy()
    reports: dict[int, list] = {}
    if len(ids) > FEW:
        incs = list(Incident.select().where(Incident.id.in_(ids)))
        for rep in Report.select().where(Report.incident.in_(ids)).order_by(Report.id):
            reports.setdefault(rep.incident_id, []).append(rep)
    else:
        # The usual write touches one incident: peewee's query building (wide rows) costs more
        # than the reads, so the SQL text is built once and reused.
        inc_sql = _sql("incident", lambda: Incident.select().where(Incident.id == 0))
        rep_sql = _sql("report", lambda: Report.select().where(Report.incident == 0).order_by(Report.id))
        incs = [inc for iid in ids for inc in Incident.raw(inc_sql, iid)]
        for iid in ids:
            reports[iid] = list(Report.raw(rep_sql, iid))
    closed = [i.id for i in incs if i.status == "closed"]
    over = close_over_for(closed) if closed else {}
    history = fact_history(incs)
    out = {}
    for inc in incs:
        reps = reports.get(inc.id, [])
        obls = obligations(facts(inc, over.get(inc.id, ()), history.get(inc.id, ())),
                           report_facts(reps), policy, now, due_soon)
        out[inc.code] = {
            "code": inc.code, "title": inc.title, "category": inc.category, "grade": inc.grade,
            "grade_decided": bool(inc.grade_decided), "status": inc.status, "is_drill": bool(inc.is_drill),
            "occurred_at": _iso(inc.occurred_at), "discovered_at": _iso(inc.discovered_at),
            "closed_at": _iso(inc.closed_at), "updated_at": _iso(inc.updated_at),
            "obligations": [{"regime": o.regime, "stage": o.stage, "seq": o.seq, "state": o.state,
                             "due_at": _iso(o.due_at), "submitted_at": _iso(o.submitted_at),
                             "statutory": o.figure == "statutory"} for o in obls],
            "reports": [{"regime": r.regime, "stage": r.stage, "seq": r.seq, "revision": r.revision,
                         "submitted_at": _iso(r.submitted_at), "submitted_by": r.submitted_by or "",
                         "channel": r.channel or "", "recipient": r.recipient or ""}
                        for r in reps if r.status != "draft" and r.submitted_at is not None],
        }
    return out


def queue(store, incident_ids: Iterable[int], now: datetime | None = None, *, force: bool = False,
          above: dict[str, int] | None = None) -> int:
    """Write one outbox row per incident whose state changed (inside the caller's transaction);
    with ``force``, one per incident even if unchanged (after a restore: see ``link.after_restore``).
    ``above``: {record: the county's highest version of it}: the new version is above that too
    (``link.resync``: the county may hold numbers this file never wrote)."""
    return write_rows(store, payloads(incident_ids, now), force=force, above=above)


REMOVAL_REASONS = ("restore", "resync")


def removal(code: str, reason: str, at: datetime) -> dict:
    """The change saying this school's record no longer has incident ``code`` (a restore from a
    backup took it away: ``restore``; ``county sync --all`` found the county showing it:
    ``resync``). The county marks the incident removed at ``at``, deleting nothing
    (``server.apply_changes``)."""
    return {"code": code, "removed": True, "reason": reason, "removed_at": _iso(at)}


def is_removal(payload: Any) -> bool:
    return bool(isinstance(payload, dict) and payload.get("removed"))


def write_rows(store, found: dict[str, dict], *, force: bool = False,
               above: dict[str, int] | None = None) -> int:
    """One outbox row per ``{code: payload}`` at 1 + the record's last version here (and above
    ``above``'s); unless ``force``, none for a payload equal to the record's last one. The count."""
    from models.tables import Outbox
    if not found:
        return 0
    records = [RECORD_PREFIX + code for code in found]
    last: dict[str, tuple[int, str]] = {}
    for i in range(0, len(records), 500):
        chunk = records[i:i + 500]
        marks = ",".join("?" * len(chunk))
        # SQLite: with max(), the bare column comes from the row holding the maximum.
        for record, version, payload in store.db.execute_sql(
                f"SELECT record, max(version), payload FROM outbox WHERE record IN ({marks}) GROUP BY record",
                chunk):
            last[record] = (version or 0, payload)
    created = datetime.now(timezone.utc)
    rows = []
    for code, payload in found.items():
        record = RECORD_PREFIX + code
        version, before = last.get(record, (0, None))
        if not force and before is not None and before == _text(payload):
            continue          # nothing the county sees changed (a draft saved): no new version
        version = max(version, (above or {}).get(record) or 0)
        rows.append({"record": record, "version": version + 1, "payload": payload, "created_at": created})
    for i in range(0, len(rows), 200):
        Outbox.insert_many(rows[i:i + 200]).execute()
    return len(rows)


def _text(payload: dict) -> str:
    """The payload as JSONTextField stores it (so equal states compare equal as text)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)


def queue_all(store) -> int:
    """A snapshot of every incident (enrolment; an enrolment seen only at commit)."""
    from models.tables import Incident
    _tx.state = {**_state(), "all_done": True}
    return queue(store, [i for (i,) in Incident.select(Incident.id).tuples()])


_PRUNABLE = ("sent_at IS NOT NULL AND version < (SELECT max(o.version) FROM outbox o "
             "WHERE o.record = outbox.record)")


def prune_sent(store, records: Iterable[str] | None = None) -> int:
    """Delete the rows the county acknowledged that are no longer any record's newest; the count.

    Inside the caller's ``store.write()``. What stays, and why:

    - every unsent row (``sent_at`` NULL): it is still to go;
    - the newest row of each record, sent or not: the next version is 1 + its version (versions
      never repeat, so the county never takes a new state for a duplicate), ``queue`` compares
      the new state with its payload (an unchanged state makes no version), and after a restore
      from a backup ``link._catch_up_versions`` compares the county's highest version with the
      highest this file ever wrote. Each row is the record's whole state, so that one row is also
      all a full resend would need.

    An older row the county acknowledged is needed by nothing: the county has it (or a newer
    one), and a backup restored later carries its own rows. ``records`` limits the work to those
    records (the sender passes the batch it just marked: one indexed look-up per row); None
    looks at every acknowledged row (once per sender start, for rows from before pruning).
    """
    if records is None:
        return store.db.execute_sql(f"DELETE FROM outbox WHERE {_PRUNABLE}").rowcount
    records = sorted(set(records))
    removed = 0
    for i in range(0, len(records), 500):
        chunk = records[i:i + 500]
        removed += store.db.execute_sql(
            f"DELETE FROM outbox WHERE record IN ({','.join('?' * len(chunk))}) AND {_PRUNABLE}", chunk).rowcount
    return removed


def prunable(store) -> bool:
    """Whether ``prune_sent(store)`` would delete anything (a read: no write, no commit, when not)."""
    return store.db.execute_sql(f"SELECT EXISTS (SELECT 1 FROM outbox WHERE {_PRUNABLE})").fetchone()[0] == 1


def pending(store) -> int:
    row = store.db.execute_sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()
    return int(row[0])


# --- the write hook ---------------------------------------------------------------------------

_TRIGGERS = (("incident", "id"), ("report", "incident_id"), ("obligation_note", "incident_id"))


def _state() -> dict:
    st = getattr(_tx, "state", None)
    if st is None:
        st = _tx.state = {"active": False, "all_done": False}
    return st


def _ensure_triggers(store) -> None:
    conn = store.db.connection()
    if getattr(_tx, "conn", None) is conn:
        return
    sql = ["CREATE TEMP TABLE IF NOT EXISTS xj_county_touched (iid INTEGER PRIMARY KEY)"]
    for table, col in _TRIGGERS:
        for op, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            sql.append(f'CREATE TEMP TRIGGER IF NOT EXISTS "xj_county_{table}_{op.lower()}" AFTER {op} '
                       f'ON main."{table}" BEGIN INSERT OR IGNORE INTO xj_county_touched VALUES ({ref}.{col}); END')
    for stmt in sql:
        store.db.execute_sql(stmt)
    _tx.conn = conn


class _Hooks:
    """models.store calls these around each outermost write transaction."""

    def begin(self, store) -> None:
        active = enrolled_school(store) is not None
        _tx.state = {"active": active, "all_done": False}
        if active:
            _ensure_triggers(store)

    def before_commit(self, store) -> None:
        st = _state()
        if st["all_done"]:
            if st["active"]:
                store.db.execute_sql("DELETE FROM temp.xj_county_touched")
            return
        if not st["active"]:
            # Enrolled since this write began (by it, or by another session): every incident.
            if enrolled_school(store) is not None:
                queue_all(store)
            return
        ids = [r[0] for r in store.db.execute_sql("SELECT iid FROM temp.xj_county_touched")]
        if ids:
            store.db.execute_sql("DELETE FROM temp.xj_county_touched")
            queue(store, ids)

    def end(self, store, ok: bool) -> None:
        _tx.state = {"active": False, "all_done": False}


def install() -> None:
    from models import store as _store_module
    if not any(isinstance(h, _Hooks) for h in _store_module.WRITE_HOOKS):
        _store_module.WRITE_HOOKS.append(_Hooks())


install()
