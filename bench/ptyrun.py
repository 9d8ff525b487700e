"""Run a program in an 80×24 pseudo-terminal and record every byte it writes (Linux/POSIX only)."""
from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYCACHE: Path | None = None     # set by the bench run: one bytecode cache for all its programs


def _session_with_tty() -> None:
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyApp:
    def __init__(self, *args: str, cols: int = 80, rows: int = 24, env: dict | None = None,
                 module: str = "bench.apps", command: list[str] | None = None,
                 cwd: Path | None = None) -> None:
        """Runs ``python -m module *args``, or ``command`` as given (e.g. ``make run``) in ``cwd``."""
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        drop = ("COLORTERM", "NO_COLOR", "PYTHONDONTWRITEBYTECODE")
        full_env = {k: v for k, v in os.environ.items() if k not in drop}
        full_env.update({"TERM": "xterm-256color", "PYTHONPATH": str(ROOT), "LANG": "zh_CN.UTF-8",
                         "XUEJI_DUTY_LANG": "zh", "XUEJI_DUTY_CONFIG": os.devnull + "-none.toml"})
        if PYCACHE is not None:
            # Compiled bytecode kept, as on a school's terminal after the first start (this
            # machine sets PYTHONDONTWRITEBYTECODE, which would recompile our modules every time).
            full_env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        full_env.update(env or {})
        self.started = time.monotonic()
        # Like sshd: a new session whose controlling terminal is the pty, so closing the master
        # sends SIGHUP as a dropped connection does.
        argv = command if command is not None else [sys.executable, "-m", module, *args]
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=str(cwd or ROOT),
                                     env=full_env, preexec_fn=_session_with_tty)
        os.close(slave)
        self.chunks: list[tuple[float, bytes]] = []
        self.buffer = bytearray()
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            now = time.monotonic()
            with self.lock:
                self.chunks.append((now, data))
                self.buffer += data

    def wait_for(self, marker: str, timeout: float = 30.0, since: int = 0) -> float | None:
        """Monotonic time the marker first appeared in the output after byte offset ``since``."""
        needle = marker.encode()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                pos = self.buffer.find(needle, since)
                if pos >= 0:
                    total = 0
                    for at, data in self.chunks:
                        total += len(data)
                        if total >= pos + len(needle):
                            return at
            time.sleep(0.005)
        return None

    def size(self) -> int:
        with self.lock:
            return len(self.buffer)

    def bytes_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(len(d) for at, d in self.chunks if start <= at < end)

    def cpu_seconds(self) -> float | None:
        """utime + stime of the child from /proc (Linux)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def quit(self, timeout: float = 10.0) -> int | None:
        try:
            os.write(self.master, b"\x11")   # ctrl+q
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.close()

    def close(self) -> None:
        try:
            os.close(self.master)
        except OSError:
            pass
