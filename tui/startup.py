"""The garbage collector rests while the app starts, and the start-up objects are frozen after.

Importing Textual, peewee and our models builds a few hundred thousand objects, and
the collector rescans them again and again while they are being built: ~30 ms of a
first paint that the issue allows ≤ 1.5× a bare Textual app (issue 4). Nothing made
during start-up is garbage worth collecting, so collection waits until the first
screen is up; ``gc.freeze`` then sets those objects aside so the board's later
collections, all day long, do not walk them either. Textual pauses the collector
the same way while it scrolls (``App.PAUSE_GC_ON_SCROLL``).
"""
from __future__ import annotations

import gc

_paused = False


def pause() -> None:
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Idempotent; a no-op when ``pause`` was not called (tests build the app directly)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
