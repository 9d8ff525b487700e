"""``xueji-duty --version`` prints the version the package is built with (pyproject reads tui.__version__)."""
from __future__ import annotations

import tomllib

from tests.conftest import ROOT, run_cli
from tui import __version__


def test_version_option_prints_the_package_version():
    r = run_cli("--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"xueji-duty {__version__}"


def test_pyproject_takes_its_version_from_the_package():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in meta["project"]["dynamic"]
    assert meta["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tui.__version__"}
    assert meta["project"]["license"] == "MIT"     # SPDX string: no setuptools deprecation warning
