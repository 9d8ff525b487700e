"""``python -m bench.start``: how long `make run` takes to the login screen, against the installed command.

In a fresh clone of this checkout (``git clone``: committed work only) and a pseudo-terminal of 80×24:

  first make run     creates .venv, installs the project, compiles, starts (once)
  make run           every later start: the install stamp is fresh, so only compileall + the app
  installed command  ``.venv/bin/xueji-duty`` directly
  after an edit      ``make run`` once more after ``touch pyproject.toml``: it installs again

The two repeated programs run in interleaved rounds after one warm-up each, until the login
screen's title shows (the same marker as ``python -m bench``); the difference is the median of the
per-round differences. Figures go into docs/dev/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.__main__ import LOGIN_MARK
from bench.ptyrun import ROOT, PtyApp


def _time_to_login(command: list[str], cwd: Path, timeout: float = 600) -> float:
    app = PtyApp(command=command, cwd=cwd, env={"PYTHONPATH": str(cwd), "XUEJI_DUTY_AUTO_BACKUP": "0"})
    seen = app.wait_for(LOGIN_MARK, timeout=timeout)
    app.quit()
    if seen is None:
        tail = bytes(app.buffer[-2000:]).decode(errors="replace")
        raise SystemExit(f"{' '.join(command)}: the login screen never appeared\n{tail}")
    return seen - app.started


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.start", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=9, help="interleaved rounds (9)")
    p.add_argument("--python", default="python3", help="the Python that creates .venv (python3)")
    a = p.parse_args(argv)
    if os.name != "posix":
        print("This benchmark needs a POSIX pseudo-terminal (Linux).")
        return 2
    from bench.seed import add_account, seed
    tmp = Path(tempfile.mkdtemp(prefix="xueji-start-"))
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    db = tmp / "duty.db"
    seed(db, 0, 0)
    add_account(db)
    args = f"ARGS=--db {db} --no-mouse"
    make = ["make", "--no-print-directory", "run", f"PYTHON={a.python}", args]
    installed = [str(clone / ".venv" / "bin" / "xueji-duty"), "--db", str(db), "--no-mouse"]

    t0 = time.monotonic()
    first = _time_to_login(make, clone)
    print(f"first make run (venv + install + start): {first:.1f} s", flush=True)
    rounds: dict[str, list[float]] = {"make run": [], "installed": []}
    for run in range(a.runs + 1):
        for name, cmd in (("make run", make), ("installed", installed)):
            took = _time_to_login(cmd, clone)
            if run:
                rounds[name].append(took)
    (clone / "pyproject.toml").touch()
    edited = _time_to_login(make, clone)
    again = _time_to_login(make, clone)

    med = {k: statistics.median(v) for k, v in rounds.items()}
    diffs = [m - i for m, i in zip(rounds["make run"], rounds["installed"])]
    print(f"medians of {a.runs}: make run {med['make run'] * 1000:.0f} ms, installed command "
          f"{med['installed'] * 1000:.0f} ms; make run − installed: median {statistics.median(diffs) * 1000:.0f} ms, "
          f"max {max(diffs) * 1000:.0f} ms")
    print(f"make run after touching pyproject.toml (installs again): {edited:.1f} s; the next one "
          f"{again * 1000:.0f} ms")
    print(f"({time.monotonic() - t0:.0f} s in all; {sys.platform}, Python {sys.version.split()[0]})")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
