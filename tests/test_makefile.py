"""`make run` installs only when something it depends on changed; `make test` installs on a fresh clone.

Checked with make's dry run (``make -n``) on a copy of the Makefile and pyproject.toml beside a stand-in
virtual environment, so nothing is installed: what make *would* run is what the stamps decide.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

from tests.conftest import ROOT


def _tree(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for pkg in ("tui", "models", "screens"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    bin_ = tmp_path / ".venv" / "bin"
    bin_.mkdir(parents=True)
    (bin_ / "python").write_text("")
    return tmp_path


def _dry(tree, target: str) -> str:
    # Under `make test` (as CI runs the suite) the outer make passes its variables (ARGS=…) and flags
    # down through the environment: the inner make must not see them.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "ARGS")}
    r = subprocess.run(["make", "-n", target], cwd=tree, capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _age(path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_fresh_clone_installs_for_run_and_for_test(tmp_path):
    tree = _tree(tmp_path)
    assert "pip install --quiet -e ." in _dry(tree, "run")
    assert 'pip install --quiet -e ".[test]"' in _dry(tree, "test")


def test_second_run_neither_installs_nor_compiles(tmp_path):
    tree = _tree(tmp_path)
    for src in [tree / "pyproject.toml", *tree.glob("*/__init__.py")]:
        _age(src, 60)
    (tree / ".venv" / ".installed").touch()
    (tree / ".venv" / ".compiled").touch()
    out = _dry(tree, "run")
    assert "pip install" not in out and "compileall" not in out
    assert out.strip().endswith("xueji-duty")


def test_a_changed_pyproject_or_source_brings_back_the_install_or_the_compile(tmp_path):
    tree = _tree(tmp_path)
    (tree / ".venv" / ".installed").touch()
    (tree / ".venv" / ".compiled").touch()
    _age(tree / ".venv" / ".installed", 60)
    _age(tree / ".venv" / ".compiled", 60)
    for src in tree.glob("*/__init__.py"):
        _age(src, 120)
    assert "pip install" in _dry(tree, "run")          # pyproject.toml is newer than the stamp
    _age(tree / "pyproject.toml", 120)
    out = _dry(tree, "run")
    assert "pip install" not in out and "compileall" not in out
    (tree / "models" / "__init__.py").touch()           # a source edited since the last compile
    out = _dry(tree, "run")
    assert "pip install" not in out and "compileall" in out


def test_make_test_installs_the_test_extras_even_after_make_run(tmp_path):
    tree = _tree(tmp_path)
    for src in [tree / "pyproject.toml", *tree.glob("*/__init__.py")]:
        _age(src, 60)
    (tree / ".venv" / ".installed").touch()             # `make run` installed the project only
    assert 'pip install --quiet -e ".[test]"' in _dry(tree, "test")
    (tree / ".venv" / ".installed-test").touch()
    out = _dry(tree, "test")
    assert "pip install" not in out and "pytest" in out
