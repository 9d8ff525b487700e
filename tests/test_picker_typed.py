"""A choice typed rather than picked: the text that names exactly one choice is that choice,
spaces around it aside (a stray space after 未定 once refused the whole new-incident form with
未知等级"未定 "). Anything else still reaches the domain as typed, and is refused there."""
import pytest
from textual.widgets import Static

from models.tables import Incident
from screens.incident import IncidentScreen
from tests.conftest import make_app
from tests.test_new_incident_screen import open_form


async def _record(app, pilot, grade_typed: str, category_typed: str):
    form = await open_form(app, pilot)
    await pilot.press(*"学籍系统勒索病毒", "tab", "tab", "tab", *"教务处", "tab", *"学籍专用电脑", "tab")
    await pilot.press(*category_typed)
    await pilot.press("tab", "tab")                       # past the subcategory, without picking
    form.query_one("#grade-input").value = grade_typed    # typed over, never picked
    await pilot.press("tab", "right", "space", "tab", *"王丽")   # personal info: no
    await pilot.press("ctrl+s")
    await pilot.pause(0.2)
    return form


@pytest.mark.parametrize("typed, stored", [("未定 ", None), (" II 重大 ", "II")])
async def test_a_choice_typed_with_stray_spaces_is_that_choice(db_path, clock, typed, stored):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _record(app, pilot, typed, "恶意程序事件 ")
        assert str(form.query_one("#msg-grade", Static).render()) == ""
        await pilot.press("enter")                        # the confirmation
        await pilot.pause(0.2)
        assert isinstance(app.screen, IncidentScreen)
    inc = Incident.get()
    assert inc.grade == stored and inc.category == "malware"


async def test_a_text_that_names_no_choice_is_still_refused_with_its_value(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _record(app, pilot, "未定吧", "恶意程序事件")
        assert "未定吧" in str(form.query_one("#msg-grade", Static).render())
        assert Incident.select().count() == 0


async def test_a_relative_time_means_before_the_typing_not_before_the_save(db_path, clock):
    """"-40m" typed, then ten minutes over the rest of the form: the incident happened 40
    minutes before the typing (as the hint said then), and the draft written meanwhile keeps
    that instant too. Before, both were read against the moment of saving: the 3-hour clock
    drifted by the time spent on the form."""
    from datetime import timedelta
    from models.drafts import load_draft
    from tests.conftest import T0, make_ctx
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press(*"学籍系统勒索病毒", "tab", "ctrl+u", *"-40m", "tab")
        assert "09:20" in str(form.query_one("#msg-occurred_at", Static).render())
        clock.advance(minutes=10)
        await pilot.press("tab", *"教务处", "tab", *"学籍专用电脑", "tab", *"恶意程序事件", "enter")
        form.autosave()
        draft = load_draft(make_ctx(app.store, clock), "new_incident")
        assert draft["occurred_at"].endswith("09:20")
        await pilot.press("tab", "tab", "right", "space", "tab", *"王丽")
        assert "09:20" in str(form.query_one("#msg-occurred_at", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, IncidentScreen)
    inc = Incident.get()
    assert inc.occurred_at == T0 - timedelta(minutes=40)
