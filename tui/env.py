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
from models.i18n import detect_language, set_language
from models.store import Store, open_store


@dataclass
class Env:
    args: argparse.Namespace
    settings: Settings
    db_path: Path
    config_path: Path
    clock: Clock = field(default_factory=Clock)
    _store: Store | None = None

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

    def resolve_actor(self, write: bool) -> Actor:
        """Until accounts land: ``--user`` names the actor; an empty user table means bootstrap."""
        from models.tables import User
        name = getattr(self.args, "user", None)
        if not name:
            if write:
                raise DomainError("error.need_user")
            return Actor(username="-", role="viewer")
        user = User.get_or_none(User.username == name)
        if user is None:
            if User.select().exists():
                raise DomainError("error.user_unknown", user=name)
            return Actor(username=name, role="admin", display_name=name)
        return Actor(username=user.username, role=user.role, display_name=user.display_name)

    def context(self, write: bool = False) -> Context:
        store = self.store()
        return Context(store=store, actor=self.resolve_actor(write), clock=self.clock, settings=self.settings)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
