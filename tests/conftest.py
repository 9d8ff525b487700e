"""Shared fixtures: a real SQLite file in a temp dir, a fixed clock, the real CLI."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# The parsed-asset cache (models/tomlcache.py) of this run stays inside the checkout, not in the
# user's cache folder; set before any model is imported, and inherited by CLI subprocesses.
os.environ["XUEJI_DUTY_CACHE_DIR"] = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "assets")

from models.clock import FixedClock  # noqa: E402
from models.config import Settings  # noqa: E402
from models.context import Actor, Context  # noqa: E402
from models.i18n import set_language  # noqa: E402
from models.store import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _import_screens_in_chinese() -> None:
    """Key labels are translated when a screen module is first imported: a real session sets its
    language before any screen is imported, but in one test process the first test to import a
    screen would fix its labels for all the others (an English test first gave the checks screen
    an English footer in the Chinese snapshot). Import them all now, in the default language."""
    import importlib
    import pkgutil

    import screens
    set_language("zh")
    for module in pkgutil.iter_modules(screens.__path__):
        importlib.import_module(f"screens.{module.name}")


_import_screens_in_chinese()
SH = ZoneInfo("Asia/Shanghai")
# 2026-11-25 10:00 in Shanghai: a weekday morning at the registry office.
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """No test reads the developer's own config or database, and messages are in Chinese."""
    monkeypatch.setenv("XUEJI_DUTY_CONFIG", str(tmp_path / "no-config.toml"))
    monkeypatch.setenv("XUEJI_DUTY_DB", str(tmp_path / "default.db"))
    monkeypatch.delenv("XUEJI_DUTY_LANG", raising=False)
    # No automatic daily backup in other features' tests (tests of backups turn it back on).
    monkeypatch.setenv("XUEJI_DUTY_AUTO_BACKUP", "0")
    # The audit key in a file beside each test database, so in-process code and CLI subprocesses
    # (which see no keyring) share it; tests of the keyring's place set this back (issue 13).
    monkeypatch.setenv("XUEJI_DUTY_AUDIT_KEY", "file")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    set_language("zh")
    yield
    set_language("zh")


@pytest.fixture(autouse=True)
def memory_keyring(monkeypatch):
    """No test ever touches a real keyring: an in-memory one in-process, ``fail`` in subprocesses."""
    import keyring

    from models import secrets
    from tests.keyrings import InMemoryKeyring
    # Set before asking for the current backend, so not even detection reaches a desktop keyring.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for var in ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY", "XUEJI_DUTY_KEYRING"):
        monkeypatch.delenv(var, raising=False)
    previous = keyring.get_keyring()
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    secrets.reset()
    yield backend
    keyring.set_keyring(previous)
    secrets.reset()


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "duty.db"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(db_path):
    s = open_store(db_path)
    yield s
    s.close()


def make_ctx(store, clock, role="admin", username="tester", settings=None) -> Context:
    return Context(store=store, actor=Actor(username=username, role=role, origin="local"),
                   clock=clock, settings=settings or Settings(school_name="海峰中学"))


@pytest.fixture
def ctx(store, clock) -> Context:
    return make_ctx(store, clock)


def run_cli(*args: str, env: dict | None = None, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """The real command in a real process, as a user would type it."""
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    # Without input, stdin is empty rather than the developer's terminal: a password prompt must
    # not wait for a human in the middle of the suite.
    stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=str(ROOT), **stdin)


def env_for(db_path: Path, **extra) -> "object":
    """An Env as the CLI would build it, for driving the Textual app in-process."""
    from tui.env import Env
    args = argparse.Namespace(db=str(db_path), lang="zh", user=extra.pop("user", None),
                              no_mouse=True, command=None, **extra)
    return Env.from_args(args)


def make_app(db_path: Path, clock, role: str = "admin", username: str = "tester", idle_lock: bool = False):
    """The real app, already logged in as ``username`` (tests of other screens start at the board).

    The idle lock is off unless asked for: these tests move the clock by hours to test
    deadlines, which would otherwise lock the screen under them (tests/test_accounts_app.py
    tests the lock itself).
    """
    from tui.app import DutyApp
    env = env_for(db_path)
    env.clock = clock
    app = DutyApp(env, clock=clock, actor=Actor(username=username, role=role, display_name=username, origin="local"))
    app.idle_lock_enabled = idle_lock
    return app


# The throw-away PostgreSQL cluster (issue 19): fixture ``pg``, started only by tests that ask for it.
from tests.pgcluster import pg  # noqa: E402,F401
