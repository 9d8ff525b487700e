"""Type-ahead lands where it was typed (issue 15 item 3): a burst of keys read at once."""
from textual.widgets import Input

from screens.new_incident import NewIncidentScreen
from tests.conftest import make_app
from tests.ui_helpers import burst, wait_for


async def test_a_burst_with_tabs_fills_each_field_of_the_new_incident_form(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("new_incident")
        await pilot.pause(0.3)
        form = app.screen
        assert isinstance(form, NewIncidentScreen)
        form.query_one("#location", Input).focus()
        await pilot.pause()
        burst(app, "地点AAA\t系统BBB\t")
        asset = form.query_one("#asset", Input)
        # Keys are read one at a time (tui.type_ahead): wait for the last, then look where each went.
        assert await wait_for(pilot, lambda: app.focused is not asset and asset.value, timeout=5.0)
        assert form.query_one("#location", Input).value == "地点AAA"
        assert asset.value == "系统BBB"
