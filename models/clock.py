"""The single source of "now".

Deadline logic never calls ``datetime.now()`` itself: it takes ``now`` or a
``Clock``. Tests hand the app a ``FixedClock`` and move it forward instead of
sleeping.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock(Clock):
    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(timezone.utc)

    def advance(self, **delta: float) -> datetime:
        self._at += timedelta(**delta)
        return self._at


def utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry its zone")
    return dt.astimezone(timezone.utc)
