"""The county side's SQL: applying a school's changes, receipts, and what the board reads.

A change is one record's whole state at one version (``models.county.outbox``). Applying is
idempotent by construction: ``change_log`` has the key (school, record, version), so a batch
delivered twice (a sender killed after the server committed, before the school marked it
sent) finds every key present and changes nothing; a version older than what the county
holds (changes overtaken by a later one) is logged and skipped. Everything runs over the
connection of whoever calls, so row-level security decides, not this code.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable


def _ts(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


INCIDENT_COLUMNS = ("title", "category", "grade", "grade_decided", "status", "is_drill",
                    "occurred_at", "discovered_at", "closed_at", "updated_at")
_TIME_COLUMNS = {"occurred_at", "discovered_at", "closed_at", "updated_at"}


def _incident_values(payload: dict) -> list:
    out = []
    for col in INCIDENT_COLUMNS:
        value = payload.get(col)
        if col in _TIME_COLUMNS:
            value = _ts(value)
        elif col in ("grade_decided", "is_drill"):
            value = bool(value)
        elif col in ("title", "category", "status"):
            value = value or ("open" if col == "status" else "")
        out.append(value)
    return out


def is_removal(payload: dict | None) -> bool:
    """A change saying the school's record no longer has the incident (``outbox.removal``)."""
    return bool(isinstance(payload, dict) and payload.get("removed"))


def apply_changes(conn, school: str, changes: Iterable[tuple[str, int, dict]]) -> dict[str, int]:
    """Apply a batch in one transaction; counts of ``applied``, ``duplicate`` and ``stale``, and
    ``removed`` (removals taken) only when there were any (the contract's three keys stay as
    they were for every batch without one).

    A removal (``is_removal``: the school's record no longer has the incident: a restore from a
    backup took it away, or ``county sync --all`` found it gone) deletes nothing: the incident
    is marked ``removed_at`` / ``removed_reason`` at the removal's version, its obligations and
    reports stay as history, and the board shows nothing owed for it. Like any change it is
    taken only above the version the county holds, so a resent older state cannot bring the
    incident back; a newer state (the school records it again) does."""
    counts = {"applied": 0, "duplicate": 0, "stale": 0}
    # Pipeline mode: statements whose results are not read (the upsert, the deletes and inserts)
    # travel with the next one that is, so a change costs about two round trips, not seven.
    with conn.pipeline(), conn.transaction():
        for record, version, payload in changes:
            fresh = conn.execute(
                "INSERT INTO county.change_log (school, record, version) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING version", (school, record, version)).fetchone()
            if fresh is None:
                counts["duplicate"] += 1
                continue
            kind, _, key = record.partition(":")
            if kind != "incident":
                counts["stale"] += 1
                continue
            held = conn.execute("SELECT version FROM county.incident WHERE school = %s AND code = %s",
                                (school, key)).fetchone()
            if held is not None and held[0] >= version:
                counts["stale"] += 1
                continue
            if is_removal(payload):
                if held is None:           # never held here: nothing shown, nothing to mark
                    counts["stale"] += 1
                    continue
                conn.execute(
                    "UPDATE county.incident SET version = %s, removed_at = %s, removed_reason = %s, "
                    "received_at = now() WHERE school = %s AND code = %s",
                    (version, _ts(payload.get("removed_at")) or datetime.now().astimezone(),
                     str(payload.get("reason") or "restore"), school, key))
                counts["removed"] = counts.get("removed", 0) + 1
                continue
            cols = ", ".join(INCIDENT_COLUMNS)
            marks = ", ".join(["%s"] * len(INCIDENT_COLUMNS))
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in INCIDENT_COLUMNS)
            conn.execute(
                f"INSERT INTO county.incident (school, code, version, {cols}) VALUES (%s, %s, %s, {marks}) "
                f"ON CONFLICT (school, code) DO UPDATE SET version = EXCLUDED.version, {updates}, "
                "received_at = now(), removed_at = NULL, removed_reason = NULL",
                (school, key, version, *_incident_values(payload)))
            conn.execute("DELETE FROM county.obligation WHERE school = %s AND incident_code = %s", (school, key))
            conn.execute("DELETE FROM county.report WHERE school = %s AND incident_code = %s", (school, key))
            obligations = payload.get("obligations") or []
            if obligations:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO county.obligation (school, incident_code, regime, stage, seq, state, "
                        "due_at, submitted_at, statutory) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                        "ON CONFLICT DO NOTHING",
                        [(school, key, o["regime"], o["stage"], int(o.get("seq") or 1), o.get("state") or "",
                          _ts(o.get("due_at")), _ts(o.get("submitted_at")), bool(o.get("statutory")))
                         for o in obligations])
            reports = payload.get("reports") or []
            if reports:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO county.report (school, incident_code, regime, stage, seq, revision, "
                        "submitted_at, submitted_by, channel, recipient) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        [(school, key, r["regime"], r["stage"], int(r.get("seq") or 1),
                          int(r.get("revision") or 1), _ts(r.get("submitted_at")), r.get("submitted_by") or "",
                          r.get("channel") or "", r.get("recipient") or "") for r in reports])
            counts["applied"] += 1
    return counts


