"""``python -m bench.accounts``: what logging in costs, measured.

  scrypt check     one password check (N=2^15, r=8, p=3), median of --runs
  keyring recall   models.secrets.recall through a fresh daemon thread, in-memory backend
  hung keyring     how long a hanging backend holds a caller before it is abandoned
  CLI write auth   `incident new` in a subprocess: bootstrap --user vs --password-stdin (median)
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import timed

ROOT = Path(__file__).resolve().parent.parent


def _cli(args, input=None, env=None):
    full = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            **(env or {})}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "tui", *args], input=input, text=True, capture_output=True,
                       env=full, cwd=str(ROOT), stdin=None if input is not None else subprocess.DEVNULL)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    import keyring

    from models import passwords, secrets
    from tests.keyrings import HangingKeyring, InMemoryKeyring

    v = passwords.make_verifier("Bench-pass-2026")
    check = timed(lambda: passwords.check_password("Bench-pass-2026", v), a.runs)
    print(f"scrypt check       median {statistics.median(check) * 1000:7.1f} ms  (min {min(check) * 1000:.1f}, "
          f"max {max(check) * 1000:.1f}, {a.runs} runs)")

    keyring.set_keyring(InMemoryKeyring())
    secrets.remember("bench", "tok")
    rec = timed(lambda: secrets.recall("bench"), a.runs * 10)
    print(f"keyring recall     median {statistics.median(rec) * 1000:7.2f} ms  (in-memory backend, own thread)")

    hang = HangingKeyring()
    keyring.set_keyring(hang)
    secrets.reset()
    t0 = time.perf_counter()
    try:
        secrets.recall("bench")
    except secrets.KeyringUnavailable:
        pass
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    try:
        secrets.recall("bench")
    except secrets.KeyringUnavailable:
        pass
    second = time.perf_counter() - t0
    hang.release.set()
    print(f"hung keyring       first call abandoned after {first:5.2f} s, next call {second * 1000:.2f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        boot, auth = str(Path(tmp) / "boot.db"), str(Path(tmp) / "auth.db")
        _cli(["init", "--school", "bench", "--db", boot])
        _cli(["init", "--school", "bench", "--admin", "bench", "--password-stdin", "--db", auth],
             input="Bench-pass-2026\n")
        new = ["incident", "new", "--title", "bench", "--category", "malware", "--occurred", "-5m"]
        b = [_cli([*new, "--user", "bench", "--db", boot]) for _ in range(a.runs)]
        p = [_cli([*new, "--user", "bench", "--password-stdin", "--db", auth], input="Bench-pass-2026\n")
             for _ in range(a.runs)]
        print(f"CLI write          bootstrap --user {statistics.median(b) * 1000:6.0f} ms, "
              f"--password-stdin {statistics.median(p) * 1000:6.0f} ms  (median of {a.runs}, whole process)")


if __name__ == "__main__":
    main()
