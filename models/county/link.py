"""The school's link to the county (issue 19, items 2 and 4): enrolment, the sender, receipts back.

- ``enrol(store, url, school, secret)`` logs in as the school's county role with the bureau's
  one-time secret, changes that role's password to a fresh random one (``ALTER ROLE``), marks
  the secret used on the server, keeps the new credential in the OS keyring (service per
  database identity) or, without a secure keyring, in a private file beside the database
  (``duty.db.county-key``; never in the database), writes the settings ``county.school`` and
  ``county.url`` and queues a snapshot of every incident, in one local transaction.
- ``sync_once(store)`` pushes the unsent outbox rows in id order, in batches, through
  ``server.apply_changes`` (idempotent by (school, record, version)), marks each batch sent
  once the server committed it, and pulls the bureau's receipts into ``CountyReceipt``
  (a local write only when something new came). Delivery is at least once: a sender killed
  between the server's commit and the local mark resends the batch, which the county counts
  as duplicates and does not apply.
- ``after_restore(store)``: a restore from a backup queues a new version of every incident, so
  the county shows the restored state (renumbered above the county's by the sender).
- ``run(store, stop)`` loops: sends when something is pending, pulls receipts now and then,
  and backs off 1 s → 60 s while the server is unreachable.
- Acknowledged rows are pruned as they are acknowledged (``outbox.prune_sent``, in the batch's
  marking transaction, for its records; once per ``run`` over the whole table): a record keeps
  its newest row and its unsent ones, so a school syncing for years keeps about one row per
  incident instead of one per change.

The link's state (last success, last error, pending count) is a small JSON file beside the
database (``duty-county.json``), never a row: a failing link must not move ``PRAGMA
data_version``, or every screen would reload on each retry.
"""
from __future__ import annotations

import json
import os
import secrets as pysecrets
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from models.county import outbox
from models.county.outbox import SETTING_SCHOOL, SETTING_URL
from models.errors import DomainError

BATCH = 200
SETTING_RESTORED = "county.restored"     # left by after_restore, cleared once renumbered
IDLE_S = 2.0              # how often the sender looks for something to send
RECEIPTS_EVERY_S = 10.0   # how often it asks for receipts when nothing was sent
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0
# Failures that waiting does not mend.
# (The app's sender still retries them, backing off: a credential or a server put right is used.)
FATAL = ("county.error.not_enrolled", "county.error.no_credential", "county.error.credential_refused",
         "county.error.not_initialised", "county.error.schema_behind", "county.error.schema_newer")
KEY_ENV = "XUEJI_DUTY_COUNTY_KEY"        # auto (default) | file | keyring
CRED_FORMAT = "xueji-duty-county-credential"
SERVICE_PREFIX = "xueji-duty-county"
ACCOUNT = "county-link"


# --- where things live ------------------------------------------------------------------------

def credential_path(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + ".county-key")


def state_path(db_path: Path) -> Path:
    return Path(db_path).with_name(f"{Path(db_path).stem}-county.json")


