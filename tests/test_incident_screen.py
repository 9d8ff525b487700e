"""The incident screen at 80×24: countdowns, stages, timeline, evidence and every action by keyboard."""
from datetime import timedelta

from textual.widgets import DataTable, Input, Static

from models.incidents import IncidentInput, create_incident, get_incident, update_incident
from models.notes import add_note
from models.tables import Evidence, Note, Report
from screens.incident import IncidentScreen
from tests.conftest import T0, make_app, make_ctx, run_cli
from tests.ui_helpers import has_action_meta, rendered
from tui.widgets.form_modal import FormModal


def seed(app, clock, **extra):
    ctx = make_ctx(app.store, clock)
    data = dict(title="学籍账号异常登录", category="network_attack", occurred_at=T0 - timedelta(minutes=50),
                discovered_at=T0 - timedelta(minutes=20), reported_by="李老师", description="凌晨异地登录")
    data.update(extra)
    return ctx, create_incident(ctx, IncidentInput(**data))


async def open_incident(app, pilot, inc):
    await pilot.pause()
    app.open_screen("incident", inc.id)
    await pilot.pause(0.1)
    assert isinstance(app.screen, IncidentScreen)
    return app.screen


def cell(screen, key, col) -> str:
    table = screen.query_one("#stages", DataTable)
    return str(table.get_cell(key, col))


async def test_obligations_count_down_and_escalate(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        oral = "school_plan|oral|1"
        assert cell(screen, oral, "left") == "10m00s" and cell(screen, oral, "state") == "紧急"
        assert cell(screen, "school_plan|first|1", "state") == "待办"
        assert "处置结束后" in cell(screen, "school_plan|final|1", "state")
        assert cell(screen, "school_plan|other|1", "state") == "无时限"
        clock.advance(minutes=11)
        screen.tick()
        assert cell(screen, oral, "state").startswith("超时 +1m")
        assert cell(screen, oral, "left") == "-1m00s"


async def test_note_and_evidence_by_keyboard_show_on_timeline_and_list(db_path, clock, tmp_path):
    app = make_app(db_path, clock)
    f = tmp_path / "登录日志.txt"
    f.write_text("09:31 login 203.0.113.9", encoding="utf-8")
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        await pilot.press(*"已修改账号密码")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Note.get().text == "已修改账号密码"
        await pilot.press("v")
        await pilot.pause()
        app.screen.query_one("#f-path", Input).value = str(f)
        app.screen.query_one("#f-custody_note", Input).value = "U盘交值班室"
        await pilot.press("enter")          # Enter in the path moves on: nothing saved yet
        await pilot.pause()
        assert Evidence.select().count() == 0 and app.focused.id == "f-copy"
        await pilot.press("ctrl+s")
        await pilot.pause()
        ev = Evidence.get()
        assert ev.copied and ev.custody_note == "U盘交值班室" and ev.size == f.stat().st_size
        await pilot.press("2")
        await pilot.pause()
        timeline = rendered(screen.query_one("#timeline-text", Static))
        assert timeline.index("登记证据") < timeline.index("已修改账号密码") < timeline.index("登记事件")
        await pilot.press("3")
        await pilot.pause()
        table = screen.query_one("#evidence-table", DataTable)
        assert table.row_count == 1 and "登录日志.txt" in str(table.get_row_at(0)[1])
        assert ev.sha256[:12] in str(table.get_row_at(0)[3])


async def test_empty_note_and_missing_file_get_messages_and_keep_input(db_path, clock, tmp_path):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("v")
        await pilot.pause()
        app.screen.query_one("#f-path", Input).value = str(tmp_path / "nope.log")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        assert "文件不存在" in str(app.screen.query_one("#m-path", Static).render())
        assert app.screen.query_one("#f-path", Input).value.endswith("nope.log")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "必填" in str(app.screen.query_one("#m-text", Static).render())
    assert Evidence.select().count() == 0 and Note.select().count() == 0


async def test_handled_then_close_shows_the_checklist_and_needs_a_reason(db_path, clock):
    """Issue 12: closing lists what is still owed; owed reports block it until a leader gives a reason,
    and then they read missed, with that reason (the old rule only wanted the final report)."""
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        # Closing needs a decided grade (whether the CAC report was owed depends on it).
        from models.incidents import set_grade
        set_grade(make_ctx(app.store, clock), inc.id, "IV", "领导定为一般")
        screen = await open_incident(app, pilot, inc)
        await pilot.press("h")
        await pilot.pause()
        await pilot.press("ctrl+u", *"-5m", "enter")
        await pilot.pause()
        assert get_incident(inc.id).status == "handled"
        assert get_incident(inc.id).handling_closed_at == T0 - timedelta(minutes=5)
        assert cell(screen, "school_plan|final|1", "state") == "待办"   # its clock runs now
        await pilot.press("c")
        await pilot.pause()
        intro = str(app.screen.query_one("#intro", Static).render())
        assert "首报" in intro and "终报" in intro and intro.index("首报") < intro.index("终报")
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = str(app.screen.query_one("#form-status", Static).render())
        assert "终报" in status and "理由" in status
        await pilot.press("escape")
        # The final report goes out (the reports feature's job; written directly here) …
        Report.create(incident=inc.id, regime="school_plan", stage="final", fields={}, status="submitted",
                      submitted_at=clock.now(), created_at=clock.now(), updated_at=clock.now())
        screen.reload()
        assert "已报" in cell(screen, "school_plan|final|1", "report")
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        status = str(app.screen.query_one("#form-status", Static).render())
        assert "首报" in status and "终报" not in status
        assert get_incident(inc.id).status == "handled"
        await pilot.press(*"教育局要求先处置")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert get_incident(inc.id).status == "closed"
        assert "已结案" in rendered(screen.query_one("#facts", Static))
        state = cell(screen, "school_plan|first|1", "state")
        # Closed over before its deadline: 未报 with the leader's reason, never 逾期未报 (it was never overdue).
        assert state == "未报 · 教育局要求先处置"


async def test_leader_only_actions_are_refused_to_an_officer(db_path, clock):
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        _, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)          # no modal: refused at once
        assert any("领导" in n.message for n in app._notifications)
        app.clear_notifications()
        await pilot.press("g")                                  # dimmed in the footer: no form to type into
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)
        assert any("领导" in n.message for n in app._notifications)
        # The grading form itself still refuses an officer's save (opened another way).
        from screens.grade import GradeScreen
        app.push_screen(GradeScreen(inc.id))
        await pilot.pause()
        assert "领导" in str(app.screen.query_one("#status", Static).render())
        app.screen.query_one("#grade-input", Input).value = "IV"
        app.screen.query_one("#reason", Input).value = "影响小"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "领导" in str(app.screen.query_one("#status", Static).render())
    assert get_incident(inc.id).grade is None


