"""Compound relative times (``-2h50m``, ``2小时50分钟前``) in the one parser, with the same echo as
``-90m``; forms that only look relative are refused with a message that says the rule."""
from datetime import timedelta

import pytest

from models.errors import ValidationError
from models.i18n import set_language
from models.timeparse import parse_time
from tests.conftest import SH, T0, make_app
from tests.test_new_incident_screen import msg, open_form

M = timedelta(minutes=1)


@pytest.mark.parametrize("text, expected", [
    ("-90m", T0 - 90 * M),                       # the single forms keep working
    ("-2h", T0 - 120 * M),
    ("+7d", T0 + 7 * 1440 * M),
    ("-2h50m", T0 - 170 * M),
    ("-1h30m", T0 - 90 * M),
    ("-1d2h", T0 - (1440 + 120) * M),
    ("-1d2h5m", T0 - (1440 + 125) * M),
    ("-2h 50m", T0 - 170 * M),
    ("- 2h50min", T0 - 170 * M),
    ("-2H50M", T0 - 170 * M),
    ("+1h30m", T0 + 90 * M),
    ("2h50m前", T0 - 170 * M),
    ("2小时50分钟前", T0 - 170 * M),
    ("2个小时50分前", T0 - 170 * M),
    ("两小时前", T0 - 120 * M),
    ("90分钟前", T0 - 90 * M),
    ("1天2小时之前", T0 - (1440 + 120) * M),
    ("2h50m ago", T0 - 170 * M),
    ("30分钟后", T0 + 30 * M),
])
def test_compound_relative_times(text, expected):
    assert parse_time(text, now=T0, zone=SH) == expected


@pytest.mark.parametrize("text", [
    "-2h50",        # a number without its unit
    "--2h",         # two signs
    "-2h-50m",      # a sign in the middle
    "-50m2h",       # smaller unit first
    "-2h2h",        # a unit twice
    "-2h50m前",     # a sign and 前
    "-",            # nothing after the sign
    "-5y",          # no such unit
    "2h50前",       # the same rules before 前
    "-99999d",      # beyond any sensible record
])
def test_look_alikes_are_refused_with_the_rule(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert text in message and "-2h50m" in message and "单位" in message, message


def test_the_refusal_reads_in_english_too():
    set_language("en")
    with pytest.raises(ValidationError) as exc:
        parse_time("-2h50", now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert "'-2h50'" in message and "unit" in message and "-2h50m" in message, message


async def test_the_form_echoes_a_compound_time_as_it_does_a_single_one(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press("tab", "ctrl+u", *"-2h50m")
        assert "即 2026-11-25 07:10" in msg(form, "occurred_at")      # 10:00 − 2h50m
        await pilot.press("ctrl+u", *"2小时50分钟前")
        assert "即 2026-11-25 07:10" in msg(form, "occurred_at")
        await pilot.press("ctrl+u", *"-2h50")
        shown = msg(form, "occurred_at")
        assert "-2h50" in shown and "单位" in shown and "即" not in shown
