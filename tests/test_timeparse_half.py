"""Half hours (``半小时前``, ``一个半小时前``) in the relative times, by the compound rule (units largest
first, nothing smaller after a half); a bare amount (``2h50m``: no sign, no 前/后) is answered with
the question ago or ahead, never guessed."""
from datetime import timedelta

import pytest

from models.errors import ValidationError
from models.i18n import set_language
from models.timeparse import parse_time
from tests.conftest import SH, T0, make_app
from tests.test_new_incident_screen import msg, open_form

M = timedelta(minutes=1)


@pytest.mark.parametrize("text, expected", [
    ("半小时前", T0 - 30 * M),
    ("半个小时前", T0 - 30 * M),
    ("半小时后", T0 + 30 * M),
    ("半小时之前", T0 - 30 * M),
    ("一个半小时前", T0 - 90 * M),
    ("1个半小时前", T0 - 90 * M),
    ("两个半小时后", T0 + 150 * M),
    ("十个半小时前", T0 - 630 * M),
    ("1天半小时前", T0 - (1440 + 30) * M),       # a day, then the half hour: largest first
    ("-半小时", T0 - 30 * M),                    # the sign reads a half as it reads 前
    ("2小时50分钟前", T0 - 170 * M),             # the compound forms are unchanged
    ("-2h50m", T0 - 170 * M),
    ("3点半", T0.astimezone(SH).replace(hour=3, minute=30)),   # 半 of a clock time is still one
])
def test_half_hours(text, expected):
    assert parse_time(text, now=T0, zone=SH) == expected


@pytest.mark.parametrize("text", [
    "一个半小时20分钟前",   # nothing smaller after a half
    "半小时10分前",
    "半小时半小时前",       # the unit twice
    "2半小时前",            # a number with a half needs 个半
    "半天前",              # a half of only an hour
    "半分钟前",
    "半h前",
    "一个半个小时前",
    "半小时前后",
])
def test_half_look_alikes_are_refused(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    assert text in exc.value.field_messages()["occurred_at"]


@pytest.mark.parametrize("text", ["2h50m", "2h 50m", "90m", "1d2h", "2小时50分钟", "两小时", "半小时",
                                  "一个半小时"])
def test_a_bare_amount_asks_which_way(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert "之前还是之后" in message and f"-{text}" in message and f"+{text}" in message, message
    assert f"{text}前" in message, message


@pytest.mark.parametrize("text, says", [
    ("2h2h", "单位"),          # looks like an amount but breaks the rule: the rule, not the question
    ("50m2h", "单位"),
    ("2h50", "单位"),
    ("abc", "可用格式"),        # not an amount at all: the formats, as before
    ("25:00", "可用格式"),
    ("十分", "之前还是之后"),    # ten minutes, no direction
])
def test_what_is_not_a_bare_amount_keeps_its_message(text, says):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert says in message, message
    if says != "之前还是之后":
        assert "之前还是之后" not in message, message


def test_the_question_reads_in_english_too():
    set_language("en")
    with pytest.raises(ValidationError) as exc:
        parse_time("2h50m", now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert "ago or ahead" in message and "-2h50m" in message and "+2h50m" in message, message
    assert parse_time("-2h50m", now=T0, zone=SH) == T0 - 170 * M


async def test_the_form_echoes_half_an_hour_and_asks_for_a_bare_amount(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press("tab", "ctrl+u", *"半小时前")
        assert "即 2026-11-25 09:30" in msg(form, "occurred_at")      # 10:00 − 30 min
        await pilot.press("ctrl+u", *"一个半小时前")
        assert "即 2026-11-25 08:30" in msg(form, "occurred_at")
        await pilot.press("ctrl+u", *"2h50m")
        shown = msg(form, "occurred_at")
        assert "之前还是之后" in shown and "即" not in shown, shown
