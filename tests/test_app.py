"""The app starts on an empty default database, lists open incidents, and quits with ctrl+q."""
from datetime import timedelta

from textual.widgets import DataTable

from models.incidents import IncidentInput, create_incident
from models.context import Actor
from tests.conftest import T0, env_for, make_app, make_ctx
from tui.app import DutyApp


async def test_starts_on_empty_database_and_quits(tmp_path, clock):
    env = env_for(tmp_path / "fresh.db")
    app = DutyApp(env, clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "SetupScreen"   # nobody to log in as yet
        await pilot.press("ctrl+q")
    assert app.return_code == 0
    app = make_app(tmp_path / "fresh.db", clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 0
        assert "没有处置中的事件" in str(app.screen.query_one("#board-empty").render())
        await pilot.press("ctrl+q")
    assert (tmp_path / "fresh.db").exists()
    assert app.return_code == 0


async def test_lists_open_incident_with_its_next_deadline(tmp_path, clock):
    env = env_for(tmp_path / "b.db")
    ctx = make_ctx(env.store(), clock)
    create_incident(ctx, IncidentInput(title="学籍账号被盗", category="network_attack",
                                       occurred_at=T0 - timedelta(hours=1), discovered_at=T0 - timedelta(minutes=50)))
    app = DutyApp(env, clock=clock, actor=Actor(username="tester", role="officer"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        cols = [c.key.value for c in table.ordered_columns]
        row = dict(zip(cols, (str(c) for c in table.get_row_at(0))))
        assert row["code"].endswith("-001") and "学籍账号被盗" in row["title"]
        assert row["stage"].startswith("口头报告")
        # the oral report (30 min after discovery) is overdue by 20 minutes
        assert row["left"] == "超时 +20m" and row["state"] == "超时"
