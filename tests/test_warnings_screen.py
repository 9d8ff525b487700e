"""The warnings screen at 80×24: tick a department's action, record and lift a warning."""
from datetime import timedelta

from textual.widgets import DataTable, Input, TextArea

from models.tables import Warning, WarningAction
from models.warnings import add_warning
from tests.conftest import T0, make_app, make_ctx


async def test_tick_an_action_and_lift(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    w = add_warning(ctx, "red", source="县教育局", content="勒索病毒攻击预警", valid_until=T0 + timedelta(days=3),
                    actions=[("教务处", "排查终端"), ("学籍管理员", "更换口令")])
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.open_screen("warnings")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#warnings-table", DataTable)
        assert table.row_count == 1 and "红色预警" in str(table.get_row_at(0)[0])
        await pilot.press("tab", "down", "space")
        await pilot.pause()
        done = WarningAction.get(WarningAction.action == "更换口令")
        assert done.done_by == "tester" and done.done_at == T0
        assert str(table.get_row_at(0)[4]) == "1/2"
        await pilot.press("l")
        await pilot.pause()
        app.screen.query_one(Input).value = "县教育局通知解除"
        await pilot.press("enter")
        await pilot.pause()
        lifted = Warning.get_by_id(w.id)
        assert lifted.lifted_by == "tester" and lifted.lifted_at == T0
        assert table.row_count == 0     # only active ones unless 'a'
        await pilot.press("a")
        await pilot.pause()
        assert table.row_count == 1 and "已解除" in str(table.get_row_at(0)[1])


async def test_record_a_new_warning_and_refuse_bad_input(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.open_screen("warnings")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "预警内容" in str(form.query_one("#nw-error").render())
        assert Warning.select().count() == 0
        form.query_one("#nw-content", TextArea).text = "近期钓鱼邮件冒充上级通知"
        form.query_one("#nw-until", Input).value = "+2d"
        actions = form.query_one("#nw-actions", TextArea)
        assert actions.text.count("\n") == 4 and actions.text.startswith("教务处：")
        actions.text = "教务处：核查全部终端\n没有部门的一行"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "部门:措施" in str(form.query_one("#nw-error").render()) and Warning.select().count() == 0
        actions.text = actions.text.replace("\n没有部门的一行", "\n学籍管理员: 暂停数据导出")
        await pilot.press("ctrl+s")
        await pilot.pause()
        w = Warning.get()
        assert w.level == "yellow" and w.source == "县教育局基教科" and w.valid_until == T0 + timedelta(days=2)
        assert [(a.department, a.action) for a in WarningAction.select().order_by(WarningAction.id)] == [
            ("教务处", "核查全部终端"), ("学籍管理员", "暂停数据导出")]
        table = app.screen.query_one("#warnings-table", DataTable)
        assert table.row_count == 1
