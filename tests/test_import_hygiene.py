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
