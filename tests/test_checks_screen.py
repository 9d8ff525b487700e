"""The checks screen at 80×24: due first, completing a check moves its due date, findings are required."""
from datetime import timedelta

from textual.widgets import DataTable, SelectionList, TextArea

from models.cadence import local_day
from models.checks import add_check, get_check
from models.tables import CheckRun, Incident
from tests.conftest import SH, T0, make_app, make_ctx


async def _open_checks(app, pilot):
    assert app.open_screen("checks")
    await pilot.pause()
    return app.screen


async def test_complete_a_check_from_the_list(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    today = local_day(T0, SH)
    chk = add_check(ctx, "学籍终端巡检", "weekly", checklist=["杀毒软件", "补丁"], first_due=today - timedelta(days=1))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_checks(app, pilot)
        table = screen.query_one(DataTable)
        # The overdue one is first, above the seven shipped duties.
        assert table.row_count == 8
        assert "学籍终端巡检" in str(table.get_row_at(0)[2]) and "逾期 1 天" in str(table.get_row_at(0)[1])
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert form.query_one(SelectionList).selected == [0, 1]
        await pilot.press("space")          # untick the first item
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "发现的问题" in str(form.query_one("#complete-error").render())
        assert CheckRun.select().count() == 0
        form.query_one(TextArea).text = "病毒库过期两周"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        run = CheckRun.get()
        assert run.items == {"杀毒软件": False, "补丁": True} and run.findings == "病毒库过期两周"
        assert local_day(get_check(chk.id).next_due_at, SH) == today + timedelta(days=6)
        assert "6 天后到期" in str(table.get_row_at(table.get_row_index(str(chk.id)))[1])


async def test_a_finding_can_open_an_incident(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    add_check(ctx, "五看", "daily", checklist=["三看数据导出"], first_due=local_day(T0, SH))
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_checks(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        form.query_one(TextArea).text = "发现一次未登记的导出"
        form.query_one("#complete-incident").value = True
        form.query_one("#complete-fu-title").value = "补登台账"
        await pilot.press("ctrl+s")
        await pilot.pause()
        inc = Incident.get()
        assert inc.title == "五看：发现一次未登记的导出" and inc.category == "security_hazard"
        assert CheckRun.get().incident_id == inc.id and CheckRun.get().follow_up_id is not None
