"""The full JSON export, and its import into an empty database.

Generic by design: every table in ``models.tables.ALL_MODELS`` is written
with its columns and rows *as SQLite stores them* (UTC text, JSON text,
integers), so a table another feature adds is covered without a line here,
and export → import → export gives the same bytes. The format is described in
the README ("Export format") and versioned by ``format_version``; the
database's ``schema_version`` is recorded too, and an import refuses a file
from another schema version rather than guess.

Evidence files are included (base64, with their SHA-256) unless asked not to.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TextIO

from models import audit
from models.errors import DomainError, StoreError
from models.store import CURRENT_SCHEMA
from models.tables import ALL_MODELS

FORMAT = "xueji-duty-export"
FORMAT_VERSION = 1


class ExportError(DomainError):
    key = "export.error.bad_file"


@dataclass
class ImportResult:
    counts: dict[str, int]
    evidence_files: int
    chain_ok: bool


def _columns(db, table: str) -> list[tuple[str, int]]:
    """(name, pk position) in table order."""
    return [(r[1], r[5]) for r in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()]


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, memoryview)):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"$base64"}:
            raise ExportError("export.error.bad_value")
        return base64.b64decode(value["$base64"], validate=True)
    if isinstance(value, list):
        raise ExportError("export.error.bad_value")
    return value


def build_export(store, *, with_evidence: bool = True) -> dict[str, Any]:
    """Everything, in a deterministic order (tables as in ALL_MODELS, rows by primary key)."""
    db = store.db
    tables: dict[str, Any] = {}
    with store.read():
        for model in ALL_MODELS:
            name = model._meta.table_name
            cols = _columns(db, name)
            pks = [c for c, pk in sorted(cols, key=lambda c: c[1]) if pk]
            order = ", ".join(f'"{c}"' for c in pks) or "rowid"
            names = ", ".join(f'"{c}"' for c, _ in cols)
            rows = [[_encode(v) for v in row]
                    for row in db.execute_sql(f'SELECT {names} FROM "{name}" ORDER BY {order}').fetchall()]
            tables[name] = {"columns": [c for c, _ in cols], "rows": rows}
        version = int(store.meta("schema_version") or 0)
    evidence = []
    if with_evidence and store.evidence_dir.is_dir():
        for p in sorted(store.evidence_dir.rglob("*")):
            if p.is_file():
                data = p.read_bytes()
                evidence.append({"path": p.relative_to(store.evidence_dir).as_posix(),
                                 "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
                                 "data": base64.b64encode(data).decode("ascii")})
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": version,
            "tables": tables, "evidence": evidence}


def dumps(data: dict[str, Any]) -> str:
    """One row per line: readable, diffable, and byte-identical for identical content."""
    lines = ["{",
             f' "format": {json.dumps(data["format"])},',
             f' "format_version": {data["format_version"]},',
             f' "schema_version": {data["schema_version"]},',
             ' "tables": {']
    names = list(data["tables"])
    for i, name in enumerate(names):
        t = data["tables"][name]
        lines.append(f'  {json.dumps(name)}: {{"columns": {json.dumps(t["columns"], ensure_ascii=False)}, "rows": [')
        rows = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in t["rows"]]
        lines.extend("   " + r + ("," if j < len(rows) - 1 else "") for j, r in enumerate(rows))
        lines.append("  ]}" + ("," if i < len(names) - 1 else ""))
    lines.append(" },")
    lines.append(' "evidence": [')
    ev = [json.dumps(e, ensure_ascii=False, sort_keys=True, separators=(",", ":")) for e in data["evidence"]]
    lines.extend("  " + e + ("," if j < len(ev) - 1 else "") for j, e in enumerate(ev))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def export_to(ctx, out: Path | BinaryIO | TextIO, *, with_evidence: bool = True) -> dict[str, int]:
    """Write the export; the export itself is then recorded in the audit trail (data left here).

    The export holds students' personal information (and password verifiers): an officer's act.
    """
    from models.roles import require
    require(ctx.actor, "officer")
    data = build_export(ctx.store, with_evidence=with_evidence)
    text = dumps(data).encode("utf-8")
    if isinstance(out, Path):
        from models.outfile import write_output
        try:
            write_output(out, text)
        except OSError as exc:
            raise ExportError("export.error.write", path=str(out), detail=exc.strerror or str(exc))
    elif hasattr(out, "buffer"):
        out.buffer.write(text)
        out.buffer.flush()
    else:   # a text stream without bytes underneath
        out.write(text.decode("utf-8"))
    counts = {name: len(t["rows"]) for name, t in data["tables"].items()}
    if not getattr(ctx.store, "read_only", False):
        with ctx.store.write():
            audit.record(ctx, "data.export", "database", "",
                         {"file": str(out) if isinstance(out, Path) else "-",
                          "evidence": len(data["evidence"]), "incident": counts.get("incident", 0)})
    return counts


# --- import -----------------------------------------------------------------------------------

def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError("export.error.missing", path=str(path))
    except OSError as exc:
        raise ExportError("export.error.bad_file", path=str(path), detail=exc.strerror or str(exc))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ExportError("export.error.bad_file", path=str(path), detail=str(exc)[:200])
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExportError("export.error.not_export", path=str(path))
    return data


def is_empty(store) -> bool:
    for model in ALL_MODELS:
        if model._meta.table_name == "schema_meta":
            continue
        if model.select().exists():
            return False
    return True


# Exports of these schema versions import: release 0.1's (schema 1) gets today's new columns
# with their defaults, exactly as its database would through the migration.
IMPORTABLE_SCHEMAS = (1, CURRENT_SCHEMA)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _defaults(model) -> dict[str, Any]:
    """Column → the value a new row gets, for columns an older export does not have."""
    out = {}
    for f in model._meta.sorted_fields:
        if f.default is not None:
            value = f.default() if callable(f.default) else f.default
            out[f.column_name] = f.db_value(value)
    return out


def import_into(store, data: dict[str, Any], source: str = "", *, audit_key: bytes | None = None) -> ImportResult:
    """Load an export into an empty database in one transaction; refuse anything doubtful.

    Nothing is written unless the export's own audit trail verifies — its chain (keyed
    with the source database's key: ``audit_key``, or found in the keyring by the
    database's id) and every tracked row against the trail's digests.
    """
    if not isinstance(data, dict):
        raise ExportError("export.error.bad_file", path=source, detail="not an object")
    try:
        format_version = int(data.get("format_version", 0))
    except (TypeError, ValueError, OverflowError):
        raise ExportError("export.error.bad_file", path=source, detail="format_version")
    if format_version > FORMAT_VERSION:
        raise ExportError("export.error.newer_format", path=source, found=data.get("format_version"),
                          supported=FORMAT_VERSION)
    schema = _int(data.get("schema_version"))
    if schema not in IMPORTABLE_SCHEMAS:
        raise ExportError("export.error.schema", path=source, found=data.get("schema_version"),
                          supported=CURRENT_SCHEMA)
    tables = data.get("tables")
    if not isinstance(tables, dict):
        raise ExportError("export.error.bad_file", path=source, detail="tables")
    known = {m._meta.table_name: m for m in ALL_MODELS}
    unknown = sorted(set(tables) - set(known))
    if unknown:
        raise ExportError("export.error.unknown_table", path=source, tables=", ".join(unknown))
    with store.read():
        if not is_empty(store):
            raise ExportError("export.error.not_empty", path=str(store.path))
    staged = _stage_evidence(store, data.get("evidence") or [], source)
    counts: dict[str, int] = {}
    key: bytes | None = None
    identity = ""
    try:
        with audit.unsealed(), store.write():
            db = store.db
            db.execute_sql("PRAGMA defer_foreign_keys = ON")
            # The steps this database was made with are its own, not the export's (an export by an
            # earlier build has no record: the next open would re-run every step, with a backup).
            from models.migrations import STEPS_KEY
            steps = db.execute_sql("SELECT value FROM schema_meta WHERE key=?", (STEPS_KEY,)).fetchone()
            db.execute_sql('DELETE FROM "schema_meta"')
            for name in known:  # ALL_MODELS order: referenced tables first
                if name not in tables:
                    continue
                t = tables[name]
                have = [c for c, _ in _columns(db, name)]
                cols = t.get("columns")
                rows = t.get("rows")
                if not isinstance(cols, list) or not isinstance(rows, list) or not set(cols) <= set(have) \
                        or len(set(cols)) != len(cols):
                    raise ExportError("export.error.columns", path=source, table=name)
                extra = {c: v for c, v in _defaults(known[name]).items() if c not in cols}
                names = list(cols) + list(extra)
                sql = (f'INSERT INTO "{name}" ({", ".join(chr(34) + c + chr(34) for c in names)}) '
                       f'VALUES ({", ".join("?" for _ in names)})')
                for row in rows:
                    if not isinstance(row, list) or len(row) != len(cols):
                        raise ExportError("export.error.columns", path=source, table=name)
                    db.execute_sql(sql, [_decode(v) for v in row] + list(extra.values()))
                counts[name] = len(rows)
            bad = db.execute_sql("PRAGMA foreign_key_check").fetchall()
            if bad:
                raise ExportError("export.error.references", path=source, n=len(bad))
            version = db.execute_sql("SELECT value FROM schema_meta WHERE key='schema_version'").fetchone()
            if not version or str(version[0]) != str(schema):
                raise ExportError("export.error.schema", path=source, found=version and version[0],
                                  supported=CURRENT_SCHEMA)
            if schema != CURRENT_SCHEMA:
                db.execute_sql("UPDATE schema_meta SET value=? WHERE key='schema_version'", (str(CURRENT_SCHEMA),))
            if steps:
                db.execute_sql("INSERT OR REPLACE INTO schema_meta (key, value) VALUES (?, ?)", (STEPS_KEY, steps[0]))
            # Every row through the services' own validators: a file anyone could edit (issue 13).
            from models.import_check import validate_imported
            validate_imported(store)
            from models import auditkey
            auditkey.forget_identity(store)
            identity = store.identity
            key = _source_key(store, identity, audit_key, source)
            report = audit.verify(store, witness=False, key=key)
            if not report.ok:
                raise ExportError("export.error.chain", path=source, detail=report.message)
    except ExportError:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    except (StoreError, DomainError):
        shutil.rmtree(staged, ignore_errors=True)
        raise
    except Exception as exc:  # a constraint the file breaks (unique, not null, type)
        shutil.rmtree(staged, ignore_errors=True)
        raise ExportError("export.error.bad_file", path=source, detail=str(exc)[:200]) from exc
    n_files = _place_evidence(store, staged)
    from models import auditkey
    if key is not None:
        auditkey.install(store.path, identity, key, to_file=False)
    auditkey.forget_cache()
    auditkey.forget_identity(store)
    with store.read():
        audit.update_witness(store, force=True)
        chain_ok = audit.verify(store).ok
    return ImportResult(counts=counts, evidence_files=n_files, chain_ok=chain_ok)


def _source_key(store, identity: str, given: bytes | None, source: str) -> bytes | None:
    """The key the export's keyed events were made with; refuse (writing nothing) without one."""
    from models import auditkey
    from models.tables import AuditEvent
    if not AuditEvent.select().where(AuditEvent.alg == audit.ALG).exists():
        return None     # release 0.1's unkeyed trail (or none): it verifies without a key
    key = given or auditkey.load_for(store.path, identity)
    if key is None:
        raise ExportError("export.error.key_needed", path=source)
    return key


