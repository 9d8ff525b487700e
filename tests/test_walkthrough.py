"""End to end at 80×24, keyboard only: one incident from intake to closure, the board following.

new → oral → first → follow-up → continuing → handled → final → closed. The incident is typed
into the new-incident form (``n`` on the board), each stage is opened from the incident
screen's stage list and typed into the report screen (F3 jumps to the next missing field, F5
submits), handling is marked with ``h`` and the incident closed with ``c``. After every step the
board, re-read as it does by itself when the database changes, shows that obligation met and
the next one open.
"""
from datetime import timedelta

from textual.widgets import DataTable, Input, TextArea

from models.tables import Incident, Report
from tests.conftest import T0, make_app


async def _board_states(app, pilot):
    """Back to the board and what it now shows for the incident."""
    while type(app.screen).__name__ != "BoardScreen":
        await pilot.press("escape")
        await pilot.pause()
    board = app.screen
    board.tick()                                   # its one-second tick: data_version moved → re-read
    await app.workers.wait_for_complete()
    await pilot.pause()
    inc = Incident.get()
    obls = board._data.obligations.get(inc.id, [])
    return {(o.stage, o.seq): o.state for o in obls if o.regime == "school_plan"}, board


async def _open_incident_from_board(app, pilot):
    await pilot.press("enter")
    await pilot.pause(0.1)
    assert type(app.screen).__name__ == "IncidentScreen"
    return app.screen


async def _open_stage(app, pilot, incident, key):
    table = incident.query_one("#stages", DataTable)
    table.focus()
    await pilot.pause()
    keys = [r.key.value for r in table.ordered_rows]
    assert key in keys, keys
    await pilot.press("home")
    for _ in range(keys.index(key)):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()
    screen = app.screen
    assert type(screen).__name__ == "ReportScreen", screen
    return screen


async def _fill_and_submit(app, pilot, screen, recipient="县教育局基教科王科长"):
    for _ in range(30):                     # F3 focuses the first missing field; type into it
        await pilot.press("f3")
        await pilot.pause()
        if not screen.query(".-missing"):
            break
        assert isinstance(app.focused, (Input, TextArea)), app.focused
        await pilot.press("o", "k")
    else:
        raise AssertionError("check never came back clean")
    await pilot.press("f5")
    await pilot.pause()
    dialog = app.screen
    assert type(dialog).__name__ == "SubmitDialog"
    if not dialog.query_one("#submit-recipient", Input).value:
        await pilot.press(*list(recipient))
    await pilot.press("ctrl+s")                 # Enter would move to the next field
    await pilot.pause()
    assert app.screen is screen and screen.report.status == "submitted"
    return screen.report


async def _stage(app, pilot, key):
    incident = await _open_incident_from_board(app, pilot)
    screen = await _open_stage(app, pilot, incident, key)
    return await _fill_and_submit(app, pilot, screen)


async def test_walkthrough_new_to_closed_with_the_board(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # new: typed into the form the board opens with n
        await pilot.press("n")
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "NewIncidentScreen"
        await pilot.press(*"学籍账号异常登录")
        await pilot.press("tab", "ctrl+u", *"-30m")            # occurred
        await pilot.press("tab", "ctrl+u", *"-10m")            # discovered
        await pilot.press("tab", *"教务处学籍终端", "tab", *"学籍系统", "tab")
        await pilot.press(*"credential", "enter")              # category by its English name
        await pilot.press("ctrl+u", *"一般", "enter")           # preliminary grade
        await pilot.press("n", "tab", *"值班员", "tab", *"管理员账号异地登录")   # personal info: 否
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        await pilot.press("enter")                              # the one-line summary confirmed
        await pilot.pause(0.1)
        assert type(app.screen).__name__ == "IncidentScreen"
        inc = Incident.get()
        assert inc.occurred_at == T0 - timedelta(minutes=30) and inc.category == "network_attack"
        states, board = await _board_states(app, pilot)
        assert board.table.row_count == 1
        assert states[("oral", 1)] == "due_soon" and states[("first", 1)] == "pending"
        assert states[("follow_up", 1)] == "waiting"

        clock.advance(minutes=5)
        await _stage(app, pilot, "school_plan|oral|1")
        states, _ = await _board_states(app, pilot)
        assert states[("oral", 1)] == "met" and states[("first", 1)] == "pending"

        clock.advance(minutes=40)
        await _stage(app, pilot, "school_plan|first|1")
        states, _ = await _board_states(app, pilot)
        assert states[("first", 1)] == "met"
        assert states[("follow_up", 1)] == "pending"             # its clock started at the first report

        clock.advance(hours=20)
        await _stage(app, pilot, "school_plan|follow_up|1")
        states, _ = await _board_states(app, pilot)
        assert states[("follow_up", 1)] == "met" and states[("continuing", 1)] == "pending"

        clock.advance(hours=23)
        continuing = await _stage(app, pilot, "school_plan|continuing|1")
        assert continuing.seq == 1
        states, _ = await _board_states(app, pilot)
        assert states[("continuing", 2)] == "pending"            # the next one in the series
        assert states[("final", 1)] == "waiting"

        # handled, from the incident screen
        clock.advance(hours=3)
        incident = await _open_incident_from_board(app, pilot)
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("enter")                               # at: now (the form's default)
        await pilot.pause()
        assert Incident.get().status == "handled"
        states, _ = await _board_states(app, pilot)
        assert states[("continuing", 2)] == "not_applicable" and states[("final", 1)] == "pending"

        clock.advance(days=2)
        await _stage(app, pilot, "school_plan|final|1")
        states, board = await _board_states(app, pilot)
        assert states[("final", 1)] == "met"
        assert not [s for s in states.values() if s in ("overdue", "due_soon", "pending")]

        # closed, from the incident screen: it leaves the board
        incident = await _open_incident_from_board(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Incident.get().status == "closed"
        states, board = await _board_states(app, pilot)
        assert board.table.row_count == 0
    stages = [(r.stage, r.seq, r.status) for r in Report.select().order_by(Report.id)]
    assert stages == [("oral", 1, "submitted"), ("first", 1, "submitted"), ("follow_up", 1, "submitted"),
                      ("continuing", 1, "submitted"), ("final", 1, "submitted")]
