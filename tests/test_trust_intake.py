"""Issue 15 at 80×24: ticks readable without colour and personal information answered 是 / 否 / 不确定."""
from datetime import timedelta

from textual.widgets import Input

from models.incidents import IncidentInput, create_incident, incident_obligations, update_incident
from models.tables import Incident
from screens.new_incident import NewIncidentScreen
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text


async def _form(app, pilot):
    await pilot.pause()
    app.open_screen("new_incident")
    await pilot.pause(0.3)
    assert isinstance(app.screen, NewIncidentScreen)
    return app.screen


def _pipl(ctx, inc):
    return {o.stage: o for o in incident_obligations(ctx, inc) if o.regime == "pipl"}


async def test_personal_information_must_be_answered_and_unsure_runs_the_clocks(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _form(app, pilot)
        # Three explicit answers, none chosen: readable as text, not by colour.
        assert "[ ] 是  [ ] 否  [ ] 不确定" in screen_text(app)
        form.query_one("#title", Input).value = "勒索病毒加密学籍服务器"
        form.query_one("#category").set_value(("malware", None), "恶意程序事件")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Incident.select().count() == 0
        assert "是 / 否 / 不确定" in screen_text(app)
        assert app.focused.id == "personal_info"
        await pilot.press("u")
        await pilot.pause()
        assert "[ ] 是  [ ] 否  [x] 不确定" in screen_text(app)
        await form.action_save()
        await pilot.pause()
        confirm = getattr(form, "confirm_pending", None)
        if confirm:                       # a one-line summary to confirm (issue 15 item 4)
            await pilot.press("enter")
            await pilot.pause()
    inc = Incident.get()
    assert inc.personal_info_unsure is True and inc.personal_info_answer is None
    ctx = make_ctx(app.store, clock)
    assert _pipl(ctx, inc)["authority_notice"].state == "pending"      # the PIPL clocks run


def test_unsure_runs_pipl_until_decided(store, clock):
    ctx = make_ctx(store, clock)
    base = dict(title="疑似泄露", category="malware", occurred_at=T0 - timedelta(hours=1), discovered_at=T0)
    unsure = create_incident(ctx, IncidentInput(**base, personal_info=None))
    no = create_incident(ctx, IncidentInput(**base, personal_info=False))
    assert _pipl(ctx, unsure)["authority_notice"].state == "pending"
    assert _pipl(ctx, no)["authority_notice"].state == "not_applicable"
    decided = update_incident(ctx, unsure.id, unsure.version, {"personal_info": False})
    assert decided.personal_info_unsure is False and decided.personal_info is False
    assert _pipl(ctx, decided)["authority_notice"].state == "not_applicable"
    back = update_incident(ctx, decided.id, decided.version, {"personal_info": None})
    assert back.personal_info_answer is None and _pipl(ctx, back)["authority_notice"].state == "pending"
    # The board reads the same answer.
    from models.board import snapshot
    data = snapshot(ctx, clock.now())
    assert any(o.regime == "pipl" and o.state == "pending" for o in data.obligations[unsure.id])


async def test_checkboxes_read_without_colour(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("checks")
        await pilot.pause()
        await pilot.press("n")            # a new duty: its 'active' box starts ticked
        await pilot.pause()
        assert "[x]" in screen_text(app)


async def test_the_confirmation_is_one_line_at_80_columns(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await _form(app, pilot)
        form.query_one("#title", Input).value = "勒索病毒加密学籍服务器并索要比特币赎金"
        form.query_one("#occurred_at", Input).value = "昨天15:00"
        form.query_one("#discovered_at", Input).value = "-10m"
        form.query_one("#delay_reason", Input).value = "夜间无人值守"
        form.query_one("#category").set_value(("malware", None), "恶意程序事件")
        form.query_one("#personal_info").value = "unsure"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        summary = app.screen.query_one("#confirm-summary")
        assert summary.content_size.height == 1           # (its border-top is the second row)
        assert "11-24 15:00" in screen_text(app)          # not today: with its date
        await pilot.press("escape")                         # back to the form: nothing recorded
        await pilot.pause()
        assert Incident.select().count() == 0 and app.screen is form
