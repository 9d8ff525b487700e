"""Every one-line input shows its text while focused, in every screen and dialog (issue 15 item 2).

A one-line input given ``border: none; height: 1`` but not the same on ``:focus`` took Textual's
``tall`` border when focused and collapsed to it: the text was typed blind. Each form is opened
the way the officer opens it; each visible input is focused in turn and must show its text."""
from datetime import timedelta

import pytest
from textual.widgets import Input

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_ready, screen_text

MARK = "Zq9"


def _incident(app, clock):
    ctx = make_ctx(app.store, clock)
    return create_incident(ctx, IncidentInput(title="学籍服务器异常", category="malware",
                                              occurred_at=T0 - timedelta(minutes=30), discovered_at=T0,
                                              personal_info=True))


async def _incident_action(app, pilot, clock, action):
    inc = _incident(app, clock)
    app.open_screen("incident", inc.id)
    await screen_ready(app)
    getattr(app.screen, action)()


async def _report(app, pilot, clock, submit=False):
    inc = _incident(app, clock)
    app.open_screen("report", inc.id, "school_plan", "first", 1)
    await screen_ready(app)
    if submit:                     # the dialog as F5 opens it on a complete, late report
        from screens.report import SubmitDialog
        app.push_screen(SubmitDialog(app.screen.report, late=True, recipient="教育局"))
        await screen_ready(app)
        assert isinstance(app.screen, SubmitDialog)


async def _contacts(app, pilot, clock, action):
    inc = _incident(app, clock)
    app.open_screen("contacts", inc.id)
    await screen_ready(app)
    getattr(app.screen, action)()


async def _checks(app, pilot, clock, key):
    app.open_screen("checks")
    await screen_ready(app)
    await pilot.press(key)


async def _warnings(app, pilot, clock, key):
    app.open_screen("warnings")
    await screen_ready(app)
    await pilot.press(key)


async def _screen(app, pilot, clock, name, *args):
    if args == ("incident",):
        args = (_incident(app, clock).id,)
    app.open_screen(name, *args)
    await screen_ready(app)


SCENARIOS = {
    "new_incident": lambda a, p, c: _screen(a, p, c, "new_incident"),
    "edit_incident": lambda a, p, c: _incident_action(a, p, c, "action_edit"),
    "grade": lambda a, p, c: _incident_action(a, p, c, "action_grade"),
    "evidence": lambda a, p, c: _incident_action(a, p, c, "action_evidence"),
    "handled": lambda a, p, c: _incident_action(a, p, c, "action_handled"),
    "withdraw": lambda a, p, c: _incident_action(a, p, c, "action_withdraw"),
    "report": lambda a, p, c: _report(a, p, c),
    "report_submit": lambda a, p, c: _report(a, p, c, submit=True),
    "call_log": lambda a, p, c: _contacts(a, p, c, "action_log_call"),
    "contact_edit": lambda a, p, c: _contacts(a, p, c, "action_edit"),
    "check_complete": lambda a, p, c: _checks(a, p, c, "enter"),
    "check_edit": lambda a, p, c: _checks(a, p, c, "e"),
    "warning_new": lambda a, p, c: _warnings(a, p, c, "n"),
    "password": lambda a, p, c: _screen(a, p, c, "password"),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_each_input_shows_its_text_while_focused(db_path, clock, name):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await SCENARIOS[name](app, pilot, clock)
        await screen_ready(app)
        await pilot.pause()
        inputs = [i for i in app.screen.query(Input) if i.display and i.parent.display and i.region.height]
        assert inputs, f"{name}: no input on screen"
        blind = []
        for widget in inputs:
            if widget.disabled or not widget.focusable:
                continue
            widget.focus()
            widget.value = MARK
            await pilot.pause()
            app.screen.scroll_to_widget(widget, animate=False) if hasattr(app.screen, "scroll_to_widget") else None
            await pilot.pause()
            shown = "•" * len(MARK) if widget.password else MARK
            if shown not in screen_text(app):
                blind.append(widget.id)
            widget.value = ""
        assert not blind, f"{name}: typed blind in {blind}"
