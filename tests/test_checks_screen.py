"""The checks screen at 80×24: due first, completing a check moves its due date, findings are required."""
from datetime import timedelta

from textual.widgets import DataTable, SelectionList, TextArea

from models.cadence import local_day
from models.checks import add_check, get_check
from models.tables import CheckRun, Incident
from tests.conftest import SH, T0, make_app, make_ctx


def _plain(app) -> str:
    """What the terminal shows, without colour."""
    from tests.ui_helpers import screen_text
    return screen_text(app)


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
        # Every item starts unticked, and the state is a character, not a colour.
        assert form.query_one(SelectionList).selected == []
        assert "[ ]" in _plain(app) and "[x]" not in _plain(app)
        await pilot.press("ctrl+s")          # nothing ticked, no findings: refused
        await pilot.pause()
        assert CheckRun.select().count() == 0
        await pilot.press("down", "space")   # tick the second item only
        await pilot.pause()
        assert "[x] 补丁" in _plain(app) and "[ ] 杀毒软件" in _plain(app)
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


async def test_what_was_typed_survives_a_dropped_session(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    add_check(ctx, "五看", "daily", checklist=["一看人", "二看账号"], first_due=local_day(T0, SH)).id
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_checks(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("space")                   # tick the first item
        app.screen.query_one(TextArea).text = "账号借给了班主任"
        app.screen._save_draft()                     # what the 3-second timer does
    app.store.close()                                # the SSH connection drops here
    app2 = make_app(db_path, clock)
    async with app2.run_test(size=(80, 24)) as pilot:
        await _open_checks(app2, pilot)
        await pilot.press("enter")
        await pilot.pause()
        form = app2.screen
        assert form.query_one(TextArea).text == "账号借给了班主任"
        assert form.query_one(SelectionList).selected == [0]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert CheckRun.get().items == {"一看人": True, "二看账号": False}
    from models.tables import Draft
    assert Draft.select().count() == 0               # saved: the draft is gone


async def test_locked_session_hides_checks_and_warnings(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    add_check(ctx, "学籍终端巡检", "daily", first_due=local_day(T0, SH))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_checks(app, pilot)
        app.locked = True
        await pilot.pause()
        assert not screen.query_one(DataTable).display
        assert "学籍终端巡检" not in str(screen.query_one("#checks-detail").render()) or \
            not screen.query_one("#checks-detail").display
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen                  # nothing opens while locked
        app.locked = False
        await pilot.pause()
        assert screen.query_one(DataTable).display and screen.query_one(DataTable).row_count == 8


async def test_edit_a_shipped_duty_and_add_one(db_path, clock):
    from textual.widgets import Input
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_checks(app, pilot)
        table = screen.query_one(DataTable)
        hazard = get_check("hazard_check")
        table.move_cursor(row=table.get_row_index(str(hazard.id)))
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        form.query_one("#ec-due", Input).value = "2026-11-30"
        form.query_one("#ec-responsible", Input).value = "张勤"
        await pilot.press("ctrl+s")
        await pilot.pause()
        edited = get_check("hazard_check")
        assert edited.responsible == "张勤" and local_day(edited.next_due_at, SH).isoformat() == "2026-11-30"
        assert edited.title == hazard.title and edited.checklist == hazard.checklist   # untouched stays
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#ec-title", Input).value = "机房温湿度记录"
        form.query_one("#ec-items").text = "温度\n湿度"
        await pilot.press("ctrl+s")
        await pilot.pause()
        from models.tables import Check
        new = Check.get(Check.title == "机房温湿度记录")
        assert new.cadence == "monthly" and new.checklist == ["温度", "湿度"]
        assert table.row_count == 8


async def test_an_officer_cannot_change_the_schedule(db_path, clock):
    from textual.widgets import Input
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await _open_checks(app, pilot)
        await pilot.press("n")                      # dimmed in the footer: refused at once, no form
        await pilot.pause()
        assert app.screen is screen
        assert any("权限不足" in str(n.message) and "领导" in str(n.message) for n in app._notifications)
        # The form itself still refuses an officer's save (opened another way).
        from screens.checks import EditCheckScreen
        app.push_screen(EditCheckScreen(None))
        await pilot.pause()
        app.screen.query_one("#ec-title", Input).value = "x"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "权限不足" in str(app.screen.query_one("#complete-error").render())


async def test_bindings_are_in_the_command_palette(db_path, clock):
    from tui.palette import BindingCommands
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_checks(app, pilot)
        assert BindingCommands in screen.COMMANDS
        provider = BindingCommands(screen)
        names = [name for name, _, _ in provider._entries()]
        assert "完成检查" in names and "修改" in names
