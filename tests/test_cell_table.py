"""A cell update repaints that cell's region only (issue 15 item 10: the board paints what changed)."""
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.widgets.cell_table import CellTable


class _Tables(App):
    def __init__(self, cls) -> None:
        super().__init__()
        self.cls = cls

    def compose(self) -> ComposeResult:
        yield self.cls()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("code", key="code")
        table.add_column("left", key="left", width=8)
        for i in range(15):
            table.add_row(f"2026-{i:03d}", f"{i}m", key=str(i))


async def _dirty_after_update(cls):
    app = _Tables(cls)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(DataTable)
        table._repaint_regions.clear()
        table.update_cell("7", "left", "59s")
        regions = set(table._repaint_regions)
        await pilot.pause()
        shown = table.get_cell("7", "left")
        line = "".join(seg.text for seg in table.render_line(8))      # header is line 0
    return regions, shown, line, table.outer_size


async def test_cell_update_dirties_the_cell_only_and_shows_the_new_value():
    regions, shown, line, size = await _dirty_after_update(CellTable)
    assert shown == "59s" and "59s" in line
    assert len(regions) == 1
    (region,) = regions
    assert region.height == 1 and region.width < size.width       # not the whole table


async def test_textuals_own_update_cell_dirties_the_whole_table():
    regions, _, _, size = await _dirty_after_update(DataTable)
    assert any(r.size == size for r in regions)                     # why CellTable exists


def test_a_partial_update_is_written_from_the_changed_cell_not_the_line_start():
    """Textual's render_segments crops only the right end: the table's line was rewritten from
    column 0. With tui.app's install_left_crop, the write starts at the span (a whole segment)."""
    from rich.console import Console
    from rich.segment import Segment
    from textual._compositor import ChopsUpdate
    from textual.strip import Strip

    import tui.app  # noqa: F401  (installs the left crop)
    strip = Strip([Segment("2026-001 "), Segment("学籍系统异常 "), Segment("17m "), Segment("待办")])
    update = ChopsUpdate([{0: strip}], [(0, 22, 26)], [[strip.cell_length]])
    out = update.render_segments(Console(width=80, color_system=None, legacy_windows=False))
    assert "17m" in out and "2026-001" not in out and "学籍" not in out and "待办" not in out
    assert out.startswith("\x1b[1;23H")          # move to column 22 (1-based 23), then the cell
