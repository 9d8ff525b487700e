"""Registry accounts, the data-use ledger and the drills list at 80×24, by keys only; roles enforced."""
from datetime import timedelta

from models.registry_accounts import add_account
from models.tables import DataUse, RegistryAccount
from tests.conftest import T0, make_app, make_ctx
from tests.test_stats import seed_year
from tests.ui_helpers import fill_form, screen_text


async def test_registry_accounts_flags_and_actions(db_path, clock):
    app = make_app(db_path, clock, role="leader", username="chen")
    ctx = make_ctx(app.store, clock)
    add_account(ctx, "530328001", "李老师", "学校管理员", password_changed_at=T0 - timedelta(days=200),
                last_used_at=T0 - timedelta(days=3))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "r")
        await pilot.pause()
        assert type(app.screen).__name__ == "RegistryScreen"
        text = screen_text(app)
        assert "530328001" in text and "⚠" in text and "1 个需要处理" in text
        footer = text.splitlines()[-1]
        assert "n 新增" in footer and len(footer) <= 80
        await pilot.press("p")
        await pilot.pause()
        assert RegistryAccount.get().password_changed_at == T0 and "0 个需要处理" in screen_text(app)
        clock.advance(minutes=5)
        await pilot.press("h")
        await pilot.pause()
        await fill_form(pilot, "王老师")
        assert RegistryAccount.get().holder == "王老师" and "1 个需要处理" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")          # nothing typed: the required fields say so
        await pilot.pause()
        assert type(app.screen).__name__ == "FormModal" and RegistryAccount.select().count() == 1
        await fill_form(pilot, "530328002", "张老师")          # focus stayed on the first field
        assert RegistryAccount.select().count() == 2
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "1 个账号" in screen_text(app)
        await pilot.press("a")
        await pilot.pause()
        assert "已注销" in screen_text(app)


async def test_ledger_needs_an_approver_and_a_viewer_cannot_record(db_path, clock):
    app = make_app(db_path, clock, role="officer", username="li")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "l")
        await pilot.pause()
        assert type(app.screen).__name__ == "LedgerScreen" and "还没有登记" in screen_text(app)
        await pilot.press("n")
        await pilot.pause()
        await fill_form(pilot, "李老师", "初一学生名单", "保险")
        assert DataUse.select().count() == 0 and type(app.screen).__name__ == "FormModal"
        await pilot.press("shift+tab", "shift+tab")            # back to the first field
        await fill_form(pilot, None, None, None, "陈校长", None, "昨天15:00")
        use = DataUse.get()
        assert use.approved_by == "陈校长" and use.at < T0
        assert "初一学生名单" in screen_text(app)
    app = make_app(db_path, clock, role="viewer", username="viewer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("g", "l", "n")                    # n 登记 is dimmed: refused at once, no form to fill
        await pilot.pause()
        assert type(app.screen).__name__ == "LedgerScreen"
        assert any("权限不足" in str(n.message) for n in app._notifications)
        assert DataUse.select().count() == 1


async def test_drills_list_opens_the_summary(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    seed_year(make_ctx(app.store, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "d")
        await pilot.pause()
        assert type(app.screen).__name__ == "DrillsScreen"
        text = screen_text(app)
        assert "演练：勒索病毒" in text and "共 1 次演练" in text
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "DrillScreen"


async def test_every_key_of_the_new_screens_shows_in_the_footer_at_80_columns(db_path, clock):
    """Each screen's keys are bindings shown in its footer, all of them within 80 columns."""
    app = make_app(db_path, clock, role="admin", username="tester")
    async with app.run_test(size=(80, 24)) as pilot:
        for letter, name in (("s", "StatsScreen"), ("h", "HistoryScreen"), ("d", "DrillsScreen"),
                             ("b", "BackupScreen"), ("u", "AccountsScreen"), ("r", "RegistryScreen"),
                             ("l", "LedgerScreen")):
            await pilot.press("g", letter)
            await pilot.pause()
            screen = app.screen
            assert type(screen).__name__ == name
            footer = screen_text(app).splitlines()[-1]
            assert len(footer) <= 80, footer
            for b in type(screen).BINDINGS:
                if b.show and b.description:
                    assert b.description in footer, (name, b.description, footer)
            await pilot.press("question_mark")
            await pilot.pause()
            assert type(app.screen).__name__ == "HelpScreen"
            await pilot.press("escape", "escape")
            await pilot.pause()
            assert type(app.screen).__name__ == "BoardScreen"
