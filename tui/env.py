"""What every CLI command and the app need: settings, the store, the acting user, the clock."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.clock import Clock
from models.config import Settings, default_config_path, default_db_path, load_settings
from models.context import Actor, Context
from models.errors import DomainError
from models.i18n import detect_language, set_language, t
from models.store import Store, open_store


@dataclass
class Env:
    args: argparse.Namespace
    settings: Settings
    db_path: Path
    config_path: Path
    clock: Clock = field(default_factory=Clock)
    _store: Store | None = None
    _keyring_noted: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Env":
        config_path = Path(args.config).expanduser() if getattr(args, "config", None) else default_config_path()
        # Language first, so a broken config file is reported in the right language.
        set_language(detect_language(getattr(args, "lang", None)))
        settings = load_settings(config_path)
        set_language(detect_language(getattr(args, "lang", None), settings.language))
        db_path = Path(args.db).expanduser() if getattr(args, "db", None) else default_db_path()
        return cls(args=args, settings=settings, db_path=db_path, config_path=config_path)

    def store(self, create: bool = True) -> Store:
        if self._store is None:
            from models.school import merged_settings
            self._store = open_store(self.db_path, create=create)
            with self._store.read():
                self.settings = merged_settings(self.settings)
        return self._store

    def stdin_line(self) -> str:
        """The next line of standard input (``--password-stdin``: one secret per line). Read one line
        at a time, never ahead, so ``--passphrase-stdin`` gets the line after the password."""
        line = sys.stdin.readline() if sys.stdin else ""
        if not line:
            raise DomainError("error.stdin_short")
        return line.rstrip("\r\n")

    def interactive(self) -> bool:
        try:
            return bool(sys.stdin) and sys.stdin.isatty()
        except (ValueError, OSError):
            return False

    def keyring_note(self, reason: str) -> None:
        """Say once, in one line, that there is no secure keyring and the password is used instead."""
        if not self._keyring_noted:
            self._keyring_noted = True
            sys.stderr.write(t("keyring.no_secure", reason=t(reason)) + "\n")

    def resolve_actor(self, write: bool, fresh: bool = False) -> Actor:
        """Who is acting. The one place the CLI authenticates.

        A database with no accounts yet has nobody to authenticate: ``--user NAME`` is
        taken as given (bootstrap mode, as before accounts existed; the app forces the
        setup screen). Once any account exists, a writing command authenticates with
        this terminal's remembered login, else ``--password-stdin`` (first line), else a
        password prompt on a terminal; ``--user`` alone no longer suffices. ``fresh``
        (account management) skips the remembered login: it always wants the password.
        Reading commands act as an anonymous viewer.
        """
        from models.accounts import authenticate, has_users, login_with_token, token_user
        from models.context import origin_of_session
        store = self.store()
        name = getattr(self.args, "user", None)
        origin = origin_of_session()
        with store.read():
            users_exist = has_users()
        if not users_exist:
            if not name:
                if write:
                    raise DomainError("error.need_user")
                return Actor(username="-", role="viewer", origin=origin)
            return Actor(username=name, role="admin", display_name=name, origin=origin)
        if not write:
            return Actor(username="-", role="viewer", origin=origin)
        anon = Context(store=store, actor=Actor(username="-", role="viewer", origin=origin),
                       clock=self.clock, settings=self.settings)
        use_stdin = getattr(self.args, "password_stdin", False)
        if not use_stdin and not fresh:
            token = self.recall_token()
            if token:
                with store.read():
                    owner = token_user(anon, token)
                if owner and (not name or name == owner):
                    actor = login_with_token(anon, token, record=False)
                    if actor is not None:
                        return actor
        if use_stdin:
            if not name:
                raise DomainError("error.need_user_for_stdin")
            return authenticate(anon, name, self.stdin_line(), purpose="cli", record_success=False)
        if self.interactive():
            import getpass
            if not name:
                name = input(t("prompt.username")).strip()
            password = getpass.getpass(t("prompt.password", user=name))
            return authenticate(anon, name, password, purpose="cli", record_success=False)
        raise DomainError("error.need_auth")

    def recall_token(self) -> str | None:
        """This terminal's remembered login for this database, or None (saying why, once)."""
        from models import secrets
        try:
            return secrets.recall(self.store().identity)
        except secrets.KeyringUnavailable as exc:
            self.keyring_note(exc.reason)
            return None

    def context(self, write: bool = False, fresh: bool = False) -> Context:
        store = self.store()
        return Context(store=store, actor=self.resolve_actor(write, fresh), clock=self.clock,
                       settings=self.settings)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def print_json(data: Any) -> None:
    """JSON as ``json.dumps`` writes it, except that C1, bidi and other unsafe characters inside
    strings are written as ``\\u`` escapes (the same value; nothing raw on a terminal)."""
    from models.text import safe_json_text
    sys.stdout.write(safe_json_text(json.dumps(data, ensure_ascii=False, indent=2, default=str)) + "\n")
