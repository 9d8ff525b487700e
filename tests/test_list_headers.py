"""The backup list and history headers fit 80 columns in both languages (issue 15 item 6)."""
import pytest
from rich.cells import cell_len
from textual.widgets import DataTable

from models.i18n import set_language, t
from tests.conftest import make_app
from tests.ui_helpers import screen_text

SCREENS = {"backup": ("#backup-table", "backup_screen.col.", ("at", "kind", "size", "state", "name")),
           "history": ("#history-table", "history.col.", ("code", "date", "kind", "grade", "category", "title"))}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", sorted(SCREENS))
async def test_every_heading_fits_at_80_columns(db_path, clock, name, lang):
    app = make_app(db_path, clock)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            set_language(lang)                 # after make_app: its Env applies the CLI's --lang zh
            await pilot.pause()
            app.open_screen(name)
            await pilot.pause(0.2)
            selector, prefix, keys = SCREENS[name]
            table = app.screen.query_one(selector, DataTable)
            total = 0
            for key in keys:
                column = table.columns[next(k for k in table.columns if k.value == key)]
                room = column.get_render_width(table) - 2 * table.cell_padding
                assert cell_len(t(prefix + key)) <= room, (key, t(prefix + key), room)
                total += column.get_render_width(table)
            assert total <= 80 - 2                               # nothing pushed off the right edge
            header = next(line for line in screen_text(app).splitlines() if t(prefix + keys[0]) in line and t(prefix + keys[1]) in line)
            for key in keys:
                assert t(prefix + key) in header
    finally:
        set_language("zh")


async def test_the_free_text_column_grows_with_the_width(db_path, clock):
    widths = []
    for size in ((80, 24), (120, 40)):
        app = make_app(db_path, clock)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.open_screen("history")
            await pilot.pause(0.2)
            table = app.screen.query_one("#history-table", DataTable)
            widths.append(next(c.width for k, c in table.columns.items() if k.value == "title"))
    assert widths[1] >= widths[0] + 40
