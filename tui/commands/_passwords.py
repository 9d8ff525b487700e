"""Reading a new password on the command line: the next ``--password-stdin`` line, or a prompt twice."""
from __future__ import annotations

from models.errors import DomainError, ValidationError
from models.i18n import t


def read_new_password(env, username: str) -> str:
    if getattr(env.args, "password_stdin", False):
        return env.stdin_line()
    if not env.interactive():
        raise DomainError("error.need_new_password")
    import getpass
    first = getpass.getpass(t("prompt.new_password", user=username))
    second = getpass.getpass(t("prompt.new_password_again"))
    if first != second:
        raise ValidationError({"new_password": ("error.password_mismatch", {})})
    return first


def read_current_password(env, username: str) -> str:
    if getattr(env.args, "password_stdin", False):
        return env.stdin_line()
    if not env.interactive():
        raise DomainError("error.need_auth")
    import getpass
    return getpass.getpass(t("prompt.password", user=username))
