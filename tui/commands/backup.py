"""``xueji-duty backup [DEST]``: a sealed, optionally encrypted archive of the database and evidence.

``--auto`` runs the daily automatic backup only if it is due (for a scheduler);
``--verify ARCHIVE`` checks an archive as a restore would, changing nothing.
"""
from __future__ import annotations

from pathlib import Path

from models.errors import DomainError
from models.i18n import t
from tui.commands._passphrase import add_passphrase_args, read_passphrase
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("backup", help=t("cli.backup.help"))
    add_common(p)
    p.add_argument("dest", nargs="?", help=t("cli.backup.dest"))
    p.add_argument("--encrypt", action="store_true", help=t("cli.backup.encrypt"))
    p.add_argument("--no-encrypt", action="store_true", help=t("cli.backup.no_encrypt"))
    add_passphrase_args(p)
    p.add_argument("--remember", action="store_true", help=t("cli.backup.remember"))
    p.add_argument("--forget", action="store_true", help=t("cli.backup.forget"))
    p.add_argument("--auto", action="store_true", help=t("cli.backup.auto"))
    p.add_argument("--verify", metavar="ARCHIVE", help=t("cli.backup.verify"))
    p.add_argument("--audit-key", metavar="KEYFILE", help=t("cli.backup.audit_key"))
    p.add_argument("--trust-unauthenticated", action="store_true", help=t("cli.backup.trust_unauthenticated"))
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.set_defaults(func=run)


def run(env) -> int:
    from models import backup

    a = env.args
    if a.verify:
        return _verify(env, Path(a.verify))
    if a.auto:  # a scheduler runs this without a user: only the configured daily backup
        ctx = env.context(write=False)
        result = backup.run_auto_backup(ctx, raise_errors=True)
        if result is None:
            print(t("cli.backup.not_due"))
            return 0
        _print_result(a, result)
        return 0
    from models.roles import require
    ctx = env.context(write=True)
    require(ctx.actor, "officer")   # a backup is a copy of students' personal information
    identity = ctx.store.identity
    if a.forget:
        backup.forget_passphrase(identity)
        print(t("cli.backup.forgotten"))
        return 0
    if a.no_encrypt:
        passphrase = None
    else:
        passphrase = read_passphrase(a, identity, confirm=True, required=False)
        if passphrase is None and not (a.encrypt or a.passphrase_stdin or a.keyring):
            passphrase = backup.remembered_passphrase(identity)
    if a.remember:
        if not passphrase:
            raise DomainError("backup.error.remember_without")
        backup.remember_passphrase(identity, passphrase)
    result = backup.create_backup(ctx, Path(a.dest) if a.dest else None, passphrase=passphrase)
    _print_result(a, result)
    return 0


def _print_result(a, result) -> None:
    if a.json:
        print_json({"path": str(result.path), "encrypted": result.encrypted, "files": result.files,
                    "size": result.size, "counts": result.manifest["counts"],
                    "pruned": [str(p) for p in result.pruned]})
        return
    print(t("cli.backup.done", path=str(result.path), files=result.files, size=result.size))
    if not result.encrypted:
        print(t("cli.backup.plain_hint"))
    for p in result.pruned:
        print(t("cli.backup.pruned", path=str(p)))


def _verify(env, archive: Path) -> int:
    from models import archive as arch
    from models import backup

    passphrase = None
    if archive.is_file() and arch.is_encrypted(archive):
        identity = env.context().store.identity if env.args.keyring else ""
        passphrase = read_passphrase(env.args, identity, confirm=False, required=True)
    key_file = Path(env.args.audit_key) if env.args.audit_key else None
    manifest = backup.verify_archive(archive, passphrase, key_for=backup.key_lookup(env.db_path, key_file),
                                     trust_unauthenticated=env.args.trust_unauthenticated)
    if env.args.json:
        print_json(manifest)
        return 0
    print(t("cli.backup.verified", path=str(archive), school=manifest.get("school", ""),
            at=manifest.get("created_at", ""), files=len(manifest["files"])))
    return 0
