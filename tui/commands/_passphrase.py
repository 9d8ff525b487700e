"""Getting a backup passphrase from the user: stdin, a prompt on a terminal, or the OS keyring."""
from __future__ import annotations

import getpass
import sys

from models.errors import DomainError
from models.i18n import t

MIN_LENGTH = 8


def add_passphrase_args(p) -> None:
    p.add_argument("--passphrase-stdin", action="store_true", help=t("cli.backup.passphrase_stdin"))
    p.add_argument("--keyring", action="store_true", help=t("cli.backup.keyring"))


def read_passphrase(args, identity: str, *, confirm: bool, required: bool) -> str | None:
    """The passphrase the user chose, or None when none was asked for and none is remembered."""
    from models.backup import remembered_passphrase

    if getattr(args, "passphrase_stdin", False):
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise DomainError("backup.error.empty_passphrase")
        if confirm and len(line) < MIN_LENGTH:   # a new backup: a passphrase worth the name
            raise DomainError("backup.error.short_passphrase", min=MIN_LENGTH)
        return line
    if getattr(args, "keyring", False):
        pw = remembered_passphrase(identity)
        if not pw:
            raise DomainError("backup.error.no_remembered")
        return pw
    if required or getattr(args, "encrypt", False):
        if not sys.stdin.isatty():
            raise DomainError("backup.error.no_tty")
        pw = getpass.getpass(t("cli.backup.prompt"))
        if confirm:
            if len(pw) < MIN_LENGTH:
                raise DomainError("backup.error.short_passphrase", min=MIN_LENGTH)
            if getpass.getpass(t("cli.backup.prompt_again")) != pw:
                raise DomainError("backup.error.passphrase_mismatch")
        if not pw:
            raise DomainError("backup.error.empty_passphrase")
        return pw
    return None
