from datetime import datetime, timedelta, timezone

import pytest

from models.errors import ValidationError
from models.timeparse import check_incident_times, fmt_duration, fmt_local, parse_time
from tests.conftest import SH, T0

UTC = timezone.utc


@pytest.mark.parametrize("text, expected", [
    ("now", T0),
    ("现在", T0),
    ("-90m", T0 - timedelta(minutes=90)),
    ("-2h", T0 - timedelta(hours=2)),
    ("-1d", T0 - timedelta(days=1)),
    ("08:30", datetime(2026, 11, 25, 0, 30, tzinfo=UTC)),            # today in Shanghai
    ("2026-11-24 23:50", datetime(2026, 11, 24, 15, 50, tzinfo=UTC)),
    ("2026-11-25T08:30+08:00", datetime(2026, 11, 25, 0, 30, tzinfo=UTC)),
    ("2026-11-25T00:30Z", datetime(2026, 11, 25, 0, 30, tzinfo=UTC)),
    ("2026-11-25T08:30:00", datetime(2026, 11, 25, 0, 30, tzinfo=UTC)),  # no offset: school zone
])
def test_accepted_forms(text, expected):
    got = parse_time(text, now=T0, zone=SH)
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize("text", ["", "  ", "tomorrow", "25:00", "2026-13-01 08:00", "08:61", "--5m", "-5y"])
def test_unreadable_times_name_the_accepted_forms(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    assert "occurred_at" in exc.value.fields
    assert "-90m" in exc.value.message  # the message teaches the accepted forms


def test_hhmm_is_today_in_the_school_zone_not_the_host():
    # 23:30 UTC on the 24th is 07:30 on the 25th in Shanghai: "08:00" means the 25th.
    now = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert parse_time("08:00", now=now, zone=SH) == datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def test_future_and_inverted_times_are_refused():
    with pytest.raises(ValidationError) as exc:
        check_incident_times(T0 + timedelta(hours=1), T0 + timedelta(hours=1), T0)
    assert "occurred_at" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        check_incident_times(T0 - timedelta(hours=1), T0 - timedelta(hours=2), T0)
    assert "discovered_at" in exc.value.fields


def test_display_shows_the_school_zone_and_names_it_when_host_differs(monkeypatch):
    assert fmt_local(T0, SH, with_zone=True) == "2026-11-25 10:00 CST"
    assert fmt_local(T0, SH, with_zone=False, date=False) == "10:00"


@pytest.mark.parametrize("seconds, text", [(7500, "2h05m"), (601, "10m"), (600, "10m00s"), (59, "0m59s"),
                                           (3 * 86400, "3d00h")])
def test_duration_shows_seconds_only_in_the_last_ten_minutes(seconds, text):
    assert fmt_duration(seconds) == text