def _stage_evidence(store, items: list, source: str) -> Path:
    from models.outfile import open_private, private_dir
    store.path.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".xjimport-", dir=store.path.parent))
    try:
        for item in items:
            rel = PurePosixPath(str(item.get("path", "")))
            if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in str(rel) or ":" in str(rel):
                raise ExportError("export.error.bad_file", path=source, detail=f"evidence path {rel}")
            data = base64.b64decode(item.get("data", ""), validate=True)
            if hashlib.sha256(data).hexdigest() != item.get("sha256") or len(data) != item.get("size"):
                raise ExportError("export.error.evidence_hash", path=source, file=str(rel))
            target = staged.joinpath(*rel.parts)
            private_dir(target.parent)
            with open_private(target) as fh:      # a path given twice, or `a/b` then `a`: refused below
                fh.write(data)
    except (ValueError, TypeError, AttributeError) as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise ExportError("export.error.bad_file", path=source, detail=f"evidence: {exc}"[:200])
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        raise ExportError("export.error.bad_file", path=source, detail=f"evidence: {exc}"[:200])
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return staged


def _place_evidence(store, staged: Path) -> int:
    files = [p for p in staged.rglob("*") if p.is_file()]
    if not files:
        shutil.rmtree(staged, ignore_errors=True)
        return 0
    if store.evidence_dir.exists() and any(store.evidence_dir.iterdir()):
        # An empty database with leftover files beside it: keep them, do not mix.
        os.replace(store.evidence_dir, store.evidence_dir.with_name(store.evidence_dir.name + ".before-import"))
    elif store.evidence_dir.exists():
        store.evidence_dir.rmdir()
    os.replace(staged, store.evidence_dir)
    return len(files)
