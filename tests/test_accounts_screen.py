"""The accounts screen at 80×24, by keys only: add, profile, reset password, disable, unlock, role;
a viewer (or an officer) is refused."""
from datetime import timedelta

from models import accounts
from models.passwords import check_password
from models.tables import User
from tests.conftest import make_app, make_ctx
from tests.ui_helpers import fill_form, screen_text


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
        # Login, name, role, title, phone, password, once more — by keys; no area code: refused.
        # The admin's own password is asked (as the CLI does): a wrong one changes nothing.
        await fill_form(pilot, "li", "李老师", "值班员", "学籍管理员", "0874-3123456", "Li-pass-2026-x",
                        "Li-pass-2026-x", "wrong-password")
        assert "你的密码不对" in screen_text(app) and User.get_or_none(User.username == "li") is None
        await pilot.press("shift+tab", "shift+tab", "shift+tab")   # back to the phone
        await fill_form(pilot, "3123456", None, None, "Admin-pass-2026")
        assert "区号" in screen_text(app) and User.get_or_none(User.username == "li") is None
        assert "Li-pass-2026-x" not in screen_text(app)        # the password is not shown
        await pilot.press("shift+tab", "shift+tab", "shift+tab")   # back to the phone
        await fill_form(pilot, "0874-3123456")
        li = User.get(User.username == "li")
        assert (li.role, li.display_name, li.title, li.phone) == ("officer", "李老师", "学籍管理员", "0874-3123456")
        assert check_password("Li-pass-2026-x", li.password_hash)
        text = screen_text(app)
        assert "已新增账号 li" in text and "0874-3123456" in text
        # li is the first row (sorted by login): edit the profile.
        await pilot.press("up")
        await pilot.press("e")
        await pilot.pause()
        await fill_form(pilot, None, None, "139 8765 4321")
        assert User.get(User.username == "li").phone == "13987654321", [(u.username, u.phone) for u in User.select()]
        await pilot.press("p")
        await pilot.pause()
        await fill_form(pilot, "New-pass-2026-y", "New-pass-2026-y", "Admin-pass-2026")
        assert check_password("New-pass-2026-y", User.get(User.username == "li").password_hash)
        await pilot.press("d")
        await pilot.pause()
        assert not User.get(User.username == "li").disabled      # not before the password
        await fill_form(pilot, "Admin-pass-2026")
        assert User.get(User.username == "li").disabled and "已停用" in screen_text(app)
        await pilot.press("d")
        await pilot.pause()
        await fill_form(pilot, "Admin-pass-2026")
        assert not User.get(User.username == "li").disabled
        User.update(locked_until=clock.now() + timedelta(minutes=10)).where(User.username == "li").execute()
        await pilot.press("u")
        await pilot.pause()
        await fill_form(pilot, "Admin-pass-2026")
        assert User.get(User.username == "li").locked_until is None
        await pilot.press("r")
        await pilot.pause()
        await fill_form(pilot, "领导", "Admin-pass-2026")
        assert User.get(User.username == "li").role == "leader"
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"


async def test_a_viewer_cannot_open_accounts_but_sees_statistics(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "u")
        await pilot.pause()
        # The menu marks it （需管理员权限） and stays open; the refusal names the role needed.
        assert type(app.screen).__name__ == "GotoScreen"
        assert any("管理员" in n.message for n in app._notifications)
        await pilot.press("escape", "g", "s")
        await pilot.pause()
        assert type(app.screen).__name__ == "StatsScreen"