def bare_url(url: str) -> str:
    """The URL without user and password (what the Setting table keeps)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def settings_of(store) -> tuple[str | None, str | None]:
    from models.tables import Setting
    with store.read():
        rows = {r.key: r.value for r in Setting.select().where(Setting.key.in_([SETTING_SCHOOL, SETTING_URL]))}
    return rows.get(SETTING_SCHOOL), rows.get(SETTING_URL)


# --- the credential ---------------------------------------------------------------------------

def _mode() -> str:
    value = os.environ.get(KEY_ENV, "auto").strip().lower()
    return value if value in ("auto", "file", "keyring") else "auto"


def _service(identity: str) -> str:
    return f"{SERVICE_PREFIX}:{identity or 'unknown'}"


def _kr_get(service: str) -> str | None:
    import keyring
    return keyring.get_password(service, ACCOUNT)


def _kr_set(service: str, value: str) -> None:
    import keyring
    keyring.set_password(service, ACCOUNT, value)


def _encode(identity: str, school: str, role: str, password: str) -> str:
    return json.dumps({"format": CRED_FORMAT, "db": identity, "school": school, "role": role,
                       "password": password}) + "\n"


def _decode(text: str | bytes | None, identity: str) -> dict | None:
    if not text:
        return None
    try:
        doc = json.loads(text)
    except (TypeError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != CRED_FORMAT or doc.get("db") != identity:
        return None
    return doc


def save_credential(store, school: str, role: str, password: str) -> str:
    """Keep the county login: ``"keyring"`` or ``"file"`` (where it went)."""
    from models import auditkey, secrets
    identity = store.identity
    text = _encode(identity, school, role, password)
    mode = _mode()
    if mode == "keyring" or (mode == "auto" and not auditkey._shared_folder(store.path)):
        try:
            secrets._call(_kr_set, _service(identity), text, timeout=secrets.TIMEOUT_S)
            try:
                credential_path(store.path).unlink()    # an older file would be read first
            except FileNotFoundError:
                pass
            return "keyring"
        except secrets.KeyringUnavailable:
            if mode == "keyring":
                raise DomainError("county.error.keyring")
    try:
        auditkey.write_private(credential_path(store.path), text.encode())
    except OSError as exc:
        raise DomainError("county.error.credential_write", path=str(credential_path(store.path)),
                          detail=exc.strerror or str(exc)) from exc
    return "file"


def load_credential(store) -> dict | None:
    """The county login kept for this database (its file first, else the keyring), or None."""
    from models import secrets
    identity = store.identity
    try:
        found = _decode(credential_path(store.path).read_text(encoding="utf-8"), identity)
    except OSError:
        found = None
    if found is None and _mode() != "file":
        try:
            found = _decode(secrets._call(_kr_get, _service(identity), timeout=secrets.TIMEOUT_S), identity)
        except secrets.KeyringUnavailable:
            found = None
    return found


# --- the link's state, outside the database ---------------------------------------------------

_state_lock = threading.Lock()


def read_state(db_path: Path) -> dict:
    try:
        doc = json.loads(state_path(db_path).read_text(encoding="utf-8"))
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def write_state(db_path: Path, **changes: Any) -> dict:
    from models.auditkey import write_private
    with _state_lock:
        doc = read_state(db_path)
        doc.update(changes)
        try:
            write_private(state_path(db_path), (json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n").encode())
        except OSError:
            pass          # a state file we cannot write costs a stale board line, never a send
    return doc


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- connecting -------------------------------------------------------------------------------

def _is_auth_failure(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "password authentication failed" in text or "no password supplied" in text


def _login(url: str, role: str, password: str, timeout: int = 5):
    """A psycopg connection as the school's role (autocommit: ``apply_changes`` makes its own
    transaction); a wrong password and an unreachable server become distinct DomainErrors."""
    import psycopg

    from models.county.schema import _first_line
    try:
        return psycopg.connect(url, user=role, password=password, connect_timeout=timeout, autocommit=True)
    except psycopg.OperationalError as exc:
        if _is_auth_failure(exc):
            raise DomainError("county.error.bad_secret") from None
        raise DomainError("county.error.connect", detail=_first_line(exc)) from None


def connect(store):
    """The enrolled school's connection to the county server."""
    school, url = settings_of(store)
    if not school or not url:
        raise DomainError("county.error.not_enrolled")
    cred = load_credential(store)
    if cred is None or cred.get("school") != school:
        raise DomainError("county.error.no_credential", path=str(credential_path(store.path)))
    try:
        conn = _login(url, cred["role"], cred["password"])
    except DomainError as exc:
        if exc.key == "county.error.bad_secret":
            raise DomainError("county.error.credential_refused", school=school) from None
        raise
    # A server whose schema is behind this program (the bureau has not run ``county init`` since
    # an upgrade) would refuse the batch with a database error: say so on connecting, clearly.
    from models.county import schema
    try:
        schema.check(conn)
    except Exception:
        conn.close()
        raise
    return conn


# --- enrolment --------------------------------------------------------------------------------

