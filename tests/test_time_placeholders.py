"""A time field's placeholder names the forms the time message names, in the same words, from one
place in the catalogue (``time.examples``, the head of ``time.formats``), and fits its field at 80×24."""
import pytest
from rich.cells import cell_len
from textual.widgets import Input

from models.i18n import set_language
from models.timeparse import time_examples, time_formats
from tests.conftest import make_app
from tests.test_inputs_visible import SCENARIOS
from tests.test_new_incident_screen import msg, open_form

# Every one-line time field a form shows, by the scenario that opens it.
TIME_INPUTS = {"new_incident": ("occurred_at", "discovered_at"), "edit_incident": ("occurred_at", "discovered_at"),
               "report_submit": ("submit-at",), "call_log": ("call-at",), "check_edit": ("ec-due",),
               "warning_new": ("nw-until",)}


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_placeholder_is_the_head_of_the_message(db_path, clock, lang):
    app = make_app(db_path, clock)
    set_language(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        field = form.query_one("#occurred_at", Input)
        assert field.placeholder == time_examples()
        await pilot.press("tab", "ctrl+u", *"abc")
        shown = "".join(msg(form, "occurred_at").split())
        assert "".join(time_formats().split()) in shown, shown
        assert "".join(field.placeholder.split()) in shown          # the same forms, the same words
        if lang == "zh":
            assert "now" not in field.placeholder and "现在" in field.placeholder
        else:
            assert "now" in field.placeholder and "现在" not in shown


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(TIME_INPUTS))
async def test_each_time_placeholder_fits_its_field(db_path, clock, name, lang):
    app = make_app(db_path, clock)
    set_language(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await SCENARIOS[name](app, pilot, clock)
        await pilot.pause(0.4)
        for id_ in TIME_INPUTS[name]:
            field = app.screen.query_one(f"#{id_}", Input)
            width = field.content_region.width
            assert width and cell_len(field.placeholder) <= width, (id_, width, field.placeholder)
