"""Every input's placeholder fits its field at 80×24, in Chinese and in English (a placeholder wider
than its field is cut: the officer reads half a hint). Each form is opened the way the officer opens
it, every shown Input (a picker's too) is measured: ``cell_len(placeholder)`` against the width its
text gets. Fields a form shows only after a choice are revealed first."""
import pytest
from rich.cells import cell_len
from textual.widgets import Input

from models.i18n import set_language
from tests.conftest import make_app, make_ctx
from tests.test_inputs_visible import SCENARIOS
from tests.ui_helpers import screen_ready, wait_for


async def _open(app, pilot, name, *args, key=None):
    app.open_screen(name, *args)
    await screen_ready(app)
    if key:
        await pilot.press(key)


async def _show_hidden(app, pilot):
    """Reveal inputs a form hides until a choice (a follow-up title, say) so they are measured too."""
    for widget in app.screen.query(Input):
        node = widget
        while node is not None and node is not app.screen:
            node.display = True
            node = node.parent
    await pilot.pause()


async def _with_account(app, pilot, key):
    from models.accounts import create_user
    from models.tables import User
    with app.store.read():
        there = User.select().where(User.username == "duty").exists()
    if not there:
        create_user(make_ctx(app.store, app.clock), "duty", "officer", "值班员", "Duty-passw0rd!")
    await _open(app, pilot, "accounts", key=key)


async def _with_warning(app, pilot):
    from models.warnings import add_warning
    add_warning(make_ctx(app.store, app.clock), "yellow", source="县教育局", content="勒索软件预警")
    await _open(app, pilot, "warnings", key="l")


async def _late_discovery(app, pilot):
    """The delay-reason field shows when discovery came after the 3-hour first report's deadline."""
    await _open(app, pilot, "new_incident")
    app.screen.query_one("#occurred_at", Input).focus()
    await pilot.press("ctrl+u", *"-1d")
    assert await wait_for(pilot, lambda: app.screen.query_one("#delay_reason", Input).region.height)


FORMS = dict(SCENARIOS)
FORMS.update({
    "board_filter": lambda a, p, c: p.press("slash"),
    "late_discovery": lambda a, p, c: _late_discovery(a, p),
    "history": lambda a, p, c: _open(a, p, "history"),
    "ledger_add": lambda a, p, c: _open(a, p, "ledger", key="n"),
    "account_add": lambda a, p, c: _open(a, p, "accounts", key="n"),
    "account_role": lambda a, p, c: _with_account(a, p, "r"),
    "account_profile": lambda a, p, c: _with_account(a, p, "e"),
    "profile": lambda a, p, c: _open(a, p, "profile"),
    "warning_lift": lambda a, p, c: _with_warning(a, p),
})


# Forms without a placeholder (the grade, handled, withdraw and report forms) have nothing to cut.
FORMS = {k: v for k, v in FORMS.items() if k not in ("grade", "handled", "withdraw", "report")}


async def _measure(app, pilot, clock, name):
    depth = len(app.screen_stack)
    await FORMS[name](app, pilot, clock)
    await _show_hidden(app, pilot)
    # The form is drawn: every input with a placeholder has its width (a form lays out after mounting).
    assert await wait_for(pilot, lambda: (len(app.screen_stack) > depth or name == "board_filter") and any(
        f.content_region.width for f in app.screen.query(Input) if f.placeholder)), name
    await pilot.pause()
    measured, cut = 0, []
    for field in app.screen.query(Input):
        if not field.placeholder or not field.region.height:
            continue
        measured += 1
        width = field.content_region.width
        if cell_len(field.placeholder) > width:
            cut.append(f"{name}/{field.id}: {cell_len(field.placeholder)} > {width} {field.placeholder!r}")
    while len(app.screen_stack) > depth:
        app.pop_screen()
    await pilot.pause()
    return measured, cut


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_placeholder_fits_its_field(db_path, clock, lang):
    """One app per language, each form opened from the board in turn (one app each cost 2 minutes)."""
    app = make_app(db_path, clock)
    set_language(lang)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        empty, cut = [], []
        for name in FORMS:
            measured, too_wide = await _measure(app, pilot, clock, name)
            if not measured:
                empty.append(name)
            cut += too_wide
        assert not empty, f"no placeholder measured in {empty}"
        assert not cut, f"({lang}) " + "; ".join(cut)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_first_run_setup_placeholders_fit(tmp_path, clock, lang):
    """The setup screen a new database opens on (no account yet to log in with)."""
    from tests.conftest import env_for
    from tui.app import DutyApp
    set_language(lang)
    app = DutyApp(env_for(tmp_path / "new.db"), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == "SetupScreen"
        fields = [f for f in app.screen.query(Input) if f.placeholder and f.region.height]
        assert {f.id for f in fields} >= {"setup-username", "setup-password"}
        cut = [f"{f.id}: {cell_len(f.placeholder)} > {f.content_region.width} {f.placeholder!r}"
               for f in fields if cell_len(f.placeholder) > f.content_region.width]
        assert not cut, f"({lang}) " + "; ".join(cut)