def enrol(store, url: str, school: str, secret: str, *, ctx=None) -> dict:
    """Enrol this database as ``school`` of the county at ``url`` with the bureau's one-time secret."""
    import psycopg
    from psycopg import sql as psql

    from models import audit
    from models.county.schema import _first_line, role_for
    from models.tables import Setting

    school = (school or "").strip()
    secret = (secret or "").strip()
    if not school:
        raise DomainError("county.error.need_school")
    if not secret:
        raise DomainError("county.error.need_secret")
    if not url.startswith(("postgresql://", "postgres://")):
        raise DomainError("county.error.bad_url")
    have, _ = settings_of(store)
    if have and have != school:
        raise DomainError("county.error.enrolled_other", school=have)
    role = role_for(school)
    finished_before = False
    try:
        conn = _login(url, role, secret)
    except DomainError as exc:
        # The server took the secret earlier, but this database was not marked (a crash between
        # the two): the credential kept then still logs in, and enrolment finishes here.
        cred = load_credential(store)
        if exc.key != "county.error.bad_secret" or not cred or cred.get("school") != school:
            raise
        conn = _login(url, cred["role"], cred["password"])
        finished_before = True
    try:
        row = conn.execute("SELECT code, secret_used FROM county.school WHERE code = %s", (school,)).fetchone()
        if row is None:
            raise DomainError("county.error.not_registered", school=school)
        if not finished_before:
            if row[1]:
                raise DomainError("county.error.secret_used", school=school)
            password = pysecrets.token_urlsafe(32)
            where = save_credential(store, school, role, password)   # before the server forgets the secret
            with conn.transaction():
                conn.execute(psql.SQL("ALTER ROLE {} PASSWORD {}").format(psql.Identifier(role),
                                                                        psql.Literal(password)))
                conn.execute("UPDATE county.school SET secret_used = true, enrolled_at = now() WHERE code = %s",
                             (school,))
        else:
            where = "file" if credential_path(store.path).exists() else "keyring"
    except psycopg.Error as exc:
        raise DomainError("county.error.server", detail=_first_line(exc)) from None
    finally:
        conn.close()
    now = ctx.now() if ctx is not None else _now()
    with store.write():
        for key, value in ((SETTING_SCHOOL, school), (SETTING_URL, bare_url(url))):
            got = Setting.get_or_none(Setting.key == key)
            if got is None:
                Setting.create(key=key, value=value, updated_at=now)
            else:
                Setting.update(value=value, version=Setting.version + 1, updated_at=now).where(
                    Setting.key == key).execute()
        if ctx is not None:      # first: the snapshot's obligations are computed at its time
            audit.record(ctx, "county.enrol", "setting", SETTING_SCHOOL,
                         {"school": school, "url": bare_url(url), "credential": where})
        queued = outbox.queue_all(store)
    write_state(store.path, school=school, enrolled_at=now.isoformat(), last_error=None,
                pending=outbox.pending(store))
    return {"school": school, "role": role, "url": bare_url(url), "credential": where, "queued": queued}


# --- sending and receiving --------------------------------------------------------------------

def _unsent(store, limit: int) -> list[tuple[int, str, int, dict]]:
    with store.read():
        rows = store.db.execute_sql(
            "SELECT id, record, version, payload FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?",
            (limit,)).fetchall()
    return [(i, r, v, json.loads(p) if p else {}) for i, r, v, p in rows]


def batch_size() -> int:
    """Changes per round trip (``XUEJI_DUTY_COUNTY_BATCH``, default 200)."""
    try:
        return max(1, int(os.environ.get("XUEJI_DUTY_COUNTY_BATCH", BATCH)))
    except ValueError:
        return BATCH


def push(store, conn, school: str, batch: int | None = None, on_batch: Callable | None = None) -> dict:
    from models.county import server
    batch = batch or batch_size()
    counts = {"sent": 0, "applied": 0, "duplicates": 0, "stale": 0, "pruned": 0, "removed": 0}
    mark = _restore_mark(store)
    if mark is not None:
        # Before anything goes: the incidents the county shows that the restored file no longer
        # has (created after the backup) are queued as removals by the restore, at its time.
        counts["queued_removals"] = queue_removals(store, conn, school, "restore", mark)
    while True:
        rows = _unsent(store, batch)
        if not rows:
            if mark is not None and _restored(store):
                # Nothing was waiting (a restored file without incidents): nothing to renumber.
                with store.write():
                    store.db.execute_sql("DELETE FROM setting WHERE key = ?", (SETTING_RESTORED,))
            return counts
        if _catch_up_versions(store, conn, school, rows):
            rows = _unsent(store, batch)
        # Newest version of each record first: the batch is one transaction, so the county's end
        # state is the same, and the older versions cost it only their change_log key (stale).
        ordered = sorted(rows, key=lambda row: (row[1], -row[2]))
        got = server.apply_changes(conn, school, [(r, v, p) for _, r, v, p in ordered])
        if on_batch is not None:
            on_batch(len(rows))          # tests: the point where a kill leaves a batch unmarked
        at = _now().isoformat(timespec="microseconds")
        ids = [i for i, *_ in rows]
        with store.write():
            for k in range(0, len(ids), 500):
                chunk = ids[k:k + 500]
                store.db.execute_sql(f"UPDATE outbox SET sent_at = ? WHERE id IN ({','.join('?' * len(chunk))})",
                                     [at, *chunk])
            # In the same transaction: the batch's records lose their acknowledged older rows.
            counts["pruned"] += outbox.prune_sent(store, {r for _, r, _, _ in rows})
        counts["sent"] += len(rows)
        counts["applied"] += got["applied"]
        counts["duplicates"] += got["duplicate"]
        counts["stale"] += got["stale"]
        counts["removed"] += got.get("removed", 0)


