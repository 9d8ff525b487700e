"""The audit trail: append-only, chained with a per-database key, anchored outside its table.

Every service appends its event inside the same transaction as the change, so a change
without its audit row cannot be committed. Since issue 13 each event's ``hash`` is an
HMAC-SHA-256 (``alg = 'hmac1'``) with the database's key (``models.auditkey``) over its
content, the previous event's hash and ``rows``: the digest of every tracked row
(incidents, reports, users and their roles, contacts, evidence) the transaction wrote.
Events written by release 0.1 (``alg`` NULL, plain SHA-256) still verify, as a prefix.

``verify()`` walks the chain, compares its head with the witness file (so events removed
from the end are noticed), and compares every tracked row with the digest the last event
that wrote it recorded (so ``UPDATE user SET role='admin'`` from the sqlite3 shell is
noticed). It names the first problem.

How rows are seen: the outermost ``store.write()`` (models.store ``WRITE_HOOKS``) keeps
per-connection TEMP triggers that note every inserted, updated or deleted tracked row in
a TEMP table; just before the commit their digests are written into the transaction's
last event (whose MAC is then recomputed: nobody can have seen it yet). Triggers in TEMP
live only on this program's connections: a write from any other program is not noted.
The first keyed event of a database (a new one, or one that release 0.1 wrote) records
every tracked row: the baseline.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from models import auditkey
from models import fact_history  # noqa: F401  (its write hook: the derived history table)
from models.errors import StoreError
from models.tables import AuditEvent

GENESIS = "0" * 64
ALG = "hmac1"
# Tracked tables: a row here must match the digest of the last audit event that wrote it.
TRACKED = ("incident", "report", "user", "contact", "evidence")
DIGEST_CHARS = 32
PROBLEM_KEYS = "audit.problem."   # + legacy_after_keyed, key_missing, truncated, row_changed, … (security.toml)


def _digest(prev_hash: str, at: datetime, actor: str, origin: str, action: str, entity: str,
            entity_id: str, changes: Any, reason: str | None) -> str:
    """Release 0.1's unkeyed link: SHA-256 over the content and the previous hash."""
    body = json.dumps([prev_hash, at.isoformat(timespec="microseconds"), actor, origin, action,
                       entity, entity_id, changes, reason],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _mac(key: bytes, prev_hash: str, at: datetime, actor: str, origin: str, action: str, entity: str,
         entity_id: str, changes: Any, reason: str | None, rows: Any) -> str:
    body = json.dumps([ALG, prev_hash, at.isoformat(timespec="microseconds"), actor, origin, action,
                       entity, entity_id, changes, reason, rows],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, body.encode("utf-8"), hashlib.sha256).hexdigest()


def _event_mac(key: bytes, ev: AuditEvent) -> str:
    return _mac(key, ev.prev_hash, ev.at, ev.actor, ev.origin, ev.action, ev.entity, ev.entity_id,
                ev.changes, ev.reason, ev.rows)


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


# --- the transaction's events and rows ------------------------------------------------------

_tx = threading.local()


def _state() -> dict:
    st = getattr(_tx, "state", None)
    if st is None:
        st = _tx.state = {"events": [], "baseline": False, "store": None}
    return st


def _key_for_write(store) -> bytes:
    key = auditkey.load(store)
    if key is not None:
        return key
    if AuditEvent.select().where(AuditEvent.alg == ALG).exists():
        # Keyed events exist and nobody here holds their key: refuse rather than fork the chain.
        raise StoreError("audit.error.key_missing", path=str(store.path))
    return auditkey.load(store, create=True)


def record(ctx, action: str, entity: str, entity_id: Any = "", changes: Any = None,
           reason: str | None = None, *, actor: str | None = None) -> AuditEvent:
    """Append one event; call inside the service's write transaction."""
    store = ctx.store
    key = _key_for_write(store)
    last = AuditEvent.select(AuditEvent.hash, AuditEvent.alg).order_by(AuditEvent.id.desc()).first()
    prev = last.hash if last else GENESIS
    at = ctx.now()
    who = actor or ctx.actor.username
    origin = ctx.actor.origin
    # Round-trip through JSON so the stored value and the hashed value are the same.
    norm = json.loads(json.dumps(changes, ensure_ascii=False, sort_keys=True, default=str)) if changes is not None else None
    h = _mac(key, prev, at, who, origin, action, entity, str(entity_id), norm, reason, None)
    ev = AuditEvent.create(at=at, actor=who, origin=origin, action=action, entity=entity,
                           entity_id=str(entity_id), changes=norm, reason=reason,
                           prev_hash=prev, hash=h, alg=ALG, rows=None)
    st = _state()
    st["events"].append(ev.id)
    st["store"] = store
    if last is None or last.alg != ALG:
        st["baseline"] = True      # the first keyed event: it records every tracked row
    if getattr(store._local, "depth", 0) == 0:
        # Outside a write transaction (autocommit): seal and anchor at once.
        _seal(store)
        _count(store)
        _end(store, True)
    return ev


def row_digest(table: str, values: Mapping[str, Any]) -> str:
    def enc(v):
        if isinstance(v, (bytes, memoryview)):
            return {"$hex": bytes(v).hex()}
        return v
    body = json.dumps([table, {k: enc(v) for k, v in values.items() if v is not None}],
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


def _rows_of(db, table: str, rowids: list[int] | None = None) -> dict[str, str]:
    if rowids is not None and not rowids:
        return {}
    where = f" WHERE rowid IN ({','.join('?' for _ in rowids)})" if rowids is not None else ""
    cur = db.execute_sql(f'SELECT rowid AS "__rowid", * FROM "{table}"{where}', rowids or [])
    cols = [c[0] for c in cur.description]
    out = {}
    for row in cur.fetchall():
        values = dict(zip(cols[1:], row[1:]))
        out[str(row[0])] = row_digest(table, values)
    return out


def current_rows(db) -> dict[str, dict[str, str]]:
    return {table: _rows_of(db, table) for table in TRACKED}


class _Hooks:
    """models.store calls these around each outermost write transaction."""

    def begin(self, store) -> None:
        _tx.state = {"events": [], "baseline": False, "store": store}
        _ensure_triggers(store)

    def before_commit(self, store) -> None:
        if getattr(_tx, "unsealed", False):
            store.db.execute_sql("DELETE FROM temp.xj_touched")
            return
        _seal(store)
        _count(store)

    def end(self, store, ok: bool) -> None:
        _end(store, ok)


@contextlib.contextmanager
def unsealed():
    """Rows copied as they were (an import): their digests are already in the copied trail."""
    _tx.unsealed = True
    try:
        yield
    finally:
        _tx.unsealed = False


def _ensure_triggers(store) -> None:
    db = store.db
    conn = db.connection()
    if getattr(_tx, "conn", None) is conn:
        return
    sql = ['CREATE TEMP TABLE IF NOT EXISTS xj_touched (tbl TEXT NOT NULL, rid INTEGER NOT NULL, '
           'PRIMARY KEY (tbl, rid))']
    for table in TRACKED:
        for op, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            sql.append(f'CREATE TEMP TRIGGER IF NOT EXISTS "xj_{table}_{op.lower()}" AFTER {op} ON main."{table}" '
                       f"BEGIN INSERT OR IGNORE INTO xj_touched VALUES ('{table}', {ref}.rowid); END")
    for stmt in sql:
        db.execute_sql(stmt)
    _tx.conn = conn


def _seal(store) -> None:
    """Write the digests of the rows this transaction touched into its last event."""
    st = _state()
    db = store.db
    try:
        touched = db.execute_sql("SELECT tbl, rid FROM temp.xj_touched").fetchall()
    except Exception:  # noqa: BLE001 - no triggers on this connection (autocommit record)
        touched = []
    if not touched and not st["baseline"]:
        return
    rows: dict[str, dict[str, str | None]] = {}
    if st["baseline"]:
        rows = {t: dict(v) for t, v in current_rows(db).items() if v}
    by_table: dict[str, list[int]] = {}
    for table, rid in touched:
        by_table.setdefault(table, []).append(rid)
    for table, ids in by_table.items():
        found = _rows_of(db, table, ids)
        rows.setdefault(table, {}).update({str(i): found.get(str(i)) for i in ids})
    if touched:
        db.execute_sql("DELETE FROM temp.xj_touched")
    if not rows:
        return
    key = _key_for_write(store)
    if not st["events"]:
        # Tracked rows changed without an event: say so in the trail rather than leave them unsealed.
        last = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
        prev = last.hash if last else GENESIS
        at = datetime.now(timezone.utc)
        ev = AuditEvent.create(at=at, actor="system", origin="", action="rows.unrecorded", entity="database",
                               entity_id="", changes=None, reason=None, prev_hash=prev, alg=ALG, rows=rows,
                               hash="")
        ev.hash = _event_mac(key, ev)
        AuditEvent.update(hash=ev.hash).where(AuditEvent.id == ev.id).execute()
        st["events"].append(ev.id)
        return
    ev = AuditEvent.get_by_id(st["events"][-1])
    merged = dict(ev.rows or {})
    for table, values in rows.items():
        merged.setdefault(table, {}).update(values)
    ev.rows = json.loads(json.dumps(merged, sort_keys=True))
    ev.hash = _event_mac(key, ev)
    AuditEvent.update(rows=ev.rows, hash=ev.hash).where(AuditEvent.id == ev.id).execute()


def _count(store) -> None:
    """The trail's head after this transaction, taken under its write lock.

    The count is the witness's plus the events after it (no ``count(*)`` per write). A witness
    the table no longer matches (its last event gone or changed, its MAC wrong) is left as it
    is: the next write must not paper over a truncation, so ``verify`` keeps reporting it until
    someone looks (``audit anchor`` after that, or a restore).
    """
    st = _state()
    if not st["events"]:
        return
    db = store.db
    key = auditkey.load(store)
    if key is None:
        return
    w = auditkey.read_witness(store.path, auditkey.identity_of(store), key)
    last_id, last = db.execute_sql("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
    if isinstance(w, auditkey.Head):
        row = db.execute_sql("SELECT hash FROM audit_event WHERE id = ?", (w.last_id,)).fetchone()
        if w.last_id and (row is None or row[0] != w.last):
            st["keep_witness"] = True
            return
        after = db.execute_sql("SELECT count(*) FROM audit_event WHERE id > ?", (w.last_id,)).fetchone()[0]
        st["head"] = auditkey.Head(w.count + after, last_id, last)
        return
    if w is None:
        earlier = db.execute_sql("SELECT 1 FROM audit_event WHERE alg = ? AND id < ? LIMIT 1",
                                 (ALG, min(st["events"]))).fetchone()
        if earlier is None:     # the first keyed events: the witness starts here
            n = db.execute_sql("SELECT count(*) FROM audit_event").fetchone()[0]
            st["head"] = auditkey.Head(n, last_id, last)
            return
    st["keep_witness"] = True   # missing although keyed events exist, or forged: keep the evidence


def _end(store, ok: bool) -> None:
    st = _state()
    h = st.get("head")
    _tx.state = {"events": [], "baseline": False, "store": None}
    if ok and h is not None:
        key = auditkey.load(store)
        if key is not None:
            auditkey.write_witness(store.path, auditkey.identity_of(store), key, h)


def head() -> auditkey.Head:
    row = AuditEvent.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
    n = AuditEvent.select().count()
    return auditkey.Head(n, row.id if row else 0, row.hash if row else GENESIS)


def update_witness(store, *, force: bool = False) -> None:
    """The witness from the table as it is (after an import or a restore: a full count, once)."""
    key = auditkey.load(store)
    if key is None:
        return
    try:
        h = head()
    except Exception:  # noqa: BLE001 - the write committed; a witness that lags is tolerated
        return
    auditkey.write_witness(store.path, auditkey.identity_of(store), key, h, force=force)


from models import store as _store_module  # noqa: E402  (registered once, at import)

if not any(isinstance(h, _Hooks) for h in _store_module.WRITE_HOOKS):
    _store_module.WRITE_HOOKS.append(_Hooks())


# --- verifying --------------------------------------------------------------------------------

@dataclass
class ChainReport:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str = ""
    entity: str = ""            # for row problems: the table
    legacy: int = 0             # events from release 0.1 (unkeyed), verified as a prefix
    keyed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        from models.i18n import t
        if self.ok:
            return t("cli.audit.ok", n=self.checked)
        if self.problem in ("prev_hash", "hash"):
            return t("cli.audit.broken", id=self.broken_id, problem=self.problem)
        key = PROBLEM_KEYS + self.problem
        return t(key, id=self.broken_id, entity=self.entity)


def verify(store=None, *, witness: bool = True, key: bytes | None = None) -> ChainReport:
    """The chain, its head against the witness, and every tracked row against its last event."""
    if store is None:
        from models.store import active_store
        store = active_store()
    key = key or auditkey.load(store)
    prev = GENESIS
    n = legacy = keyed = 0
    last_id = 0
    expected: dict[str, dict[str, str | None]] = {t: {} for t in TRACKED}
    for ev in AuditEvent.select().order_by(AuditEvent.id).iterator():
        n += 1
        if ev.prev_hash != prev:
            return ChainReport(False, n, ev.id, "prev_hash", legacy=legacy, keyed=keyed)
        if ev.alg is None:
            if keyed:
                return ChainReport(False, n, ev.id, "legacy_after_keyed", legacy=legacy, keyed=keyed)
            expect = _digest(ev.prev_hash, ev.at, ev.actor, ev.origin, ev.action, ev.entity,
                             ev.entity_id, ev.changes, ev.reason)
            if expect != ev.hash or ev.rows is not None:
                return ChainReport(False, n, ev.id, "hash", legacy=legacy, keyed=keyed)
            legacy += 1
        elif ev.alg == ALG:
            if key is None:
                return ChainReport(False, n, ev.id, "key_missing", legacy=legacy, keyed=keyed)
            if not hmac.compare_digest(_event_mac(key, ev), ev.hash or ""):
                return ChainReport(False, n, ev.id, "hash", legacy=legacy, keyed=keyed)
            keyed += 1
            for table, values in (ev.rows or {}).items():
                if table in expected and isinstance(values, dict):
                    expected[table].update(values)
        else:
            return ChainReport(False, n, ev.id, "hash", legacy=legacy, keyed=keyed)
        prev = ev.hash
        last_id = ev.id
    report = ChainReport(True, n, legacy=legacy, keyed=keyed)
    # The head, against the witness outside the table.
    if key is not None and witness:
        witness = auditkey.read_witness(store.path, auditkey.identity_of(store), key)
        if witness == "forged":
            return _bad(report, "witness_forged")
        if witness is None:
            if keyed:
                return _bad(report, "witness_missing")
            if n == 0 or legacy == n:
                # A key exists, so keyed events were written: none left means they were removed.
                return _bad(report, "unkeyed_with_key")
        else:
            if n < witness.count or last_id < witness.last_id:
                return _bad(report, "truncated", witness.last_id)
            at = AuditEvent.get_or_none(AuditEvent.id == witness.last_id) if witness.last_id else None
            upto = AuditEvent.select().where(AuditEvent.id <= witness.last_id).count()
            if witness.last_id and (at is None or at.hash != witness.last or upto != witness.count):
                return _bad(report, "rewritten", witness.last_id)
            if not keyed and n:
                return _bad(report, "unkeyed_with_key")
    elif keyed == 0 and legacy:
        report.notes.append("legacy")
    # Every tracked row, against the last event that wrote it.
    if keyed:
        now = current_rows(store.db)
        for table in TRACKED:
            want, have = expected[table], now[table]
            for rid in sorted(set(want) | set(have), key=lambda r: int(r)):
                w, h = want.get(rid, "absent"), have.get(rid)
                if w == "absent":
                    return _bad(report, "row_added", int(rid), table)
                if w is None and h is not None:
                    return _bad(report, "row_added", int(rid), table)
                if w is not None and h is None:
                    return _bad(report, "row_deleted", int(rid), table)
                if w != h:
                    return _bad(report, "row_changed", int(rid), table)
    return report


def _bad(report: ChainReport, problem: str, broken_id: int | None = None, entity: str = "") -> ChainReport:
    report.ok = False
    report.problem = problem
    report.broken_id = broken_id
    report.entity = entity
    return report


def events_for(entity: str, entity_id: Any, limit: int = 200) -> list[AuditEvent]:
    return list(AuditEvent.select().where((AuditEvent.entity == entity) & (AuditEvent.entity_id == str(entity_id)))
                .order_by(AuditEvent.id.desc()).limit(limit))
