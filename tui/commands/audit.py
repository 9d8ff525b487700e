"""``xueji-duty audit verify``: walk the hash chain and name the first broken link."""
from __future__ import annotations

import sys

from models import audit
from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("audit", help=t("cli.audit.help"))
    add_common(p)
    asub = p.add_subparsers(dest="audit_cmd", required=True, parser_class=type(p))
    v = asub.add_parser("verify")
    add_common(v)
    v.set_defaults(func=run_verify)
    k = asub.add_parser("key", help=t("cli.audit.key"))
    add_common(k)
    g = k.add_mutually_exclusive_group(required=True)
    g.add_argument("--export", metavar="FILE", help=t("cli.audit.key_export"))
    g.add_argument("--import", dest="import_", metavar="FILE", help=t("cli.audit.key_import"))
    g.add_argument("--share", action="store_true", help=t("cli.audit.key_share"))
    k.set_defaults(func=run_key)
    an = asub.add_parser("anchor", help=t("cli.audit.anchor"))
    add_common(an)
    an.set_defaults(func=run_anchor)


def run_anchor(env) -> int:
    """After looking into a reported truncation: the witness takes the trail's head as it now is.

    Only the OS user who owns the file, and only if the chain and the rows verify without it.
    """
    from models import accounts
    from models.errors import DomainError, PermissionDenied
    store = env.store(create=False)
    if not accounts.os_user_owns_database(store):
        raise PermissionDenied("error.audit_key_not_owner", path=str(store.path))
    with store.read():
        report = audit.verify(store, witness=False)
        if not report.ok:
            raise DomainError("audit.error.anchor_broken", detail=report.message)
        audit.update_witness(store, force=True)
        n = report.checked
    print(t("cli.audit.anchored", n=n))
    return 0


def run_key(env) -> int:
    """Keep a copy of the key (for the safe), bring it to a new machine, or share it with SSH sessions.

    Only the OS user who owns the database file: whoever holds the key can rewrite the trail.
    """
    from pathlib import Path

    from models import accounts, auditkey
    from models.errors import DomainError, PermissionDenied
    store = env.store(create=False)
    if not accounts.os_user_owns_database(store):
        raise PermissionDenied("error.audit_key_not_owner", path=str(store.path))
    with store.read():
        identity = store.identity
    if env.args.import_:
        try:
            text = Path(env.args.import_).expanduser().read_bytes()
        except OSError as exc:
            raise DomainError("export.error.key_file", path=env.args.import_, detail=exc.strerror or str(exc))
        key = auditkey.parse_key(text, identity)
        if key is None:
            raise DomainError("export.error.key_wrong", path=env.args.import_)
        auditkey.install(store.path, identity, key, to_file=False)
        with store.read():
            audit.update_witness(store)
        print(t("cli.audit.key_imported"))
        return 0
    text = auditkey.export_text(store)
    if text is None:
        raise DomainError("audit.error.key_missing", path=str(store.path))
    target = auditkey.key_path(store.path) if env.args.share else Path(env.args.export).expanduser()
    if target.exists() and not target.is_file():
        raise DomainError("export.error.key_file", path=str(target), detail="not a regular file")
    try:
        auditkey.write_private(target, text.encode())
    except OSError as exc:
        raise DomainError("export.error.key_file", path=str(target), detail=exc.strerror or str(exc))
    print(t("cli.audit.key_written", path=str(target)))
    return 0


def run_verify(env) -> int:
    store = env.store(create=False)
    with store.read():
        report = audit.verify(store)
    if report.ok:
        print(t("cli.audit.ok", n=report.checked))
        return 0
    sys.stderr.write(report.message + "\n")
    return 1
