"""The accounts screen at 80×24, by keys only: add, profile, reset password, disable, unlock, role;
a viewer (or an officer) is refused."""
from datetime import timedelta

from models import accounts
from models.passwords import check_password
from models.tables import User
from tests.conftest import make_app, make_ctx
from tests.ui_helpers import screen_text


async def _type(pilot, text):
    await pilot.press(*[c if c != " " else "space" for c in text])


async def test_admin_adds_an_account_with_profile_and_manages_it(db_path, clock):
    app = make_app(db_path, clock, role="admin", username="tester")
    ctx = make_ctx(app.store, clock, username="tester")
    accounts.bootstrap_admin(ctx, "tester", "王老师", "Admin-pass-2026")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "u")
        await pilot.pause()
        assert type(app.screen).__name__ == "AccountsScreen"
        footer = screen_text(app).splitlines()[-1]
        assert "n 新增" in footer and len(footer) <= 80
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        form.query_one("#f-username").focus()
        await _type(pilot, "li")
        await pilot.press("tab")
        await _type(pilot, "李老师")
        await pilot.press("tab", "ctrl+a", "ctrl+k")
        await _type(pilot, "值班员")
        await pilot.press("tab")
        await _type(pilot, "学籍管理员")
        await pilot.press("tab")
        await _type(pilot, "3123456")        # no area code: refused, nothing created
        await pilot.press("tab")
        await _type(pilot, "Li-pass-2026-x")
        await pilot.press("tab")
        await _type(pilot, "Li-pass-2026-x")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "区号" in screen_text(app) and User.get_or_none(User.username == "li") is None
        assert "Li-pass-2026-x" not in screen_text(app)        # the password is not shown
        form.query_one("#f-phone").value = "0874-3123456"
        await pilot.press("ctrl+s")
        await pilot.pause()
        li = User.get(User.username == "li")
        assert (li.role, li.display_name, li.title, li.phone) == ("officer", "李老师", "学籍管理员", "0874-3123456")
        assert check_password("Li-pass-2026-x", li.password_hash)
        text = screen_text(app)
        assert "已新增账号 li" in text and "0874-3123456" in text
        # li is the first row (sorted by login): edit the profile.
        await pilot.press("up")
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#f-phone").value = "139 8765 4321"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert User.get(User.username == "li").phone == "13987654321", [(u.username, u.phone) for u in User.select()]
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one("#f-password").value = "New-pass-2026-y"
        app.screen.query_one("#f-password2").value = "New-pass-2026-y"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert check_password("New-pass-2026-y", User.get(User.username == "li").password_hash)
        await pilot.press("d")
        await pilot.pause()
        assert User.get(User.username == "li").disabled and "已停用" in screen_text(app)
        await pilot.press("d")
        await pilot.pause()
        assert not User.get(User.username == "li").disabled
        User.update(locked_until=clock.now() + timedelta(minutes=10)).where(User.username == "li").execute()
        await pilot.press("u")
        await pilot.pause()
        assert User.get(User.username == "li").locked_until is None
        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one("#f-role").value = "领导"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert User.get(User.username == "li").role == "leader"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"


async def test_a_viewer_cannot_open_accounts_but_sees_statistics(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "u")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"
        # The refusal names the role needed.
        assert any("管理员" in n.message for n in app._notifications)
        await pilot.press("g", "s")
        await pilot.pause()
        assert type(app.screen).__name__ == "StatsScreen"