def _county_holds(conn, school: str) -> dict[str, tuple[int, bool]]:
    """{incident code: (the county's highest version of its record, whether it is live)} for
    every incident the county holds of this school (its own rows: row-level security)."""
    held = {code: (int(version), removed is None) for code, version, removed in conn.execute(
        "SELECT code, version, removed_at FROM county.incident WHERE school = %s", (school,)).fetchall()}
    logged = dict(conn.execute(
        "SELECT substr(record, %s), max(version) FROM county.change_log WHERE school = %s "
        "AND record LIKE 'incident:%%' GROUP BY record", (len(outbox.RECORD_PREFIX) + 1, school)).fetchall())
    return {code: (max(held.get(code, (0, False))[0], int(logged.get(code) or 0)), held.get(code, (0, False))[1])
            for code in set(held) | set(logged)}


def _local_codes(store) -> set[str]:
    with store.read():
        return {c for (c,) in store.db.execute_sql("SELECT code FROM incident")}


def _pending_removals(store) -> set[str]:
    """Codes whose newest row here is an unsent removal (queued, not yet gone)."""
    with store.read():
        rows = store.db.execute_sql(
            "SELECT record, max(version), payload, sent_at FROM outbox GROUP BY record").fetchall()
    out = set()
    for record, _v, payload, sent_at in rows:
        if sent_at is None and payload and outbox.is_removal(json.loads(payload)):
            out.add(record[len(outbox.RECORD_PREFIX):])
    return out


def queue_removals(store, conn, school: str, reason: str, at: datetime,
                   holds: dict[str, tuple[int, bool]] | None = None) -> int:
    """Queue a removal (``outbox.removal``) for every incident the county shows live for this
    school that this database has not (and has no removal waiting for), numbered above the
    county's highest version of it; the count. Idempotent: a second call queues nothing."""
    holds = _county_holds(conn, school) if holds is None else holds
    have = _local_codes(store)
    waiting = _pending_removals(store)
    gone = sorted(code for code, (_, live) in holds.items() if live and code not in have and code not in waiting)
    if not gone:
        return 0
    above = {outbox.RECORD_PREFIX + code: holds[code][0] for code in gone}
    with store.write():
        return outbox.write_rows(store, {code: outbox.removal(code, reason, at) for code in gone},
                                 force=True, above=above)


def resync(store, conn, now: datetime | None = None) -> dict:
    """``county sync --all``: the county lost data (restored from its own backup, a school's rows
    deleted), and what the outbox already marked sent will not go again by itself. Queues the
    current state of every incident here and a removal (reason ``resync``) of every one the
    county shows live that this database has not. Each new row is numbered above both the
    county's highest version of its record and this file's, so the county's change_log cannot
    take it for one it has (a duplicate) or an older one (stale). Running it twice queues the
    same states again at higher numbers: the county ends the same. Counts ``queued``,
    ``removals``; ``push`` sends them."""
    from models.tables import Incident
    school, _ = settings_of(store)
    if not school:
        raise DomainError("county.error.not_enrolled")
    holds = _county_holds(conn, school)
    above = {outbox.RECORD_PREFIX + code: version for code, (version, _live) in holds.items()}
    with store.write():
        ids = [i for (i,) in Incident.select(Incident.id).tuples()]
        queued = outbox.queue(store, ids, now, force=True, above=above)
    # Right after a restore, what the county has and this file has not was removed by the restore.
    mark = _restore_mark(store)
    reason, at = ("restore", mark) if mark is not None else ("resync", now or _now())
    removals = queue_removals(store, conn, school, reason, at, holds=holds)
    return {"queued": queued, "removals": removals}


