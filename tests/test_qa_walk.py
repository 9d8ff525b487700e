"""Found walking the desk as a user would (QA, this wave): each test failed before its fix."""
from datetime import timedelta

from textual.widgets import Static

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_app, make_ctx, run_cli
from tests.ui_helpers import rendered


async def test_timeline_names_the_subcategory_of_the_incidents_own_category(db_path, clock):
    """子类 other exists in every category: the timeline said 其他恶意程序事件 for a network attack."""
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    inc = create_incident(ctx, IncidentInput(title="学籍账号异常登录", category="network_attack", subcategory="other",
                                             occurred_at=T0 - timedelta(minutes=40),
                                             discovered_at=T0 - timedelta(minutes=20)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.2)
        await pilot.press("2")
        await pilot.pause(0.2)
        timeline = rendered(app.screen.query_one("#timeline-text", Static))
        assert "子类：其他网络攻击事件" in timeline, timeline
        assert "其他恶意程序事件" not in timeline


def test_incident_show_says_personal_information_and_status_in_words(db_path):
    assert run_cli("init", "--school", "海峰中学", "--db", str(db_path)).returncode == 0
    r = run_cli("incident", "new", "--title", "学籍账号异常登录", "--category", "network_attack",
                "--occurred", "-40m", "--discovered", "-20m", "--personal-info-unsure", "--user", "zhang", "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    text = run_cli("incident", "show", "1", "--db", str(db_path)).stdout
    assert "涉及学生个人信息: 不确定" in text, text
    assert "状态: 处置中" in text, text
    assert "False" not in text and ": open" not in text
    text = run_cli("--lang", "en", "incident", "show", "1", "--db", str(db_path)).stdout
    assert "Not sure" in text and "False" not in text, text


async def test_a_colleague_sees_typing_on_the_edit_screen_after_the_draft_autosave(db_path, clock):
    """The edit form's typing flag was its unsaved-draft flag: cleared by the 1 s autosave, so the
    colleague's screen (read once a second) kept saying 正在查看 while this one typed."""
    from models.presence import Presence
    from tests.test_incident_screen import seed

    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.2)
        await pilot.press("e")
        await pilot.pause(0.3)
        await pilot.press("tab", "tab", "tab", *"二楼")
        await pilot.pause(1.6)                       # past the autosave
        colleague = Presence(db_path, session="colleague")
        here = [h for h in colleague.others(incident=inc.id)]
        assert here and here[0].typing, here


async def test_the_edit_screen_footer_says_save_not_record(db_path, clock):
    from tests.test_incident_screen import seed
    from tests.ui_helpers import screen_text

    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.2)
        await pilot.press("e")
        await pilot.pause(0.3)
        footer = screen_text(app).splitlines()[-1]
        assert "^s 保存" in footer and "登记" not in footer, footer


def test_a_relative_time_the_parser_refuses_gets_its_message_not_argparse_usage(tmp_path):
    db = str(tmp_path / "cli.db")
    assert run_cli("init", "--school", "海峰中学", "--db", db).returncode == 0
    r = run_cli("incident", "new", "--title", "学籍专用电脑感染病毒", "--category", "malware",
                "--occurred", "-4h", "--discovered", "-3h50", "--user", "zhang", "--db", db)
    assert r.returncode != 0
    assert "expected one argument" not in r.stderr and "usage:" not in r.stderr, r.stderr
    assert "无法识别相对时间“-3h50”" in r.stderr and "-2h50m" in r.stderr, r.stderr   # the rule, with examples
    # The compound offset itself is read now (issue 15 follow-up), as a value, not as a flag.
    r = run_cli("incident", "new", "--title", "学籍专用电脑感染病毒", "--category", "malware",
                "--occurred", "-4h", "--discovered", "-3h50m", "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr


async def test_the_call_outcome_chosen_reads_without_colour(db_path, clock):
    """Every outcome was drawn ▐●▌ and only the colour told which was chosen (NO_COLOR: none)."""
    from textual.widgets import RadioSet

    from screens.contacts_forms import LogCallForm
    from tests.test_contacts_screen import _setup

    app = make_app(db_path, clock, role="officer", username="li")
    _setup(app, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, LogCallForm)
        await pilot.press("2")
        await pilot.pause()
        buttons = list(form.query_one("#call-outcome", RadioSet).query("RadioButton"))
        shown = [b.render().plain for b in buttons]
        assert shown[1].startswith("(*)") and all(s.startswith("( )") for i, s in enumerate(shown) if i != 1), shown


async def test_an_alarm_notice_on_another_screen_goes_once_its_obligation_is_no_longer_owed(db_path, clock):
    """The board's alarm notice on the contacts screen kept saying 口头报告 · 剩余 9m56s · 按 a 确认
    for its full 30 s after the call that met it was logged."""
    from models.incidents import withdraw_incident
    from tests.test_board import _app_with

    app, ctx = _app_with(db_path, clock, ("学籍账号被盗", 0))
    clock.set(T0 - timedelta(minutes=40))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.pause()
        board = app.screen
        await pilot.press("question_mark")
        await pilot.pause()
        clock.set(T0 - timedelta(minutes=1))
        board.tick()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("学籍账号被盗" in str(n.message) for n in app._notifications)
        withdraw_incident(make_ctx(app.store, clock, role="leader"), 1, "误报：测试账号")
        board.tick()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not [n for n in app._notifications if "学籍账号被盗" in str(n.message)], list(app._notifications)


async def test_the_goto_menus_footer_fits_80_columns_and_keeps_its_close_key(db_path, clock):
    """Eight destinations in the footer ran past 80 columns (…l 学籍使) and hid esc 关闭; the list
    above already shows each letter."""
    from rich.cells import cell_len

    from tests.ui_helpers import screen_text

    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "GotoScreen"
        footer = screen_text(app).rstrip("\n").splitlines()[-1]
        assert "esc 关闭" in footer, footer
        assert cell_len(footer.rstrip()) <= 80
        text = screen_text(app)
        for letter, name in (("s", "统计与年报"), ("l", "学籍使用台账")):
            assert f"{letter}  {name}" in text                  # each letter still shown, in the list
        assert "? 帮助" in footer
        await pilot.press("question_mark")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "HelpScreen"
        assert "学籍使用台账" in screen_text(app)
