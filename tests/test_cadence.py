"""Cadence arithmetic: month ends, semester boundaries, a check done early or late, the school's zone."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from models.cadence import (SchoolCalendar, add_months, day_start, due_state, first_due_day, next_due_day,
                            step)

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("start,months,anchor,expected", [
    (date(2026, 1, 31), 1, None, date(2026, 2, 28)),
    (date(2028, 1, 31), 1, None, date(2028, 2, 29)),       # leap year
    (date(2026, 2, 28), 1, 31, date(2026, 3, 31)),         # the anchor day comes back after February
    (date(2026, 4, 30), 1, 31, date(2026, 5, 31)),
    (date(2026, 12, 31), 2, None, date(2027, 2, 28)),      # across the year end
    (date(2026, 3, 15), -1, None, date(2026, 2, 15)),
])
def test_add_months_clamps_to_month_end_and_keeps_anchor(start, months, anchor, expected):
    assert add_months(start, months, anchor) == expected


def test_monthly_on_the_31st_walks_month_ends_without_drifting():
    due, seen = date(2026, 1, 31), []
    for _ in range(4):
        due = step("monthly", due, anchor_day=31)
        seen.append(due)
    assert seen == [date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)]


def test_semester_boundaries_default_and_configured():
    cal = SchoolCalendar()
    assert cal.semester_of(date(2026, 11, 25)) == (date(2026, 9, 1), date(2027, 2, 28))
    assert cal.semester_of(date(2027, 3, 1)) == (date(2027, 3, 1), date(2027, 8, 31))
    assert cal.semester_of(date(2027, 2, 28)) == (date(2026, 9, 1), date(2027, 2, 28))
    assert cal.semester_of(date(2028, 2, 15)) == (date(2027, 9, 1), date(2028, 2, 29))
    # A school whose spring term starts on 20 Feb and autumn term on 25 Aug.
    custom = SchoolCalendar.from_strings(["08-25", "02-20"])
    assert custom.semester_of(date(2027, 2, 19)) == (date(2026, 8, 25), date(2027, 2, 19))
    assert custom.semester_of(date(2027, 2, 20)) == (date(2027, 2, 20), date(2027, 8, 24))
    with pytest.raises(ValueError):
        SchoolCalendar.from_strings(["02-30"])


def test_semester_check_is_due_by_semester_end_and_moves_to_the_next_semester():
    cal = SchoolCalendar()
    assert first_due_day("semester", date(2026, 11, 25), cal=cal) == date(2027, 2, 28)
    # Done early in the autumn semester: next due at the end of spring.
    assert next_due_day("semester", date(2027, 2, 28), date(2026, 10, 10), cal=cal) == date(2027, 8, 31)
    # Done late (in spring) for autumn: counts for autumn; spring still needs its own.
    assert next_due_day("semester", date(2027, 2, 28), date(2027, 3, 5), cal=cal) == date(2027, 8, 31)
    # So late that the spring semester passed too: the next due is the end of the following autumn.
    assert next_due_day("semester", date(2027, 2, 28), date(2027, 9, 2), cal=cal) == date(2028, 2, 29)


def test_early_and_late_completion_run_from_the_due_date():
    # Weekly, due Wednesday 2 Dec: done two days early or three days late, next is 9 Dec.
    assert next_due_day("weekly", date(2026, 12, 2), date(2026, 11, 30)) == date(2026, 12, 9)
    assert next_due_day("weekly", date(2026, 12, 2), date(2026, 12, 5)) == date(2026, 12, 9)
    # Done on the next due day itself: that period is not yet covered by this run.
    assert next_due_day("weekly", date(2026, 12, 2), date(2026, 12, 9)) == date(2026, 12, 16)
    # Monthly on the 31st done late on 3 Feb: next is 28 Feb, not 3 March.
    assert next_due_day("monthly", date(2026, 1, 31), date(2026, 2, 3), anchor_day=31) == date(2026, 2, 28)
    # Every 90 days, done 10 days late: the rhythm stays.
    assert next_due_day("every_n_days", date(2026, 1, 1), date(2026, 1, 11), every_days=90) == date(2026, 4, 1)
    # Daily done three days late: next is tomorrow, not the missed days.
    assert next_due_day("daily", date(2026, 3, 1), date(2026, 3, 4)) == date(2026, 3, 5)


def test_first_due_is_the_end_of_the_first_period():
    today = date(2026, 1, 31)
    assert first_due_day("daily", today) == today
    assert first_due_day("weekly", today) == date(2026, 2, 6)
    assert first_due_day("monthly", today) == date(2026, 2, 27)
    assert first_due_day("every_n_days", today, every_days=90) == date(2026, 4, 30)


def test_due_state_uses_the_school_zone_not_utc():
    due_at = day_start(date(2026, 11, 25), SH)            # 2026-11-24 16:00 UTC
    assert due_at == datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)
    # 23:30 UTC on the 24th is already 07:30 on the 25th in Shanghai: due today, not upcoming.
    assert due_state(due_at, datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc), SH) == ("due_today", 0)
    # 16:30 UTC on the 25th is 00:30 on the 26th in Shanghai: one day overdue.
    assert due_state(due_at, datetime(2026, 11, 25, 16, 30, tzinfo=timezone.utc), SH) == ("overdue", 1)
    assert due_state(due_at, datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc), SH) == ("upcoming", 3)


def test_unknown_cadence_and_bad_interval_are_refused():
    with pytest.raises(ValueError):
        step("fortnightly", date(2026, 1, 1))
    with pytest.raises(ValueError):
        step("every_n_days", date(2026, 1, 1), every_days=0)
