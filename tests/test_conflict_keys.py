"""The conflict view at 80×24, keys only (issue 15 item 4): focus starts in the edit box, a typed
letter is a letter (m, t, c used to resolve the whole conflict), the whole-conflict keys are ctrl
keys shown in the footer, in ? help (f1 here: ? is a character in the box) and in the palette, and
people are named by their profile name, not their login."""
from __future__ import annotations

from rich.cells import cell_len

from models.reports import save_draft
from models.tables import Report
from tests.conftest import make_app, make_ctx
from tests.test_report_screen import _open, _seed, _type_into
from tests.ui_helpers import screen_text, type_text


def _add_wangli(app):
    from models.accounts import create_user
    create_user(app.ctx, "wangli", "officer", "王丽", "Zx9!冲突口令-足够长-2026")
    return make_ctx(app.store, app.clock, username="wangli", role="officer")


async def _conflict(app, pilot):
    screen = await _open(app, pilot)
    wang = _add_wangli(app)
    save_draft(wang, screen.report.id, screen.version, {"damage": "服务器磁盘"})
    screen.paused = True
    await _type_into(pilot, screen, "damage", "无")
    screen.paused = False
    await pilot.press("f2")
    await pilot.pause()
    view = app.screen
    assert type(view).__name__ == "ConflictScreen"
    return screen, view


def _footer(app) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1].rstrip()


async def test_typed_letters_go_into_the_edit_box_and_resolve_nothing(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        report, view = await _conflict(app, pilot)
        box = view.query_one("#merge-damage")
        assert app.focused is box                               # typing goes somewhere
        await pilot.press("end")
        await type_text(pilot, "mtc")
        await pilot.pause()
        assert app.screen is view and box.text == "无mtc"       # nothing resolved
        assert Report.get().fields["damage"] == "服务器磁盘"
        await pilot.press("ctrl+s")                             # saves the combined edit
        await pilot.pause()
        assert app.screen is report and Report.get().fields["damage"] == "无mtc"


async def test_ctrl_keys_resolve_the_whole_conflict(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        report, view = await _conflict(app, pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert app.screen is report and Report.get().fields["damage"] == "无"
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        report = await _open(app, pilot)
        wang = make_ctx(app.store, clock, username="wangli", role="officer")
        save_draft(wang, report.report.id, report.version, {"damage": "王丽的"})
        report.paused = True
        await _type_into(pilot, report, "damage", "我的")
        report.paused = False
        await pilot.press("f2")
        await pilot.pause()
        assert type(app.screen).__name__ == "ConflictScreen"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.screen is report and Report.get().fields["damage"] == "王丽的"
        assert report.query_one("#field-damage").text == "王丽的"


async def test_footer_help_and_palette_name_the_keys_and_people_by_name(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        report, view = await _conflict(app, pilot)
        text = screen_text(app)
        assert "王丽" in text and "wangli" not in text, text
        footer = _footer(app)
        assert cell_len(footer) <= 80, footer
        shown = [k for k in ("^s", "^o", "^t", "^r") if k in footer]
        assert shown == ["^s", "^o", "^t", "^r"] or footer.endswith("帮助"), footer
        await pilot.press("f1")
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "HelpScreen"
        help_text = screen_text(app)
        for key, words in (("^o", "全用我的"), ("^t", "全用对方的"), ("^r", "用对方的并复制我的")):
            assert any(key in line and words in line for line in help_text.splitlines()), help_text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is view
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await type_text(pilot, "全用我的")
        await pilot.pause(0.3)
        assert "全用我的" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.screen is report and Report.get().fields["damage"] == "无"
