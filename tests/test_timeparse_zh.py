"""Chinese natural times in the one parser (issue 15 item 9), with the same echo as every time."""
from datetime import datetime, timezone

import pytest

from models.errors import ValidationError
from models.timeparse import fmt_local, parse_time
from tests.conftest import SH, T0          # 2026-11-25 10:00 in Shanghai

UTC = timezone.utc


def sh(day, hour, minute=0):
    """An instant given in Shanghai time, November 2026."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SH).astimezone(UTC)


@pytest.mark.parametrize("text, expected", [
    ("现在", T0),
    ("刚才", T0),
    ("昨天15:00", sh(24, 15)),
    ("昨天 15:00", sh(24, 15)),
    ("今天9点", sh(25, 9)),
    ("下午3点", sh(25, 15)),
    ("15点40", sh(25, 15, 40)),
    ("15点40分", sh(25, 15, 40)),
    ("3点半", sh(25, 3, 30)),
    ("前天 8:30", sh(23, 8, 30)),
    ("前天8点", sh(23, 8)),
    ("昨晚10点", sh(24, 22)),                 # 昨 + 晚: yesterday evening
    ("昨天晚上10点", sh(24, 22)),
    ("昨天下午三点一刻", sh(24, 15, 15)),
    ("上午9点", sh(25, 9)),
    ("中午12点", sh(25, 12)),
    ("中午1点", sh(25, 13)),
    ("凌晨12点", sh(25, 0)),
    ("凌晨2点", sh(25, 2)),
    ("九点二十", sh(25, 9, 20)),
    ("晚上8点三刻", sh(25, 20, 45)),
    ("15时", sh(25, 15)),
])
def test_chinese_forms(text, expected):
    got = parse_time(text, now=T0, zone=SH)
    assert got == expected and got.tzinfo is not None


@pytest.mark.parametrize("text", ["明天", "昨天", "下午", "25点", "3点61", "三十点", "点半", "下午3", "15点40秒"])
def test_unreadable_chinese_times_get_the_same_message(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    assert "occurred_at" in exc.value.fields and "-90m" in exc.value.message


def test_the_echo_is_the_instant_it_was_read_as():
    at = parse_time("昨天15:00", now=T0, zone=SH)
    assert fmt_local(at, SH, with_zone=True) == "2026-11-24 15:00 CST"


def test_a_time_not_today_shows_its_date():
    from models.timeparse import fmt_when
    assert fmt_when(sh(25, 16, 23), SH, T0, with_zone=False) == "16:23"
    assert fmt_when(sh(26, 16, 23), SH, T0, with_zone=False) == "11-26 16:23"      # tomorrow
    assert fmt_when(datetime(2027, 1, 3, 8, 0, tzinfo=SH), SH, T0, with_zone=False) == "2027-01-03 08:00"
