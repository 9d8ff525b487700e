"""When a recurring prevention duty falls due: pure date arithmetic, ``now`` passed in.

A check is due *on a day* in the school's zone (it is done "by the end of"
that day), so due instants are stored as the start of the local due day and
compared by local date.

The rule for a check done early or late, chosen to match what an inspector
reads from a ledger ("once a month", "once each semester"): **the next due
date runs from the due date, not from the completion.** A monthly check due
on the 31st stays on month ends however early or late it is done, so the
rhythm never drifts. A completion counts for the period it was due in; a
check done so late that whole periods passed skips to the first due date
after the completion (the missed periods stay visible as late runs in the
check's history; they are not silently filled in).

Month ends: stepping keeps the *anchor day* (the day of the first due date),
clamped to the month's length: 31 Jan → 28/29 Feb → 31 Mar.

Semesters: the Chinese school year has an autumn semester from about 1 Sept
and a spring semester from about 1 Mar. The boundaries are data
(``semester_starts`` in the config, ``MM-DD`` strings); a semester check is
due by the last day of the semester it falls in.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

CADENCES = ("daily", "weekly", "monthly", "semester", "every_n_days")
DEFAULT_SEMESTER_STARTS = ("03-01", "09-01")


@dataclass(frozen=True)
class SchoolCalendar:
    """Semester start days as (month, day), sorted; configurable per school."""

    starts: tuple[tuple[int, int], ...] = ((3, 1), (9, 1))

    @classmethod
    def from_strings(cls, values) -> "SchoolCalendar":
        out = []
        for text in values or DEFAULT_SEMESTER_STARTS:
            month, day = (int(p) for p in str(text).strip().split("-"))
            date(2024, month, day)  # raises ValueError on 02-30 and such
            out.append((month, day))
        if not out:
            raise ValueError("no semester starts")
        return cls(tuple(sorted(set(out))))

    def semester_of(self, day: date) -> tuple[date, date]:
        """(first day, last day) of the semester containing ``day``."""
        candidates = []
        for year in (day.year - 1, day.year, day.year + 1):
            for month, d in self.starts:
                candidates.append(_safe_date(year, month, d))
        candidates.sort()
        start = max(c for c in candidates if c <= day)
        nxt = min(c for c in candidates if c > start)
        return start, nxt - timedelta(days=1)


def _safe_date(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """``day`` moved by whole months, on ``anchor_day`` (default: its own day), clamped to the month."""
    anchor = anchor_day or day.day
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    return _safe_date(year, month0 + 1, anchor)


def step(cadence: str, due: date, *, every_days: int | None = None, anchor_day: int | None = None,
         cal: SchoolCalendar = SchoolCalendar()) -> date:
    """The due day one period after ``due``."""
    if cadence == "daily":
        return due + timedelta(days=1)
    if cadence == "weekly":
        return due + timedelta(days=7)
    if cadence == "every_n_days":
        if not every_days or every_days < 1:
            raise ValueError("every_n_days needs every_days >= 1")
        return due + timedelta(days=every_days)
    if cadence == "monthly":
        return add_months(due, 1, anchor_day)
    if cadence == "semester":
        _, end = cal.semester_of(due)
        _, next_end = cal.semester_of(end + timedelta(days=1))
        return next_end
    raise ValueError(f"unknown cadence {cadence!r}")


def first_due_day(cadence: str, today: date, *, every_days: int | None = None,
                  cal: SchoolCalendar = SchoolCalendar()) -> date:
    """A new duty is due by the end of its first period, counted from today."""
    if cadence == "daily":
        return today
    if cadence == "weekly":
        return today + timedelta(days=6)
    if cadence == "every_n_days":
        if not every_days or every_days < 1:
            raise ValueError("every_n_days needs every_days >= 1")
        return today + timedelta(days=every_days - 1)
    if cadence == "monthly":
        return add_months(today, 1) - timedelta(days=1)
    if cadence == "semester":
        return cal.semester_of(today)[1]
    raise ValueError(f"unknown cadence {cadence!r}")


def next_due_day(cadence: str, due: date | None, done: date, *, every_days: int | None = None,
                 anchor_day: int | None = None, cal: SchoolCalendar = SchoolCalendar()) -> date:
    """The due day after a completion on ``done`` of the period due on ``due`` (see module doc)."""
    if due is None:
        return step(cadence, done, every_days=every_days, anchor_day=anchor_day, cal=cal)
    nxt = step(cadence, due, every_days=every_days, anchor_day=anchor_day, cal=cal)
    while nxt <= done:
        nxt = step(cadence, nxt, every_days=every_days, anchor_day=anchor_day, cal=cal)
    return nxt


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The instant (UTC) a local day begins: how due days are stored."""
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(timezone.utc)


def local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.astimezone(zone).date()


def due_state(due_at: datetime | None, now: datetime, zone: ZoneInfo) -> tuple[str, int]:
    """('overdue'|'due_today'|'upcoming'|'none', days): days overdue, or days until due."""
    if due_at is None:
        return "none", 0
    due = local_day(due_at, zone)
    today = local_day(now, zone)
    if today > due:
        return "overdue", (today - due).days
    if today == due:
        return "due_today", 0
    return "upcoming", (due - today).days
