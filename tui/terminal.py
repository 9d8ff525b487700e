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
HANGUP_GRACE_S = 0.3     # keys already read reach their fields before the drafts are written


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


def flush_drafts(app) -> int:
    """Every open form writes its draft now (the terminal is going): how many did.

    A screen or dialog with unsaved typing defines ``flush_draft()``; each runs on its
    own, so one failing (a busy database) does not keep the others from saving.
    """
    done = 0
    stacks = [app.screen_stack]
    try:
        stacks += [list(stack) for name, stack in app._screen_stacks.items() if stack is not app.screen_stack]
    except AttributeError:
        pass
    seen: set[int] = set()
    for stack in stacks:
        for screen in reversed(list(stack)):
            if id(screen) in seen:
                continue
            seen.add(id(screen))
            flush = getattr(screen, "flush_draft", None)
            if not callable(flush):
                continue
            try:
                flush()
                done += 1
            except Exception:  # noqa: BLE001 - the process is ending; the other forms still save
                pass
    return done


def install(app) -> None:
    """Call from the app's on_mount; does nothing in headless (test) runs."""
    if app.is_headless:
        return

    state = {"going": False}

    def leave() -> None:
        # Drafts first, synchronously: once the terminal is gone the exit path may fail
        # writing to it before any screen's on_unmount runs.
        flush_drafts(app)
        presence = getattr(app, "_presence", None)
        if presence is not None:
            presence.leave()
        app.exit(return_code=HANGUP_EXIT_CODE)

    def hang_up() -> None:
        if state["going"]:
            return
        state["going"] = True
        # Keys already read (typed just before the hang-up) are still on their way to their
        # fields as messages: let them land, then save every form and leave.
        app.set_timer(HANGUP_GRACE_S, leave, name="hang-up")

    # Under nohup SIGHUP is ignored on purpose: leave it so, the watchdog still notices.
    # SIGTERM (a closed tmux pane, a shutdown) saves the drafts the same way.
    for name in ("SIGHUP", "SIGTERM"):
        sig = getattr(signal, name, None)
        if sig is None or signal.getsignal(sig) is signal.SIG_IGN:
            continue
        try:
            asyncio.get_running_loop().add_signal_handler(sig, hang_up)
        except (NotImplementedError, RuntimeError, ValueError):
            pass
    if os.name == "posix" and terminal_alive():
        def watch() -> None:
            if not terminal_alive():
                hang_up()
        app.set_interval(1.0, watch, name="terminal-watchdog")
