"""The handling-finished dialog at 80×24, keys only: Enter saves (its one field), and a time it cannot
read, or none, gets one message listing the formats the one time parser accepts (issue 15 item 4)."""
from __future__ import annotations

from datetime import timedelta

from textual.widgets import Static

from models.incidents import get_incident
from models.timeparse import time_formats
from tests.conftest import T0, make_app
from tests.test_incident_screen import open_incident, seed
from tests.ui_helpers import rendered, type_text
from tui.widgets.form_modal import FormModal


def _message(dialog) -> str:
    """The messages shown, without the line breaks and padding of their wrapping."""
    text = "".join(rendered(w) for w in dialog.query(Static) if w.has_class("-show") or w.id == "form-status")
    return "".join(text.split())


async def test_enter_saves_the_handling_finished_time(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("h")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        assert "Enter 或 Ctrl+S 保存" in rendered(app.screen.query_one("#form-keys"))   # and says so
        await pilot.press("ctrl+u")
        await type_text(pilot, "-5m")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, FormModal)
        assert get_incident(inc.id).handling_closed_at == T0 - timedelta(minutes=5)


async def test_an_unreadable_or_empty_time_gets_the_one_parser_message(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("h")
        await pilot.pause()
        dialog = app.screen
        await pilot.press("ctrl+u")
        await type_text(pilot, "abc")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog
        unreadable = _message(dialog)
        await pilot.press("ctrl+u", "enter")
        await pilot.pause()
        assert app.screen is dialog
        empty = _message(dialog)
        formats = "".join(time_formats().split())
        assert formats in unreadable and formats in empty, (unreadable, empty)
        assert "abc" in unreadable
        for text in (unreadable, empty):
            assert text.count(formats) == 1 and "now" not in text, text     # no second, different list
        assert get_incident(inc.id).handling_closed_at is None