def sync_all(store, now: datetime | None = None) -> dict:
    """``resync`` then one round of ``sync_once`` over one connection: the round's counts plus
    ``queued`` and ``removals``. The county unreachable: a DomainError, nothing queued."""
    import psycopg

    from models.county.schema import _first_line
    conn = connect(store)
    try:
        try:
            got = resync(store, conn, now)
        except psycopg.Error as exc:
            raise DomainError("county.error.connect", detail=_first_line(exc)) from None
        counts = sync_once(store, conn=conn)
    finally:
        conn.close()
    counts.update(got)
    return counts


def _restore_mark(store) -> datetime | None:
    """When the restore that left the ``county.restored`` mark was made (None: no mark)."""
    from models.tables import Setting
    with store.read():
        row = Setting.get_or_none(Setting.key == SETTING_RESTORED)
    if row is None:
        return None
    value = row.value
    at = _parse(value.get("at")) if isinstance(value, dict) else None
    return at or row.updated_at or _now()


def _catch_up_versions(store, conn, school: str, rows) -> bool:
    """A database restored from a backup has an older outbox: its next versions of a record may be
    ones the county already holds (from before the restore), which it would count as duplicates
    or stale and never apply. Two rules renumber a record's unsent rows above the county's
    highest version of it (they were never sent under any number the county has):

    - after a restore made by the program (``after_restore`` left the ``county.restored``
      setting): every record whose unsent rows start at or below the county's highest version;
      the setting is cleared in the same transaction. (A file restored with one change made
      after the backup would otherwise write the very version number the county holds, with
      other content, and that change would be taken for a duplicate: lost.)
    - always: where the county's highest version is above every version this database ever
      wrote (a file copied back by hand).

    A sender killed mid-batch leaves the county at or below the local versions with the same
    content, and no restore mark: nothing is renumbered then. True if anything was."""
    records = sorted({r for _, r, _, _ in rows})
    restored = _restored(store)
    if restored:
        with store.read():
            records = [r for (r,) in store.db.execute_sql("SELECT DISTINCT record FROM outbox WHERE sent_at IS NULL")]
    held = dict(conn.execute("SELECT record, max(version) FROM county.change_log WHERE school = %s "
                             "AND record = ANY(%s) GROUP BY record", (school, records)).fetchall())
    if not held and not restored:
        return False
    local: dict = {}
    first: dict = {}
    for i in range(0, len(records), 500):
        chunk = records[i:i + 500]
        marks = ",".join("?" * len(chunk))
        with store.read():
            local.update(store.db.execute_sql(
                f"SELECT record, max(version) FROM outbox WHERE record IN ({marks}) GROUP BY record", chunk).fetchall())
            first.update(store.db.execute_sql(
                f"SELECT record, min(version) FROM outbox WHERE sent_at IS NULL AND record IN ({marks}) "
                "GROUP BY record", chunk).fetchall())
    behind = [r for r in records if held.get(r) is not None and
              (held[r] > (local.get(r) or 0) or (restored and first.get(r) is not None and first[r] <= held[r]))]
    if not behind and not restored:
        return False
    with store.write():
        for record in behind:
            ids = [i for (i,) in store.db.execute_sql(
                "SELECT id FROM outbox WHERE record = ? AND sent_at IS NULL ORDER BY version", (record,))]
            # Out of the way first: (record, version) is unique, and a new number may be an old one's.
            for oid in ids:
                store.db.execute_sql("UPDATE outbox SET version = -id WHERE id = ?", (oid,))
            for k, oid in enumerate(ids, start=1):
                store.db.execute_sql("UPDATE outbox SET version = ? WHERE id = ?", (held[record] + k, oid))
        if restored:
            store.db.execute_sql("DELETE FROM setting WHERE key = ?", (SETTING_RESTORED,))
    return bool(behind)


def _restored(store) -> bool:
    with store.read():
        return store.db.execute_sql("SELECT 1 FROM setting WHERE key = ?", (SETTING_RESTORED,)).fetchone() is not None


