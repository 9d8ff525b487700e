"""The domain must stay importable without the UI: a subprocess imports every models module."""
import pkgutil
import subprocess
import sys

import models
from tests.conftest import ROOT


def test_models_import_neither_textual_nor_rich():
    names = [f"models.{m.name}" for m in pkgutil.iter_modules(models.__path__)]
    assert "models.deadlines" in names and "models.store" in names
    code = ("import sys\n" + "".join(f"import {n}\n" for n in names) +
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"models pulled in UI modules: {out.stdout}"


def test_the_school_side_never_loads_a_postgresql_driver():
    """peewee and playhouse.migrate import psycopg the moment they are imported if it is
    installed (~0.2 s on every start and CLI run); models/__init__ hides it from them. The
    school's modules load no driver, and the county code still gets psycopg when it asks."""
    names = [f"models.{m.name}" for m in pkgutil.iter_modules(models.__path__)]
    code = ("import sys\n" + "".join(f"import {n}\n" for n in names) +
            "import tui.cli\n"
            "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg2'))))\n"
            "import psycopg, peewee\n"
            "from models.county import schema\n"
            "print(psycopg.__name__, peewee.psycopg)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.rstrip("\n").split("\n")
    assert first == "", f"a PostgreSQL driver was loaded by the school side: {first}"
    assert second == "psycopg None"
