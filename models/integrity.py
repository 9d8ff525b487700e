"""Is the data whole? SQLite's own check, the audit chain, the evidence hashes, the schema, backups.

``run_checks`` gives one list of findings; ``xueji-duty check`` prints it and
exits non-zero on any problem. The app runs the quick form (``quick_check``,
evidence present with the right size) at start-up in a worker; a problem
becomes a board banner, never a crash.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from models import audit
from models.banners import Banner
from models.errors import DomainError
from models.i18n import t
from models.store import APPLICATION_ID, CURRENT_SCHEMA
from models.tables import ALL_MODELS, BackupRecord, Evidence


@dataclass
class Finding:
    name: str            # sqlite | foreign_keys | audit | evidence | schema | history | backup
    ok: bool
    key: str             # message key
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return t(self.key, **self.params)


def check_sqlite(store, quick: bool = False) -> Finding:
    pragma = "quick_check" if quick else "integrity_check"
    rows = [r[0] for r in store.db.execute_sql(f"PRAGMA {pragma}").fetchall()]
    if rows == ["ok"]:
        return Finding("sqlite", True, "integrity.sqlite_ok", {"pragma": pragma})
    return Finding("sqlite", False, "integrity.sqlite_bad", {"pragma": pragma, "detail": "; ".join(rows[:5])})


def check_foreign_keys(store) -> Finding:
    rows = store.db.execute_sql("PRAGMA foreign_key_check").fetchall()
    if not rows:
        return Finding("foreign_keys", True, "integrity.fk_ok")
    sample = ", ".join(f"{r[0]}#{r[1]}→{r[2]}" for r in rows[:5])
    return Finding("foreign_keys", False, "integrity.fk_bad", {"n": len(rows), "detail": sample})


def check_audit(store=None) -> Finding:
    """The keyed chain, its head against the witness, and the tracked rows against it (issue 13)."""
    report = audit.verify(store)
    if report.ok:
        return Finding("audit", True, "integrity.audit_ok", {"n": report.checked})
    if report.problem in ("prev_hash", "hash"):
        return Finding("audit", False, "integrity.audit_bad", {"id": report.broken_id, "problem": report.problem})
    return Finding("audit", False, "integrity.audit_problem", {"detail": report.message})


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def evidence_problems(store, quick: bool = False) -> list[tuple[int, str, str]]:
    """(evidence id, path, missing|size|hash) for every copied evidence file that is not as recorded,
    then (0, path, partial|orphan) for a half-written copy a kill left (``.NAME.part``) and a file in
    the evidence folder that no evidence record names."""
    from models.evidence import PART
    from models.text import path_text
    problems = []
    recorded = set()
    for ev in Evidence.select().where(Evidence.copied == True).order_by(Evidence.id):  # noqa: E712
        if not ev.stored_path:
            problems.append((ev.id, "", "missing"))
            continue
        recorded.add(ev.stored_path)
        path = store.evidence_dir / ev.stored_path
        if not path.is_file():
            problems.append((ev.id, str(path), "missing"))
        elif path.stat().st_size != ev.size:
            problems.append((ev.id, str(path), "size"))
        elif not quick and _sha256(path) != ev.sha256:
            problems.append((ev.id, str(path), "hash"))
    if store.evidence_dir.is_dir():
        for path in sorted(p for p in store.evidence_dir.rglob("*") if p.is_file()):
            if path.name.startswith(".") and path.name.endswith(PART):
                problems.append((0, path_text(path), "partial"))
            elif path_text(path.relative_to(store.evidence_dir).as_posix()) not in recorded:
                problems.append((0, path_text(path), "orphan"))
    return problems


def check_evidence(store, quick: bool = False) -> Finding:
    total = Evidence.select().where(Evidence.copied == True).count()  # noqa: E712
    problems = evidence_problems(store, quick)
    if not problems:
        return Finding("evidence", True, "integrity.evidence_ok", {"n": total})
    detail = "; ".join(f"{f'#{i} ' if i else ''}{t(f'integrity.evidence_{why}')} {p}" for i, p, why in problems[:5])
    return Finding("evidence", False, "integrity.evidence_bad", {"n": len(problems), "detail": detail})


def check_schema(store) -> Finding:
    app_id = store.db.execute_sql("PRAGMA application_id").fetchone()[0]
    version = int(store.meta("schema_version") or 0)
    have = set(store.db.get_tables())
    from models.migrations import SPEED_ONLY_TABLES
    # A derived table a read-only file lacks comes with its step, named below as pending.
    missing = sorted({m._meta.table_name for m in ALL_MODELS} - have - SPEED_ONLY_TABLES)
    if app_id == APPLICATION_ID and version == CURRENT_SCHEMA and not missing:
        from models.migrations import STEPS_KEY, parse_applied, pending_steps, step_name
        # Steps of this release a read-only file could not be given (open_store runs them otherwise).
        pending = [step_name(s) for s in pending_steps(version, parse_applied(store.meta(STEPS_KEY)))]
        if pending:
            return Finding("schema", False, "integrity.schema_steps_pending",
                           {"version": version, "steps": ", ".join(pending)})
        return Finding("schema", True, "integrity.schema_ok", {"version": version})
    return Finding("schema", False, "integrity.schema_bad",
                   {"version": version, "supported": CURRENT_SCHEMA, "missing": ", ".join(missing) or "-"})


def check_history(store) -> Finding:
    """The derived grade history (models.fact_history) against a walk of the audit trail: a row
    that differs is rebuilt from the trail (the statistics read the table) and reported."""
    from models import fact_history
    checked, wrong = fact_history.verify(store.db)
    if not wrong:
        return Finding("history", True, "integrity.history_ok", {"n": checked})
    from models.tables import Incident
    codes = [c for (c,) in Incident.select(Incident.code).where(Incident.id.in_(wrong[:5])).tuples()]
    params = {"n": len(wrong), "codes": ", ".join(codes)}
    if getattr(store, "read_only", False):
        return Finding("history", False, "integrity.history_bad_ro", params)
    with store.write():
        fact_history.rebuild(store.db)
    return Finding("history", False, "integrity.history_rebuilt", params)


def check_backup(settings, now: datetime) -> Finding:
    last = (BackupRecord.select().where(BackupRecord.ok == True)  # noqa: E712
            .order_by(BackupRecord.at.desc()).first())
    if last is None:
        return Finding("backup", False, "integrity.backup_never")
    age = now - last.at
    hours = int(age.total_seconds() // 3600)
    params = {"hours": hours, "path": last.path, "max": settings.backup_max_age_days}
    if age.total_seconds() > settings.backup_max_age_days * 86400:
        return Finding("backup", False, "integrity.backup_old", params)
    return Finding("backup", True, "integrity.backup_ok", params)


def run_checks(ctx, *, quick: bool = False) -> list[Finding]:
    """Every check, each one isolated: one failing check does not hide the others."""
    store = ctx.store
    out: list[Finding] = []
    steps = [("sqlite", lambda: check_sqlite(store, quick)),
             ("schema", lambda: check_schema(store)),
             ("foreign_keys", lambda: check_foreign_keys(store)),
             ("audit", lambda: check_audit(store)),
             ("evidence", lambda: check_evidence(store, quick)),
             *([] if quick else [("history", lambda: check_history(store))]),
             ("backup", lambda: check_backup(ctx.settings, ctx.now()))]
    for name, step in steps:
        try:
            with store.read():
                out.append(step())
        except DomainError as exc:
            out.append(Finding(name, False, "integrity.failed", {"detail": exc.message}))
        except Exception as exc:  # a damaged file can raise anything; report it, do not crash
            out.append(Finding(name, False, "integrity.failed", {"detail": f"{type(exc).__name__}: {exc}"}))
    return out


# --- the start-up quick check -----------------------------------------------------------------

_startup: dict[str, list[Finding]] = {}
_lock = threading.Lock()


def startup_check(ctx) -> list[Finding]:
    """The quick form, remembered per database for the board's banners. Backup age is left to
    ``models.backup.banners``, which says it better."""
    findings = [f for f in run_checks(ctx, quick=True) if f.name != "backup"]
    with _lock:
        _startup[str(ctx.store.path)] = findings
    return findings


def startup_banners(ctx) -> list[Banner]:
    with _lock:
        findings = list(_startup.get(str(ctx.store.path), ()))
    out = [Banner(f"integrity.{f.name}", t("integrity.banner", problem=f.message), "error")
           for f in findings if not f.ok]
    if getattr(ctx.store, "read_only", False):
        out.insert(0, Banner("integrity.read_only", t("integrity.banner_read_only"), "error"))
    return out