def after_restore(store) -> int:
    """Inside the restore's own ``store.write()`` on the restored database: a new version of every
    incident, so the county shows the restored state (the file's truth now), not the newer one
    it holds from before the restore for incidents the backup's outbox had already sent, and the
    ``county.restored`` mark: their versions may come out at or below the county's, and the
    sender renumbers them above it (``_catch_up_versions``) before they go. Nothing on a database not enrolled. The count."""
    from models.tables import Incident, Setting
    if outbox.enrolled_school(store) is None:
        return 0
    # The restore's time (its audit event's, in this transaction): the incidents it took away are
    # marked on the county "removed by the restore at" this time (``queue_removals``, at the next send).
    at = outbox._commit_time()
    Setting.insert(key=SETTING_RESTORED, value={"at": at.isoformat()}, updated_at=at).on_conflict_replace().execute()
    return outbox.queue(store, [i for (i,) in Incident.select(Incident.id).tuples()], force=True)


def pull_receipts(store, conn) -> int:
    """The bureau's receipts not yet here; written in one local transaction, only if any is new.
    A receipt names the revision signed (county2): the bureau signing the school's correction
    replaces the stage's receipt here too."""
    from models.county import server
    from models.tables import CountyReceipt
    with store.read():
        held = {(r.incident_code, r.regime, r.stage, r.seq): (r.signed_by, r.signed_at, r.revision)
                for r in CountyReceipt.select()}
        last = max((h[1] for h in held.values()), default=None)
    # A window back from the newest one held: a receipt committed late with an earlier stamp still comes.
    since = last - timedelta(minutes=10) if last is not None else None
    new = []
    for r in server.receipts_for(conn, since):
        key = (r["incident_code"], r["regime"], r["stage"], int(r["seq"]))
        at = r["signed_at"].astimezone(timezone.utc)
        rev = r.get("revision")
        sub = r.get("report_submitted_at")
        sub = sub.astimezone(timezone.utc) if sub is not None else None
        if held.get(key) != (r["signed_by"], at, rev):
            new.append((key, r["signed_by"], at, rev, sub))
    if not new:
        return 0
    now = _now()
    with store.write():
        for (code, regime, stage, seq), by, at, rev, sub in new:
            CountyReceipt.insert(incident_code=code, regime=regime, stage=stage, seq=seq, signed_by=by,
                                 signed_at=at, received_at=now, revision=rev,
                                 report_submitted_at=sub).on_conflict(
                conflict_target=[CountyReceipt.incident_code, CountyReceipt.regime, CountyReceipt.stage,
                                 CountyReceipt.seq],
                update={CountyReceipt.signed_by: by, CountyReceipt.signed_at: at,
                        CountyReceipt.received_at: now, CountyReceipt.revision: rev,
                        CountyReceipt.report_submitted_at: sub}).execute()
    return len(new)


def sync_once(store, *, conn=None, batch: int | None = None, receipts: bool = True,
              on_batch: Callable | None = None) -> dict:
    """Push every unsent change, then pull receipts: counts ``sent``, ``applied``, ``duplicates``,
    ``stale``, ``pending`` (left unsent), ``receipts`` (new). Records the outcome in the state file."""
    from models.county.schema import _first_line
    school, _ = settings_of(store)
    if not school:
        raise DomainError("county.error.not_enrolled")
    own = conn is None
    try:
        import psycopg
        try:
            if own:
                conn = connect(store)
            counts = push(store, conn, school, batch, on_batch)
            counts["receipts"] = pull_receipts(store, conn) if receipts else 0
        except psycopg.Error as exc:
            raise DomainError("county.error.connect", detail=_first_line(exc)) from None
    except DomainError as exc:
        with store.read():
            left = outbox.pending(store)
        write_state(store.path, school=school, last_error=exc.message, last_error_key=exc.key,
                    last_attempt=_now().isoformat(), pending=left)
        raise
    finally:
        if own and conn is not None:
            conn.close()
    with store.read():
        counts["pending"] = outbox.pending(store)
    write_state(store.path, school=school, last_ok=_now().isoformat(), last_error=None,
                last_error_key=None, last_attempt=_now().isoformat(), pending=counts["pending"])
    return counts