async def test_withdraw_needs_a_reason(db_path, clock):
    app = make_app(db_path, clock, role="leader")
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        await pilot.press("w")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "必填" in str(app.screen.query_one("#m-reason", Static).render())
        await pilot.press(*"学生误报", "enter")
        await pilot.pause()
        assert get_incident(inc.id).status == "withdrawn"
        assert "撤销" in cell(screen, "school_plan|first|1", "state")


async def test_grading_helper_suggests_and_the_leader_decides_with_a_reason(db_path, clock):
    app = make_app(db_path, clock, role="leader")
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"重要", "down", "enter")            # 重要信息系统
        await pilot.press(*"严重", "down", "enter")            # 严重 (not 特别严重)
        await pilot.pause()
        suggestion = str(app.screen.query_one("#suggestion", Static).render())
        assert "III" in suggestion and "系统重要程度 × 系统损失" in suggestion
        await pilot.press("ctrl+u")
        assert app.screen.query_one("#grade").value == "III"
        assert "GB/Z 20986" in app.screen.query_one("#reason", Input).value
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        inc = get_incident(inc.id)
        assert inc.grade == "III" and inc.grade_decided
        assert "已定级" in rendered(screen.query_one("#facts", Static))
        # CAC applies from grade III: its initial report now has a clock.
        assert cell(screen, "cac_2025|initial|1", "state") in ("待办", "临近", "紧急")


