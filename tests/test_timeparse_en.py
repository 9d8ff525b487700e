"""English relative times, both ways (``2h later``, ``in 2h``, ``1.5h ago``, ``half an hour ago``,
``90 min ago``), by the same rule as the compact and Chinese forms: units largest first, each once,
nothing smaller after a half or a decimal, whole minutes; a bare amount (``2h50m``, ``1.5h``,
``half an hour``) is answered with the question ago or ahead, never guessed."""
from datetime import timedelta

import pytest

from models.errors import ValidationError
from models.i18n import set_language
from models.timeparse import parse_time
from tests.conftest import SH, T0, make_app
from tests.test_new_incident_screen import msg, open_form

M = timedelta(minutes=1)


@pytest.mark.parametrize("text, minutes", [
    ("2h later", 120), ("2h50m later", 170), ("in 2h", 120), ("in 2h50m", 170), ("In 90 min", 90),
    ("2 hours later", 120), ("3 hours from now", 180), ("in 1 day", 1440), ("a day later", 1440),
    ("1.5h later", 90), ("in 1.5h", 90), ("in 0.5 hours", 30), ("1.5d later", 2160),
    ("in half an hour", 30), ("half an hour later", 30), ("in a half hour", 30),
    ("an hour and a half later", 90), ("in 2 hours and a half", 150), ("2 and a half hours later", 150),
    ("in an hour", 60), ("in a minute", 1), ("in 1 hour 30 minutes", 90),
    ("2h ago", -120), ("2h50m ago", -170), ("2h50m earlier", -170), ("90 min ago", -90),
    ("90 minutes ago", -90), ("90 mins ago", -90), ("2 hours ago", -120), ("2 hrs ago", -120),
    ("2 hours 50 minutes ago", -170), ("2 hours and 50 minutes ago", -170), ("2 hours, 50 minutes ago", -170),
    ("1 day 2 hours ago", -1560), ("1.5h ago", -90), ("1.5 hours ago", -90), ("0.25h ago", -15),
    ("half an hour ago", -30), ("Half an hour ago", -30), ("a half hour ago", -30),
    ("an hour ago", -60), ("an hour and a half ago", -90), ("one hour ago", -60), ("a day ago", -1440),
    ("-1.5h", -90), ("+1.5h", 90), ("-half an hour", -30), ("+an hour", 60),
    ("1.5小时前", -90), ("1.5小时后", 90),
])
def test_english_relative_times(text, minutes):
    assert parse_time(text, now=T0, zone=SH) == T0 + minutes * M


@pytest.mark.parametrize("text, expected", [        # what was read before reads the same
    ("-90m", T0 - 90 * M), ("-2h50m", T0 - 170 * M), ("+7d", T0 + 7 * 1440 * M), ("2h50m ago", T0 - 170 * M),
    ("- 2h50min", T0 - 170 * M), ("-2H50M", T0 - 170 * M), ("2小时50分钟前", T0 - 170 * M),
    ("半小时前", T0 - 30 * M), ("一个半小时后", T0 + 90 * M), ("1天半小时前", T0 - 1470 * M), ("30分钟后", T0 + 30 * M),
    ("now", T0), ("现在", T0), ("08:30", T0.astimezone(SH).replace(hour=8, minute=30)),
    ("3点半", T0.astimezone(SH).replace(hour=3, minute=30)),
    ("昨天15:00", (T0.astimezone(SH) - timedelta(days=1)).replace(hour=15, minute=0)),
    ("2026-11-25 08:30", T0.astimezone(SH).replace(hour=8, minute=30)),
    ("2026-11-25T08:30+08:00", T0.astimezone(SH).replace(hour=8, minute=30)),
])
def test_the_forms_read_before_are_unchanged(text, expected):
    assert parse_time(text, now=T0, zone=SH) == expected


@pytest.mark.parametrize("text", [
    "in 2h ago",          # two directions
    "-2h later",
    "in -2h",
    "1.33h ago",          # not whole minutes
    "1.5m ago",
    "1.5h20m ago",        # nothing smaller after a decimal
    "30 minutes 2 hours ago",   # smaller unit first
    "2 hours 2 hours ago",      # a unit twice
    "2 hamburgers ago",
    "2h50 later",         # a number without its unit
    "an hour and a half 20 minutes ago",
    "1.5个半小时前",
])
def test_english_look_alikes_are_refused_with_the_rule(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert text in message and "单位" in message, message


@pytest.mark.parametrize("text", ["in", "in the morning", "later", "ago", "hour ago"])
def test_words_without_an_amount_are_no_time(text):
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    assert "无法识别" in exc.value.field_messages()["occurred_at"]


@pytest.mark.parametrize("text", ["2h50m", "1.5h", "half an hour", "an hour", "90 min", "2 hours 50 minutes"])
def test_a_bare_english_amount_asks_which_way_and_each_answer_it_offers_reads(text):
    set_language("en")
    with pytest.raises(ValidationError) as exc:
        parse_time(text, now=T0, zone=SH, field="occurred_at")
    message = exc.value.field_messages()["occurred_at"]
    assert "ago or ahead" in message, message
    for answer in (f"-{text}", f"{text} ago", f"+{text}", f"in {text}"):
        assert answer in message, (answer, message)
        assert parse_time(answer, now=T0, zone=SH) != T0


async def test_the_form_echoes_english_relative_times(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press("tab", "ctrl+u", *"1.5h ago")
        assert "即 2026-11-25 08:30" in msg(form, "occurred_at")      # 10:00 − 1h30m
        await pilot.press("ctrl+u", *"half an hour ago")
        assert "即 2026-11-25 09:30" in msg(form, "occurred_at")
        await pilot.press("ctrl+u", *"1.5h")
        shown = msg(form, "occurred_at")
        assert "之前还是之后" in shown and "即" not in shown, shown
