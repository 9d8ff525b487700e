"""End to end at 80×24: one incident from intake to closure, and the board following every step.

new → oral → first → follow-up → continuing → handled → final → closed. The report stages are
typed from the keyboard into the report screen (F3 jumps to the next missing field, F5 submits);
after each step the board, re-read as it does on its own when the database changes, shows the
obligation met and the next one open.
"""
from datetime import timedelta

from textual.widgets import Input, TextArea

from models.incidents import IncidentInput, close_incident, create_incident, get_incident, mark_handled
from models.tables import Report
from tests.conftest import T0, make_app


async def _board_states(app, pilot, inc_id):
    board = app.screen
    assert type(board).__name__ == "BoardScreen"
    board.tick()
    await app.workers.wait_for_complete()
    await pilot.pause()
    obls = board._data.obligations.get(inc_id, [])
    return {(o.regime, o.stage, o.seq): o.state for o in obls}, board


async def _fill_and_submit(app, pilot, stage, seq=None, recipient="县教育局基教科王科长"):
    app.open_screen("report", 1, "school_plan", stage, seq)
    await pilot.pause()
    await pilot.pause()
    screen = app.screen
    assert type(screen).__name__ == "ReportScreen" and screen.report.stage == stage
    for _ in range(30):                      # F3 focuses the first missing field; type into it
        await pilot.press("f3")
        await pilot.pause()
        if not screen.query(".-missing"):
            break
        focused = app.focused
        assert isinstance(focused, (Input, TextArea)), focused
        await pilot.press("o", "k")
    else:
        raise AssertionError("check never came back clean")
    await pilot.press("f5")
    await pilot.pause()
    dialog = app.screen
    assert type(dialog).__name__ == "SubmitDialog"
    rec = dialog.query_one("#submit-recipient", Input)
    if not rec.value:
        await pilot.press(*list(recipient))
    await pilot.press("enter")
    await pilot.pause()
    assert app.screen is screen, "submit dialog did not close"
    assert screen.report.status == "submitted"
    await pilot.press("escape")
    await pilot.pause()
    return screen.report


async def test_walkthrough_new_to_closed_with_the_board(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ctx = app.ctx
        # new (the new-incident form belongs to the incidents feature; its service is the same)
        inc = create_incident(ctx, IncidentInput(
            title="学籍账号异常登录", category="network_attack", grade="IV",
            occurred_at=T0 - timedelta(minutes=30), discovered_at=T0 - timedelta(minutes=10),
            location="教务处学籍终端", reported_by="值班员", description="管理员账号异地登录"))
        states, board = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "oral", 1)] == "due_soon"
        assert states[("school_plan", "first", 1)] == "pending"
        assert states[("school_plan", "follow_up", 1)] == "waiting"
        assert board.table.row_count == 1

        # oral, 5 minutes later
        clock.advance(minutes=5)
        await _fill_and_submit(app, pilot, "oral")
        states, _ = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "oral", 1)] == "met"
        assert states[("school_plan", "first", 1)] == "pending"

        # first report, within the 3 hours
        clock.advance(minutes=40)
        await _fill_and_submit(app, pilot, "first")
        states, _ = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "first", 1)] == "met"
        assert states[("school_plan", "follow_up", 1)] == "pending"   # its clock started at the first report

        # follow-up, next morning
        clock.advance(hours=20)
        await _fill_and_submit(app, pilot, "follow_up")
        states, _ = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "follow_up", 1)] == "met"
        assert states[("school_plan", "continuing", 1)] == "pending"

        # continuing 续报一
        clock.advance(hours=23)
        first_continuing = await _fill_and_submit(app, pilot, "continuing")
        assert first_continuing.seq == 1
        states, _ = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "continuing", 2)] == "pending"  # the next one in the series
        assert states[("school_plan", "final", 1)] == "waiting"

        # handled
        clock.advance(hours=3)
        mark_handled(ctx, inc.id)
        states, _ = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "continuing", 2)] == "not_applicable"
        assert states[("school_plan", "final", 1)] == "pending"

        # final
        clock.advance(days=2)
        await _fill_and_submit(app, pilot, "final")
        states, board = await _board_states(app, pilot, inc.id)
        assert states[("school_plan", "final", 1)] == "met"
        assert not [s for s in states.values() if s in ("overdue", "due_soon", "pending")]

        # closed: it leaves the board
        close_incident(ctx, inc.id)
        states, board = await _board_states(app, pilot, inc.id)
        assert get_incident(inc.id).status == "closed"
        assert board.table.row_count == 0
        stages = [(r.stage, r.seq, r.status) for r in Report.select().order_by(Report.id)]
        assert stages == [("oral", 1, "submitted"), ("first", 1, "submitted"), ("follow_up", 1, "submitted"),
                          ("continuing", 1, "submitted"), ("final", 1, "submitted")]
