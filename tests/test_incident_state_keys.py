"""The incident's state keys follow its status, as the services do: ``c 结案`` is dimmed until
handling is marked finished (pressed, it says so), ``h 处置结束`` goes once it is marked, and on a
closed incident neither 处置结束, 结案 nor 撤销 is offered; pressed, each says why."""
from datetime import timedelta

from textual.widgets._footer import FooterKey

from models.incidents import IncidentInput, close_incident, create_incident, mark_handled, set_grade
from tests.conftest import T0, make_app, make_ctx
from tests.test_role_keys import footer_drawn
from tests.ui_helpers import screen_ready, screen_text, wait_for


def footer(app) -> dict[str, bool]:
    """Footer key → shown enabled."""
    return {k.key_display or k.key: not k.has_class("-disabled") for k in app.screen.query(FooterKey)}


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def open_incident(app, pilot, inc):
    app.open_screen("incident", inc.id)
    await pilot.pause()
    await screen_ready(app)
    await footer_drawn(app, pilot)
    return app.screen


def seed(app, clock):
    ctx = make_ctx(app.store, clock, role="leader")
    inc = create_incident(ctx, IncidentInput(title="学籍账号异常登录", category="network_attack",
                                             occurred_at=T0 - timedelta(minutes=50), discovered_at=T0 - timedelta(minutes=20)))
    set_grade(ctx, inc.id, "IV", "领导定为一般")
    return ctx, inc


async def test_close_waits_for_handling_and_handled_goes_once_marked(db_path, clock):
    app = make_app(db_path, clock, role="leader")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        keys = footer(app)
        assert keys["h"] is True and keys["c"] is False, keys      # 结案 shown dimmed: not yet
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is screen and any("处置结束" in n for n in notices(app)), notices(app)
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("ctrl+u", *"-5m", "enter")
        await wait_for(pilot, lambda: "h" not in footer(app) and "c" in footer(app))
        await footer_drawn(app, pilot)
        keys = footer(app)
        assert "h" not in keys and keys["c"] is True, keys         # marked: h goes, c works
        assert "h 处置结束" not in screen_text(app).splitlines()[-1]
        await pilot.press("c")
        await pilot.pause()
        assert type(app.screen).__name__ == "FormModal"


async def test_a_closed_incident_offers_no_state_change_and_each_key_says_why(db_path, clock):
    app = make_app(db_path, clock, role="leader")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        ctx, inc = seed(app, clock)
        mark_handled(ctx, inc.id, T0 - timedelta(minutes=5))
        close_incident(ctx, inc.id, {"*": "教育局要求先处置"})
        screen = await open_incident(app, pilot, inc)
        keys = footer(app)
        assert not {"h", "c"} & set(keys) and keys["e"] is True, keys
        for key in ("h", "c", "w"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, (key, app.screen)
            assert any("已结案" in n for n in notices(app)), (key, notices(app))


async def test_enter_is_dimmed_on_an_empty_board_and_opens_once_an_incident_is_listed(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await screen_ready(app)
        board = app.screen
        await footer_drawn(app, pilot)
        assert footer(app)["⏎"] is False, footer(app)              # nothing to open
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is board
        seed(app, clock)
        assert await wait_for(pilot, lambda: footer(app).get("⏎") is True), footer(app)
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "IncidentScreen"
