"""The new-incident form at 80×24, keyboard only: save, validation, late discovery, pickers, drafts."""
from datetime import timedelta

from textual import events
from textual.widgets import Input, Static

from models.drafts import load_draft
from models.tables import Incident
from screens.incident import IncidentScreen
from screens.new_incident import NewIncidentScreen
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import has_action_meta, rendered


async def open_form(app, pilot):
    await pilot.pause()
    app.open_screen("new_incident")
    await pilot.pause(0.1)
    assert isinstance(app.screen, NewIncidentScreen)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.2)                       # the draft is restored after the first refresh
    return app.screen


def msg(screen, name) -> str:
    return str(screen.query_one(f"#msg-{name}", Static).render())


async def test_typed_incident_is_saved_with_enter_and_opens_the_incident(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press(*"学籍账号异常登录")
        await pilot.press("tab")                              # occurred: 40 minutes ago
        await pilot.press("ctrl+u", *"-40m")
        assert "09:20" in msg(form, "occurred_at")          # echoed back as the instant it means
        await pilot.press("tab", "tab", *"教务处", "tab", *"学籍系统账号", "tab")
        await pilot.press(*"credential")                    # English name narrows to 凭据攻击
        await pilot.press("enter")                          # picks the highlighted match
        assert app.focused.id == "grade-input"              # and moves on (subcategory was filled too)
        await pilot.press("ctrl+u", *"较大", "enter")
        await pilot.press("space", "tab", *"李老师", "tab")  # personal info: yes
        await pilot.press(*"凌晨异地登录")
        await pilot.press("ctrl+s")                         # recording asks first, on one line
        await pilot.pause(0.1)
        assert Incident.select().count() == 0
        summary = str(app.screen.query_one("#confirm-summary").render())
        assert "学籍账号异常登录" in summary and "III" in summary and "个人信息 是" in summary
        assert "09:20" in summary
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, IncidentScreen)
    inc = Incident.get()
    assert (inc.title, inc.category, inc.subcategory, inc.grade) == ("学籍账号异常登录", "network_attack",
                                                                     "credential_attack", "III")
    assert inc.occurred_at == T0 - timedelta(minutes=40) and inc.discovered_at == T0
    assert (inc.location, inc.asset, inc.reported_by, inc.description) == ("教务处", "学籍系统账号", "李老师", "凌晨异地登录")
    assert inc.personal_info is True and inc.grade_decided is False
    assert load_draft(make_ctx(app.store, clock), "new_incident") is None


async def test_every_field_gets_its_message_and_nothing_is_saved(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press("tab", "ctrl+u", *"明天", "tab", "ctrl+u", *"+2h")
        form.query_one("#category-input", Input).value = "nonsense"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "必填" in msg(form, "title")
        assert "无法识别时间" in msg(form, "occurred_at")
        assert "晚于现在" in msg(form, "discovered_at")
        assert "nonsense" in msg(form, "category")
        assert app.focused.id == "title"                    # the first field with a problem
        await pilot.press(*"x")
        assert msg(form, "title") == ""                     # typing clears that field's message
    assert Incident.select().count() == 0


async def test_late_discovery_asks_for_the_reason(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        row = form.query_one("#row-delay_reason")
        assert not row.display
        await pilot.press(*"夜间中毒", "tab", "ctrl+u", *"-5h")
        assert row.display and "迟报原因" in msg(form, "delay_reason")
        form.query_one("#category").set_value(("malware", None), "恶意程序事件")
        form.query_one("#personal_info").value = "no"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Incident.select().count() == 0 and "迟报原因" in msg(form, "delay_reason")
        assert app.focused.id == "delay_reason"
        await pilot.press(*"周末无人值守")
        await pilot.press("enter")                          # Enter moves on: nothing recorded
        await pilot.pause()
        assert Incident.select().count() == 0 and app.focused.id == "location"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("enter")                          # the summary confirmed
        await pilot.pause()
    assert Incident.get().delay_reason == "周末无人值守"


async def test_category_outside_the_plan_is_flagged(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        form.query_one("#category-input", Input).focus()
        await pilot.press(*"误操作")
        await pilot.pause()
        assert "违规操作" in rendered(form.query_one("#category PickerList"))
        await pilot.press("enter")
        assert "预案" in msg(form, "category")
        assert form.query_one("#subcategory").text == "误操作事件"


async def test_esc_keeps_the_draft_and_reopening_restores_it(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press(*"半截的标题", "tab", "ctrl+u", *"-30m")
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, NewIncidentScreen)
        clock.advance(hours=2)                              # a relative time must not drift
        form = await open_form(app, pilot)
        assert form.query_one("#title", Input).value == "半截的标题"
        assert form.query_one("#occurred_at", Input).value == "2026-11-25 09:30"
        assert "草稿" in str(form.query_one("#status", Static).render())
    assert Incident.select().count() == 0


async def test_markup_and_escapes_typed_by_the_user_stay_literal(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        title = "[bold]x[/] [@click=app.quit]y[/] \x1b[2Jz"
        form.query_one("#title", Input).value = title
        form.query_one("#location", Input).value = "[red]教务处[/]"
        form.query_one("#category").set_value(("malware", None), "恶意程序事件")
        form.query_one("#personal_info").value = "no"
        desc = form.query_one("#description")
        desc.focus()
        app.post_message(events.Paste("第一行\x1b]0;owned\x07\n[b]第二行[/b]"))   # a paste with an OSC title escape
        await pilot.pause()
        assert desc.text == "第一行]0;owned\n[b]第二行[/b]"
        shown = rendered(form.query_one("#title", Input))
        assert "[bold]x[/]" in shown and "[@click=app.quit]y[/]" in shown and "\x1b" not in shown
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)
        await pilot.press("enter")
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        facts = screen.query_one("#facts", Static)
        text = rendered(facts)
        assert "[bold]x[/] [@click=app.quit]y[/] [2Jz" in text and "[red]教务处[/]" in text
        assert "\x1b" not in text and not has_action_meta(facts)
        await pilot.click("#facts", offset=(15, 1))          # a click on the fake link does nothing
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, IncidentScreen)
    inc = Incident.get()
    assert inc.title == "[bold]x[/] [@click=app.quit]y[/] [2Jz" and inc.description == "第一行]0;owned\n[b]第二行[/b]"


async def test_locked_session_hides_the_form_and_english_labels(db_path, clock):
    from models.i18n import set_language
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press(*"机密标题")
        app.locked = True
        await pilot.pause()
        assert not form.query_one("#form").display or form.has_class("-locked")
        assert form.query_one("#form").region.height == 0
        assert "已锁定" in rendered(form.query_one("#locked-msg"))
        app.locked = False
        await pilot.pause()
        assert form.query_one("#title", Input).value == "机密标题"
        await pilot.pause(1.3)                                        # let the autosave run
    app = make_app(db_path, clock)
    set_language("en")                                                # as --lang en would
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        assert form.query_one("#title", Input).value == "机密标题"      # the draft, in any language
        labels = " ".join(str(label.render()) for label in form.query(".label"))
        assert "Discovered" in labels and "Affected system or asset" in labels
