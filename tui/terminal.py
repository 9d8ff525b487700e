"""Leaving cleanly when the terminal goes away (a dropped SSH connection).

A hung-up terminal reads as end-of-file forever; an input loop that keeps
polling it spins a core at 100 % (sngrep #424, angband #6558). So the app exits
on SIGHUP, and a once-a-second watchdog exits when the controlling terminal
stops answering, for the case where SIGHUP was ignored (nohup) or never sent.
Both are POSIX matters: on Windows the console closes the process itself.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys

HANGUP_EXIT_CODE = 129   # 128 + SIGHUP, as a shell reports it


def terminal_alive(stream=None) -> bool:
    """False once the terminal behind ``stream`` is gone (its ioctls then fail with EIO)."""
    try:
        import termios
    except ImportError:   # Windows: the console ends the process itself
        return True
    stream = stream or sys.__stdin__
    try:
        fd = stream.fileno()
        if not os.isatty(fd):
            return False
        termios.tcgetattr(fd)
    except (AttributeError, ValueError, OSError, termios.error):
        return False
    return True


def install(app) -> None:
    """Call from the app's on_mount; does nothing in headless (test) runs."""
    if app.is_headless:
        return

    def hang_up() -> None:
        app.exit(return_code=HANGUP_EXIT_CODE)

    # Under nohup SIGHUP is ignored on purpose: leave it so, the watchdog still notices.
    if hasattr(signal, "SIGHUP") and signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hang_up)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    if os.name == "posix" and terminal_alive():
        def watch() -> None:
            if not terminal_alive():
                hang_up()
        app.set_interval(1.0, watch, name="terminal-watchdog")
