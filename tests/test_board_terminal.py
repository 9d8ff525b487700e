"""A dropped SSH connection: the app leaves on its own and does not spin a core."""
import os
import sys
import time

import pytest

from bench.seed import seed

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals and SIGHUP are POSIX")


def _cpu(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_board_exits_when_its_terminal_hangs_up(tmp_path):
    from bench.ptyrun import PtyApp
    db = tmp_path / "hup.db"
    seed(db, 5, 0)
    app = PtyApp("board", "--db", str(db))
    try:
        assert app.wait_for("2026-9001", timeout=60) is not None
        app.close()                               # the SSH connection drops: the pty master goes away
        start = time.monotonic()
        code = app.proc.wait(timeout=15)
        elapsed = time.monotonic() - start
        assert elapsed < 3, f"took {elapsed:.1f} s to notice"
        assert code == 129, code                     # our SIGHUP handler ended it, not the signal's default
    finally:
        if app.proc.poll() is None:
            app.proc.kill()
            pytest.fail("the app kept running after its terminal hung up")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_board_with_sighup_ignored_still_leaves_without_spinning(tmp_path):
    """nohup-style: SIGHUP ignored, so only the terminal watchdog can notice."""
    from bench.ptyrun import PtyApp
    db = tmp_path / "nohup.db"
    seed(db, 5, 0)
    app = PtyApp("board", "--db", str(db), env={"XUEJI_BENCH_IGNORE_SIGHUP": "1"})
    try:
        assert app.wait_for("2026-9001", timeout=60) is not None
        cpu_before = _cpu(app.proc.pid)
        app.close()
        start = time.monotonic()
        while app.proc.poll() is None and time.monotonic() - start < 10:
            time.sleep(0.1)
        elapsed = time.monotonic() - start
        assert app.proc.poll() is not None, "still running 10 s after the terminal went away"
        assert elapsed < 3, f"took {elapsed:.1f} s to notice"   # the watchdog checks once a second
    finally:
        if app.proc.poll() is None:
            cpu_spent = _cpu(app.proc.pid) - cpu_before
            app.proc.kill()
            pytest.fail(f"kept running; {cpu_spent:.1f} s CPU burnt meanwhile")
