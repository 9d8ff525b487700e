"""Two sessions on one report at 80×24 (issue 14): per-field conflict view, keep mine on one field,
submit after a colleague's save, and the notice to the person whose value was replaced."""
from __future__ import annotations

import pytest

from models.errors import ConflictError
from models.reports import save_draft
from models.tables import Report
from tests.conftest import make_app, make_ctx
from tests.test_report_screen import _open, _screen_text, _seed, _type_into
from tests.ui_helpers import screen_text, wait_for

FULL = {"affected_scope": "约 120 名学生记录", "damage": "无", "threat": "较低", "trend": "已控制",
        "measures_taken": "已修改口令、断网", "next_steps": "配合排查", "contact_phone": "0874-1234567",
        "summary": "异地登录", "info_source": "巡检", "event_level": "一般", "reporting_unit": "海峰中学",
        "location": "教务处"}


async def test_keep_mine_on_one_field_leaves_the_colleagues_other_fields(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        base = screen.version
        wang = make_ctx(app.store, clock, username="wang")
        save_draft(wang, screen.report.id, base, {"damage": "王丽：服务器磁盘", "signer": "陈云柱"})
        screen.paused = True                                 # typing: the form does not follow meanwhile
        await _type_into(pilot, screen, "damage", "我的无")
        await _type_into(pilot, screen, "trend", "已控制")
        screen.paused = False
        await pilot.press("f2")
        await pilot.pause()
        view = app.screen
        assert type(view).__name__ == "ConflictScreen"
        shown = _screen_text(view)
        assert "王丽：服务器磁盘" in shown and "我的无" in shown and "原来" in shown
        assert "陈云柱" not in shown and "已控制" not in shown      # only the field both changed
        assert "report" not in screen_text(app) and "首报" in screen_text(app)
        row = Report.get()
        assert row.fields["trend"] == "已控制" and row.fields["signer"] == "陈云柱"   # merged already
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen is screen
        f = Report.get().fields
        assert (f["damage"], f["signer"], f["trend"]) == ("我的无", "陈云柱", "已控制")
        assert screen.query_one("#field-signer").value == "陈云柱"        # the form shows theirs too


async def test_resolving_against_a_newer_version_brings_the_view_back(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        wang = make_ctx(app.store, clock, username="wang")
        r = save_draft(wang, screen.report.id, screen.version, {"damage": "第一版"})
        screen.paused = True
        await _type_into(pilot, screen, "damage", "我的")
        screen.paused = False
        await pilot.press("f2")
        await pilot.pause()
        assert "第一版" in _screen_text(app.screen)
        save_draft(wang, r.id, r.version, {"damage": "第二版"})           # while the view is open
        await pilot.press("ctrl+o")
        await pilot.pause()
        view = app.screen
        assert type(view).__name__ == "ConflictScreen" and "第二版" in _screen_text(view)   # fresh values
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen is screen and Report.get().fields["damage"] == "我的"


async def test_submit_after_a_colleagues_save_reloads_and_shows_what_changed(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        r = save_draft(app.ctx, screen.report.id, screen.version, FULL)
        screen._tick()
        await pilot.pause()
        await pilot.press("f5")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "SubmitDialog"
        save_draft(make_ctx(app.store, clock, username="wang"), r.id, r.version, {"threat": "较高"})
        dialog.query_one("#submit-recipient").value = "县教育局"
        for w in dialog.query("Input"):                 # the late / before-oral reasons, if asked
            if w.id not in ("submit-recipient", "submit-confirmed", "submit-at") and not w.value:
                w.value = "电话未接通"
        await pilot.press("ctrl+s")
        await pilot.pause()
        text = _screen_text(dialog)
        assert app.screen is dialog and "首报刚被 wang 修改" in text and "较低 → 较高" in text
        assert "report" not in text
        await pilot.press("ctrl+s")                                        # asked again: now it goes
        await pilot.pause()
        row = Report.get()
        assert row.status == "submitted" and row.fields["threat"] == "较高", _screen_text(app.screen)


async def test_the_person_whose_value_was_replaced_is_told(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        v = screen.version
        await _type_into(pilot, screen, "damage", "我写的")
        assert screen.save()
        wang = make_ctx(app.store, clock, username="wang")
        with pytest.raises(ConflictError) as exc:
            save_draft(wang, screen.report.id, v, {"damage": "王丽写的"})
        save_draft(wang, screen.report.id, exc.value.current_version, {"damage": "王丽写的"}, resolved={"damage"})
        told = lambda: any("wang 替换了您在首报中填写的设备受损" in n.message for n in app._notifications)  # noqa: E731
        assert await wait_for(pilot, told, timeout=3.0)


async def test_edit_incident_conflict_shows_only_the_field_both_changed_and_takes_theirs(db_path, clock):
    from textual.widgets import Input, Static
    from models.incidents import get_incident, update_incident
    from tests.test_incident_screen import open_incident, seed
    from tests.ui_helpers import rendered
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx, inc = seed(app, clock)
        await open_incident(app, pilot, inc)
        await pilot.press("e")
        await pilot.pause(0.1)
        form = app.screen
        wang = make_ctx(app.store, clock, username="wang")
        update_incident(wang, inc.id, inc.version, {"location": "机房", "description": "王丽补充：已断网"})
        form.query_one("#location", Input).value = "教务处 302"
        form.query_one("#asset", Input).value = "学籍系统（学校端）"
        await pilot.press("ctrl+s")
        await pilot.pause()
        panel = rendered(form.query_one("#conflict", Static))
        assert "机房" in panel and "教务处 302" in panel and "已断网" not in panel   # description: only theirs
        now = get_incident(inc.id)
        assert (now.asset, now.description, now.location) == ("学籍系统（学校端）", "王丽补充：已断网", "机房")
        await pilot.press("ctrl+t")                                     # theirs for the location
        await pilot.pause()
        assert form.query_one("#location", Input).value == "机房"
        await pilot.press("ctrl+s")
        await pilot.pause()
    now = get_incident(inc.id)
    assert (now.location, now.description) == ("机房", "王丽补充：已断网")   # nothing blanked, nothing lost


async def test_text_stashed_by_an_earlier_session_is_offered_on_the_next_start(db_path, clock):
    from models.reports import open_report, stash_conflict, stashed_conflict
    inc = _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        r = open_report(app.ctx, inc.id, "school_plan", "first")
        stash_conflict(app.ctx, r.id, {**(r.fields or {}), "damage": "挂断前写的"})
        view = await _open(app, pilot)               # the form, and at once the decision over it
        await pilot.pause()
        assert type(view).__name__ == "ConflictScreen" and "挂断前写的" in _screen_text(view)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReportScreen"
        assert Report.get().fields["damage"] == "挂断前写的"
        assert stashed_conflict(app.ctx, r.id) is None
