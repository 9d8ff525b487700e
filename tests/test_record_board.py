"""Issue 12 on the board: a conditional stage in its last hour is shown; alarms of obligations no
longer owed (met, closed, not applicable) never show and never ask to be acknowledged."""
from datetime import timedelta

from textual.widgets import DataTable

from models.incidents import IncidentInput, create_incident
from models.reports import record_oral_report
from models.tables import AlarmState
from tests.conftest import T0, make_app, make_ctx


def _rows(table):
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def _tick(app, pilot):
    app.screen.tick()
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def _incident(ctx, **kw):
    data = dict(title="学籍账号被盗", category="network_attack", occurred_at=T0, discovered_at=T0)
    data.update(kw)
    return create_incident(ctx, IncidentInput(**data))


async def test_alarm_of_an_obligation_met_meanwhile_is_not_shown(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    inc = _incident(ctx)
    app.bell = lambda: None
    async with app.run_test(size=(80, 24)) as pilot:
        clock.set(T0 + timedelta(minutes=25))        # 5 min before the oral deadline: alarms fire
        await _tick(app, pilot)
        panel = app.screen.query_one("#board-alarm")
        assert panel.display and AlarmState.select().count() >= 1
        record_oral_report(ctx, inc, {"summary": "电话报告"}, recipient="王科长", at=clock.now())
        app.screen._dirty = True
        await _tick(app, pilot)
        await _tick(app, pilot)
        assert not panel.display                      # met: nothing to acknowledge
        assert AlarmState.select().where(AlarmState.acked_at.is_null()).count() >= 1   # not silently acked


async def test_conditional_cac_stage_shows_in_its_last_hour(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    _incident(ctx, grade=None)                       # grade undecided: CAC 4 h would run from discovery
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert not any("待定级" in " ".join(r) for r in _rows(table))       # 4 h out: not yet
        clock.set(T0 + timedelta(hours=3, minutes=20))
        app.screen._dirty = True
        await _tick(app, pilot)
        rows = _rows(table)
        cond = [r for r in rows if "待定级" in " ".join(r)]
        assert len(cond) == 1 and "14:00" in " ".join(cond[0])            # due 10:00 + 4 h, Shanghai
        assert len(rows) == 2                                              # the incident, and the sub-row


async def test_incident_screen_shows_conditional_and_grade_since_lowered(db_path, clock):
    from models.incidents import set_grade
    from screens.incident import IncidentScreen
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    inc = _incident(ctx, grade=None)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        table = screen.query_one("#stages", DataTable)
        state = str(table.get_cell("cac_2025|initial|1", "state"))
        assert "待定级" in state and "较大" in state
        assert "14:00" in str(table.get_cell("cac_2025|initial|1", "due"))   # its would-be deadline
        set_grade(ctx, inc.id, "III", "涉及全校学籍")
        clock.advance(hours=5)
        set_grade(ctx, inc.id, "IV", "复核后降级")
        screen.reload()
        await pilot.pause()
        state = str(table.get_cell("cac_2025|initial|1", "state"))
        assert "逾期未报" in state and "此后已降级" in state


async def test_a_late_call_in_the_dialog_asks_for_the_late_reason(db_path, clock):
    from textual.widgets import Input, Static
    from models.contacts import ensure_seeded
    from screens.contacts_forms import LogCallForm
    from models.tables import CallLog, Report
    app = make_app(db_path, clock, role="officer", username="li")
    ctx = make_ctx(app.store, clock)
    ensure_seeded(ctx)
    inc = _incident(ctx, occurred_at=T0 - timedelta(minutes=50), discovered_at=T0 - timedelta(minutes=45))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause(0.1)
        screen = app.screen
        bureau = next(c for c in screen_contacts() if c.role == "bureau")
        app.push_screen(LogCallForm(bureau, inc, "0874-3000000"))
        await pilot.pause()
        form = app.screen
        await pilot.press("1")                                    # reached
        form.query_one("#call-said").text = "报告学籍账号异常登录"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form                                  # oral due 15 min ago: why late?
        assert "迟报原因" in str(form.query_one("#call-errors", Static).render())
        assert CallLog.select().count() == 0
        form.query_one("#call-late", Input).value = "先断网处置"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is not form
        oral = Report.get(Report.stage == "oral")
        assert oral.late_reason == "先断网处置" and oral.status == "submitted"


def screen_contacts():
    from models.contacts import list_contacts
    return list_contacts()
