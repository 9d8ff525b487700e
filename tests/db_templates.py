"""A test database made once and copied for each test that asks (issue: CI time).

Some fixtures make the same database for every test of a module: accounts (scrypt verifiers,
~0.3-0.8 s each, slow on purpose) or a ``tui init`` in a real process (~1 s). ``copy_of`` makes
it the first time, in a folder of the session's temp dir, then gives each test a copy of that
whole folder (the audit key and its witness live beside the database) under the test's own
``tmp_path``: each test still starts from the same state and changes only its own copy.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

_MADE: dict[str, Path] = {}


def copy_of(name: str, filename: str, make: Callable[[Path], None], tmp_path_factory, tmp_path: Path) -> Path:
    """The path of ``filename`` in ``tmp_path``, a copy of what ``make(path)`` made once for
    ``name`` (a name unique in the suite: a module's and its fixture's)."""
    folder = _MADE.get(name)
    if folder is None:
        folder = tmp_path_factory.mktemp(f"template-{name.replace('.', '-')}")
        make(folder / filename)
        _MADE[name] = folder
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    return tmp_path / filename