async def test_edit_facts_time_needs_reason_and_conflict_shows_both_versions(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("e")
        await pilot.pause(0.1)
        form = app.screen
        form.query_one("#occurred_at", Input).value = "2026-11-25 09:00"
        form.query_one("#location", Input).value = "教务处 302"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "原因" in str(form.query_one("#msg-reason", Static).render())
        # Meanwhile the colleague over SSH saves the same incident.
        update_incident(make_ctx(app.store, clock, username="li"), inc.id, 1, {"location": "机房"})
        form.query_one("#reason", Input).value = "核对登录日志"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        panel = rendered(form.query_one("#conflict", Static))
        assert "机房" in panel and "教务处 302" in panel
        assert form.query_one("#location", Input).value == "教务处 302"   # the input is kept
        assert get_incident(inc.id).location == "机房"
        await pilot.press("ctrl+s")                                       # deliberately over theirs
        await pilot.pause()
        assert isinstance(app.screen, IncidentScreen)
    inc = get_incident(inc.id)
    # The time (changed only here) was saved with the conflicting save, the location after it.
    assert inc.location == "教务处 302" and inc.occurred_at == T0 - timedelta(hours=1) and inc.version == 4


async def test_enter_on_a_stage_opens_its_report(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        calls = []
        app.open_screen = lambda *a, **k: calls.append(a) or True
        table = screen.query_one("#stages", DataTable)
        table.focus()
        keys = [str(k.value) for k in table.rows]
        table.move_cursor(row=keys.index("school_plan|first|1"))
        await pilot.press("enter")
        await pilot.pause()
    assert calls == [("report", inc.id, "school_plan", "first", 1)]


async def test_another_sessions_note_appears_within_a_tick(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        r = run_cli("incident", "note", str(inc.id), "教育局回电：保留日志", "--user", "li", "--db", str(db_path))
        assert r.returncode == 0, r.stderr
        await pilot.press("2")
        screen.tick()
        await pilot.pause()
        assert "教育局回电：保留日志" in rendered(screen.query_one("#timeline-text", Static))


async def test_locked_hides_title_description_and_names(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        add_note(ctx, inc.id, "王主任已到场")
        screen = await open_incident(app, pilot, inc)
        assert "学籍账号异常登录" in rendered(screen.query_one("#facts", Static))
        app.locked = True
        await pilot.pause()
        facts = rendered(screen.query_one("#facts", Static))
        timeline = str(screen.query_one("#timeline-text", Static).render())
        for secret in ("学籍账号异常登录", "凌晨异地登录", "李老师"):
            assert secret not in facts
        assert "王主任已到场" not in timeline and "tester" not in timeline and "李老师" not in timeline
        assert "2026-001" in facts                                  # the code stays, to know where one is
        app.locked = False
        await pilot.pause()
        assert "学籍账号异常登录" in rendered(screen.query_one("#facts", Static))


async def test_markup_in_every_shown_field_stays_literal(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock, title="[@click=app.quit]退出[/]", location="[bold]x[/]",
                        description="\x1b[2J清屏", reported_by="[red]王[/]")
        add_note(ctx, inc.id, "[@click=app.quit]note[/]")
        screen = await open_incident(app, pilot, inc)
        facts = screen.query_one("#facts", Static)
        text = rendered(facts)
        assert "[@click=app.quit]退出[/]" in text and "[bold]x[/]" in text and "[red]王[/]" in text
        assert "\x1b" not in text and "[2J清屏" in text and not has_action_meta(facts)
        await pilot.press("2")
        await pilot.pause()
        tl = screen.query_one("#timeline-text", Static)
        assert "[@click=app.quit]note[/]" in rendered(tl) and not has_action_meta(tl)
        await pilot.click("#facts", offset=(3, 1))
        await pilot.pause()
        assert app.is_running


async def test_command_palette_finds_the_incident_actions(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        _, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"备注")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert isinstance(app.screen, FormModal)


async def test_d_opens_the_drill_summary_for_a_drill_only(tmp_path, clock):
    from models.incidents import IncidentInput, create_incident
    from tests.conftest import make_app, make_ctx
    from datetime import timedelta
    app = make_app(tmp_path / "drill.db", clock)
    ctx = make_ctx(app.store, clock)
    real = create_incident(ctx, IncidentInput(title="真实事件", category="malware",
                                              occurred_at=clock.now() - timedelta(minutes=5), discovered_at=clock.now()))
    drill = create_incident(ctx, IncidentInput(title="演练：勒索病毒", category="malware", is_drill=True,
                                               occurred_at=clock.now() - timedelta(minutes=5), discovered_at=clock.now()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("incident", real.id)
        await pilot.pause(0.3)
        await pilot.press("d")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "IncidentScreen"   # not a drill: stays, with a notice
        await pilot.press("escape")
        await pilot.pause(0.3)
        app.open_screen("incident", drill.id)
        await pilot.pause(0.3)
        await pilot.press("d")
        await pilot.pause(0.5)
        assert type(app.screen).__name__ == "DrillScreen"
