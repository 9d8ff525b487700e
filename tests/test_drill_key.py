"""``d 演练`` (the drill's summary) is offered only on a drill: on any other incident ``?`` help and
the command palette leave it out, and the key pressed says why instead of doing nothing."""
from datetime import timedelta

from textual.widgets import DataTable

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_ready, wait_for
from tui.palette import BindingCommands


def make(app, clock, drill: bool):
    return create_incident(make_ctx(app.store, clock), IncidentInput(
        title="学籍数据泄露", category="data_security", occurred_at=T0 - timedelta(minutes=30),
        discovered_at=T0 - timedelta(minutes=20), is_drill=drill))


def help_keys(app) -> dict[str, str]:
    table = app.screen.query_one("#help-table", DataTable)
    return {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}


async def open_incident(app, pilot, inc):
    app.open_screen("incident", inc.id)
    await pilot.pause()
    await screen_ready(app)
    return app.screen


async def test_d_on_an_incident_that_is_not_a_drill_is_not_offered_and_says_why(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        inc = make(app, clock, drill=False)
        screen = await open_incident(app, pilot, inc)
        assert "演练" not in [name for name, _, _ in BindingCommands(screen)._entries()]
        await pilot.press("question_mark")
        await pilot.pause()
        assert "d" not in help_keys(app), help_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await wait_for(pilot, lambda: bool(app._notifications))
        assert app.screen is screen
        assert any("不是演练" in str(n.message) for n in app._notifications), list(app._notifications)


async def test_d_on_a_drill_is_offered_and_opens_its_summary(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = make(app, clock, drill=True)
        screen = await open_incident(app, pilot, inc)
        assert "演练" in [name for name, _, _ in BindingCommands(screen)._entries()]
        await pilot.press("question_mark")
        await pilot.pause()
        assert help_keys(app).get("d") == "演练", help_keys(app)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert type(app.screen).__name__ == "DrillScreen"
