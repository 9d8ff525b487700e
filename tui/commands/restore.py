"""``xueji-duty restore ARCHIVE``: check everything, keep the current database, then replace it.

The command itself never holds the database open while restoring, so its own
connection cannot be mistaken for "another session".
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

from models.errors import DomainError, StoreError
from models.i18n import t
from tui.commands._passphrase import add_passphrase_args, read_passphrase


def register(sub, add_common) -> None:
    p = sub.add_parser("restore", help=t("cli.restore.help"))
    add_common(p)
    p.add_argument("archive")
    add_passphrase_args(p)
    p.add_argument("--yes", action="store_true", help=t("cli.restore.yes"))
    p.add_argument("--audit-key", metavar="KEYFILE", help=t("cli.backup.audit_key"))
    p.add_argument("--trust-unauthenticated", action="store_true", help=t("cli.backup.trust_unauthenticated"))
    p.set_defaults(func=run)


def run(env) -> int:
    from models import archive as arch
    from models import audit, backup
    from models.context import Context
    from models.roles import require
    from models.store import open_store

    a = env.args
    archive = Path(a.archive).expanduser()
    exists = env.db_path.exists() and env.db_path.stat().st_size > 0
    identity = ""
    actor = None
    if exists:
        try:
            ctx = env.context(write=True)
        except StoreError as exc:
            # A damaged database is what a restore is for: whoever may write the file may
            # replace it (the damaged bytes are kept as the pre-restore copy). Anything else
            # (someone else's file, a newer schema) is refused as the store refused it.
            if exc.key != "error.db_corrupt":
                raise
            env._store = None
        else:
            require(ctx.actor, "admin")
            actor = ctx.actor
            identity = ctx.store.identity
            env.close()          # our own connection must not count as another session
            env._store = None
    passphrase = None
    if archive.is_file() and arch.is_encrypted(archive):
        passphrase = read_passphrase(a, identity, confirm=False, required=True)
    key_file = Path(a.audit_key) if a.audit_key else None
    manifest = backup.verify_archive(archive, passphrase, key_for=backup.key_lookup(env.db_path, key_file),
                                     trust_unauthenticated=a.trust_unauthenticated)
    print(t("cli.restore.verified", path=str(archive), school=manifest.get("school", ""),
            at=manifest.get("created_at", ""), files=len(manifest["files"])))
    if not a.yes:
        if not sys.stdin.isatty():
            raise DomainError("backup.error.confirm_needed")
        answer = input(t("cli.restore.confirm", db=str(env.db_path)) + " ")
        if answer.strip().lower() not in ("y", "yes", "是"):
            print(t("cli.restore.cancelled"))
            return 1

    def after(db_path, manifest):
        store = open_store(db_path)
        try:
            from models.context import Actor
            who = actor or Actor(username=f"os:{getpass.getuser()}", role="admin")
            ctx2 = Context(store=store, actor=who, clock=env.clock, settings=env.settings)
            with store.write():
                audit.record(ctx2, "backup.restore", "database", "",
                             {"archive": str(archive), "created_at": manifest.get("created_at")})
                from models.county import link
                link.after_restore(store)      # the county shows the restored state (issue 19)
        finally:
            store.close()

    result = backup.restore_backup(env.db_path, archive, passphrase=passphrase, now=env.clock.now(),
                                   after=after, key_file=key_file,
                                   trust_unauthenticated=a.trust_unauthenticated)
    print(t("cli.restore.done", db=str(env.db_path)))
    if result.pre_restore:
        print(t("cli.restore.kept", path=str(result.pre_restore)))
    if result.pre_restore_evidence:
        print(t("cli.restore.kept", path=str(result.pre_restore_evidence)))
    return 0