def run(store, stop: threading.Event, *, on_state: Callable[[dict], None] | None = None,
        drain: bool = False, idle_s: float | None = None, receipts_every_s: float | None = None,
        backoff_max_s: float | None = None, totals: dict | None = None, stop_on_fatal: bool = False) -> dict:
    """Send until ``stop`` is set (or, with ``drain``, until nothing is pending), backing off
    1 s → ``backoff_max_s`` while the server is unreachable. One connection, kept between rounds.
    ``stop_on_fatal`` (the CLI): a failure no retry can mend (not enrolled, no or a refused
    credential) is raised instead of retried."""
    idle_s = IDLE_S if idle_s is None else idle_s
    receipts_every_s = RECEIPTS_EVERY_S if receipts_every_s is None else receipts_every_s
    backoff_max_s = BACKOFF_MAX_S if backoff_max_s is None else backoff_max_s
    totals = totals if totals is not None else {}
    for k in ("sent", "applied", "duplicates", "stale", "receipts", "failures", "pruned", "removed"):
        totals.setdefault(k, 0)
    swept = False
    backoff = BACKOFF_START_S
    conn = None
    last_pull = 0.0
    try:
        while not stop.is_set():
            try:
                with store.read():
                    waiting = outbox.pending(store)
            except DomainError:          # the database busy for a moment: look again shortly
                stop.wait(idle_s)
                continue
            due_pull = time.monotonic() - last_pull >= receipts_every_s
            if not waiting and not due_pull and conn is not None:
                if drain:
                    break
                stop.wait(idle_s)
                continue
            try:
                if conn is None or conn.closed:
                    conn = connect(store)
                counts = sync_once(store, conn=conn, receipts=due_pull or drain)
                if not swept:
                    # Once per start: acknowledged rows the per-batch pruning never saw (a file
                    # from before it, a record not changed since). A scan by the sent_at index.
                    with store.read():
                        due = outbox.prunable(store)
                    if due:          # a commit only when something goes (screens reload on commits)
                        with store.write():
                            counts["pruned"] += outbox.prune_sent(store)
                    swept = True
                if due_pull or drain:
                    last_pull = time.monotonic()
                for k in ("sent", "applied", "duplicates", "stale", "receipts", "pruned", "removed"):
                    totals[k] += counts.get(k, 0)
                backoff = BACKOFF_START_S
                wait = 0.0 if counts["pending"] else idle_s
                if drain and not counts["pending"]:
                    if on_state:
                        on_state(read_state(store.path))
                    break
            except Exception as exc:  # noqa: BLE001 - the sender never stops on a failure: it backs off
                if stop_on_fatal and isinstance(exc, DomainError) and exc.key in FATAL:
                    raise
                message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
                key = exc.key if isinstance(exc, DomainError) else ""
                try:
                    school, _ = settings_of(store)
                    with store.read():
                        left = outbox.pending(store)
                    write_state(store.path, school=school, last_error=message, last_error_key=key,
                                last_attempt=_now().isoformat(), pending=left)
                except Exception:  # noqa: BLE001 - the database itself is in trouble: the next round says
                    write_state(store.path, last_error=message, last_error_key=key,
                                last_attempt=_now().isoformat())
                totals["failures"] += 1
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001 - a dead connection
                        pass
                conn = None
                wait = backoff
                backoff = min(backoff_max_s, backoff * 2)
            if on_state:
                on_state(read_state(store.path))
            if wait:
                stop.wait(wait)
    finally:
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001
                pass
    return totals


# --- the board's line -------------------------------------------------------------------------

def line(store, zone, state: dict | None = None) -> tuple[str, str] | None:
    """(text, level) for the board, or None on a database that is not enrolled."""
    from models.i18n import t
    with store.read():
        school = outbox.enrolled_school(store)
        if school is None:
            return None
        waiting = outbox.pending(store)
    state = read_state(store.path) if state is None else state
    ok_at = _parse(state.get("last_ok"))
    tried = _parse(state.get("last_attempt"))
    failing = bool(state.get("last_error")) and (ok_at is None or (tried is not None and tried >= ok_at))
    if failing and state.get("last_error_key") in FATAL:
        # Not the network: retrying cannot mend it, and "县网不通" would send the officer to the cable.
        return t("county.link.stopped", n=waiting, why=state.get("last_error") or ""), "error"
    if failing:
        return t("county.link.down", n=waiting), "warning"
    if ok_at is None:
        return t("county.link.not_yet", n=waiting), "info"
    hhmm = ok_at.astimezone(zone).strftime("%H:%M")
    if waiting:
        return t("county.link.sending", time=hhmm, n=waiting), "info"
    return t("county.link.ok", time=hhmm), "info"


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def banners(ctx, now) -> list:
    """models.banners provider: the county link's one line, only on an enrolled database."""
    from models.banners import Banner
    got = line(ctx.store, ctx.zone)
    if got is None:
        return []
    return [Banner("county-link", got[0], got[1])]
