"""Keyring backends for tests, installed through keyring's own mechanisms (never a real keyring).

``InMemoryKeyring`` is set in-process by the autouse fixture in conftest; ``FileKeyring``
lets a CLI subprocess (``PYTHON_KEYRING_BACKEND=tests.keyrings.FileKeyring``) keep what
it stored for the next subprocess, in a file under the test's tmp dir.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


class InMemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class HangingKeyring(InMemoryKeyring):
    """A Secret Service waiting for an unlock prompt nobody will answer."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.calls = 0

    def get_password(self, service, username):
        self.calls += 1
        self.release.wait()
        return None

    set_password = get_password  # type: ignore[assignment]


class LockedKeyring(InMemoryKeyring):
    def get_password(self, service, username):
        raise KeyringLocked("the collection is locked")


class PlaintextLikeKeyring(InMemoryKeyring):
    """Stands for keyrings.alt's plain-text file: a backend we must refuse."""

    priority = 0.5


class FileKeyring(KeyringBackend):
    priority = 1

    @property
    def path(self) -> Path:
        return Path(os.environ["XUEJI_TEST_KEYRING_FILE"])

    def _load(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service, username):
        return self._load().get(f"{service}\t{username}")

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}\t{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service, username):
        data = self._load()
        if data.pop(f"{service}\t{username}", None) is None:
            raise PasswordDeleteError(username)
        self.path.write_text(json.dumps(data))
