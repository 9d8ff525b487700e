"""``xueji-duty import FILE``: load a JSON export into an empty database (a new machine)."""
from __future__ import annotations

import sys
from pathlib import Path

from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("import", help=t("cli.import.help"))
    add_common(p)
    p.add_argument("file")
    p.add_argument("--audit-key", metavar="KEYFILE", help=t("cli.import.audit_key"))
    p.set_defaults(func=run)


def run(env) -> int:
    from models.export import import_into, load

    path = Path(env.args.file).expanduser()
    data = load(path)
    store = env.store()
    key = None
    if env.args.audit_key:
        from models import auditkey
        from models.errors import DomainError
        try:
            text = Path(env.args.audit_key).expanduser().read_bytes()
        except OSError as exc:
            raise DomainError("export.error.key_file", path=env.args.audit_key, detail=exc.strerror or str(exc))
        key = auditkey.parse_key(text, str(_export_identity(data)))
        if key is None:
            raise DomainError("export.error.key_wrong", path=env.args.audit_key)
    result = import_into(store, data, source=str(path), audit_key=key)
    print(t("cli.import.done", db=str(store.path), rows=sum(result.counts.values()),
            incidents=result.counts.get("incident", 0), files=result.evidence_files))
    if not result.chain_ok:
        sys.stderr.write(t("cli.import.chain_bad") + "\n")
        return 1
    return 0


def _export_identity(data) -> str:
    """The source database's id, from the export's schema_meta rows."""
    try:
        meta = data["tables"]["schema_meta"]
        k, v = meta["columns"].index("key"), meta["columns"].index("value")
        return next((row[v] for row in meta["rows"] if row[k] == "db_uuid"), "")
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return ""