def add_receipt(conn, school: str, incident_code: str, regime: str, stage: str, seq: int,
                signed_by: str, revision: int | None = None) -> dict:
    """The bureau signs for a submitted report (已签收); refused unless the county holds it.

    The receipt names what was signed: ``revision`` (default: the newest the county holds) and
    that revision's submission time. A stage's receipt is replaced by a signature for a newer
    revision (the school corrected its report: the bureau signs the correction); for the same
    revision or an older one the signature held stands (``already``: who signed and when)."""
    from models.errors import DomainError
    with conn.transaction():
        gone = conn.execute("SELECT removed_at FROM county.incident WHERE school = %s AND code = %s",
                            (school, incident_code)).fetchone()
        if gone is not None and gone[0] is not None:
            raise DomainError("county.error.incident_removed", school=school, incident=incident_code,
                              at=gone[0].isoformat(timespec="minutes"))
        held = conn.execute(
            "SELECT revision, submitted_at FROM county.report WHERE school = %s AND incident_code = %s "
            "AND regime = %s AND stage = %s AND seq = %s ORDER BY revision DESC",
            (school, incident_code, regime, stage, seq)).fetchall()
        if not held:
            raise DomainError("county.error.no_such_report", school=school, incident=incident_code,
                              stage=f"{regime}.{stage}", seq=seq)
        latest = int(held[0][0])
        target = next((h for h in held if revision is None or int(h[0]) == revision), None)
        if target is None:
            raise DomainError("county2.error.no_such_revision", school=school, incident=incident_code,
                              stage=f"{regime}.{stage}", seq=seq, revision=revision, latest=latest)
        row = conn.execute(
            "INSERT INTO county.receipt (school, incident_code, regime, stage, seq, signed_by, revision, "
            "report_submitted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (school, incident_code, regime, stage, seq) DO UPDATE SET "
            "signed_by = EXCLUDED.signed_by, signed_at = now(), revision = EXCLUDED.revision, "
            "report_submitted_at = EXCLUDED.report_submitted_at "
            "WHERE county.receipt.revision IS NULL OR county.receipt.revision < EXCLUDED.revision "
            "RETURNING signed_by, signed_at, revision, report_submitted_at",
            (school, incident_code, regime, stage, seq, signed_by, int(target[0]), target[1])).fetchone()
        already = row is None
        if already:
            row = conn.execute(
                "SELECT signed_by, signed_at, revision, report_submitted_at FROM county.receipt "
                "WHERE school = %s AND incident_code = %s AND regime = %s AND stage = %s AND seq = %s",
                (school, incident_code, regime, stage, seq)).fetchone()
    return {"school": school, "incident": incident_code, "regime": regime, "stage": stage, "seq": seq,
            "signed_by": row[0], "signed_at": row[1], "revision": row[2], "report_submitted_at": row[3],
            "latest": latest, "already": already}


def receipts_for(conn, since: datetime | None = None) -> list[dict]:
    """Receipts the caller may read (a school: its own), oldest first, after ``since``; none for an
    incident the school's record no longer has (removed: its receipts are not the school's now)."""
    sql = ("SELECT r.school, r.incident_code, r.regime, r.stage, r.seq, r.signed_by, r.signed_at, "
           "r.revision, r.report_submitted_at "
           "FROM county.receipt r LEFT JOIN county.incident i ON i.school = r.school AND i.code = r.incident_code "
           "WHERE i.removed_at IS NULL")
    args: tuple = ()
    if since is not None:
        sql += " AND r.signed_at > %s"
        args = (since,)
    sql += " ORDER BY r.signed_at, r.school, r.incident_code"
    keys = ("school", "incident_code", "regime", "stage", "seq", "signed_by", "signed_at", "revision",
            "report_submitted_at")
    return [dict(zip(keys, row)) for row in conn.execute(sql, args).fetchall()]
