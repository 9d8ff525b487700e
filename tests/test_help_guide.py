"""The ``?`` overlay names the user guide's section for the screen it was opened from (issue 18)."""
from __future__ import annotations

from textual.widgets import Static

from models.i18n import set_language
from tests.conftest import make_app
from tests.ui_helpers import rendered


def _guide(app) -> str:
    return rendered(app.screen.query_one("#help-guide", Static))


async def test_help_from_the_board_names_the_daily_duty_section(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        assert "docs/guide.zh.md" in _guide(app) and "值班日常" in _guide(app)
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "BoardScreen"


async def test_help_opens_from_any_screen_with_its_own_section(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")                       # the contacts panel has no ? of its own
        await pilot.pause()
        assert type(app.screen).__name__ == "ContactsScreen"
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        assert "通讯录与电话" in _guide(app)
        await pilot.press("question_mark")           # ? closes it again, never stacks a second
        await pilot.pause()
        assert type(app.screen).__name__ == "ContactsScreen"


async def test_help_names_the_english_guide_in_english(db_path, clock):
    app = make_app(db_path, clock)
    set_language("en")                     # after make_app: its Env applies the CLI's --lang zh
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("x")
            await pilot.pause()
            await pilot.press("question_mark")
            await pilot.pause()
            assert "docs/guide.en.md" in _guide(app)
            assert "Prevention checks and warnings" in _guide(app)
    finally:
        set_language("zh")


async def test_a_question_mark_typed_into_a_field_stays_in_the_field(db_path, clock):
    from textual.widgets import Input
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert type(app.screen).__name__ == "NewIncidentScreen"
        await pilot.press("a", "question_mark", "b")
        await pilot.pause()
        assert type(app.screen).__name__ == "NewIncidentScreen"
        assert app.screen.query_one("#title", Input).value == "a?b"


async def test_help_lists_no_internal_action_and_the_palette_once(db_path, clock):
    """QA walk: the help listed ``tab  type_ahead_focus(1)`` and the palette twice (^p 命令, ctrl+p 命令面板)."""
    from textual.widgets import DataTable

    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        table = app.screen.query_one("#help-table", DataTable)
        rows = [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1])) for i in range(table.row_count)]
        actions = [desc for _, desc in rows]
        assert not [d for d in actions if "_" in d or "(" in d], rows
        assert ("tab", "下一栏") in rows and ("shift+tab", "上一栏") in rows
        assert sum(1 for keys, _ in rows if "^p" in keys or "ctrl+p" in keys) == 1, rows
