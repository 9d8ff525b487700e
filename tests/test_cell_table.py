"""A cell update repaints that cell's region only (issue 15 item 10: the board paints what changed)."""
from rich.text import Text
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets._data_table import RowKey

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


def test_the_row_cache_knows_each_rows_entries_through_evictions():
    """_RowCache drops one row's entries without scanning: its index must match the cache exactly,
    whatever the LRU evicts."""
    import random

    from tui.widgets.cell_table import _RowCache
    cache = _RowCache(50, lambda key: key[0])
    rnd = random.Random(7)
    for step in range(3000):
        op = rnd.random()
        key = (rnd.randrange(20), rnd.randrange(10))
        if op < 0.6:
            cache[key] = step
        elif op < 0.75:
            cache.get(key)                         # a hit moves the key to the front
        elif op < 0.85:
            cache.discard(key)
        elif op < 0.97:
            cache.forget(key[0])
            assert all(k[0] != key[0] for k in cache.keys())
        else:
            cache.clear()
        indexed = {k for keys in cache._by_row.values() for k in keys}
        assert indexed == set(cache.keys()) and len(cache) <= 50
        assert all(keys for keys in cache._by_row.values())


class _Mixed(App):
    """Rows of different heights, a header: where a cell is must not depend on the caches."""

    def __init__(self, cls) -> None:
        super().__init__()
        self.cls = cls

    def compose(self) -> ComposeResult:
        yield self.cls()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name, width in (("code", 9), ("title", 20), ("left", 8)):
            table.add_column(name, key=name, width=width)
        for i in range(40):
            table.add_row(f"2026-{i:03d}", f"事件 {i}", f"{i}m", key=str(i), height=1 + i % 3)


async def test_cell_and_row_regions_are_textuals_after_adds_removes_and_sorts():
    app = _Mixed(CellTable)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(CellTable)

        def same() -> None:
            for r in range(table.row_count):
                assert table._get_row_region(r) == DataTable._get_row_region(table, r)
                for c in range(len(table.columns)):
                    coord = Coordinate(r, c)
                    assert table._get_cell_region(coord) == DataTable._get_cell_region(table, coord)

        same()
        table.update_cell("5", "left", "9s")           # no structural change: the row starts stay
        same()
        table.remove_row("3")
        table.add_row("2026-999", "新", "1m", key="new", height=2)
        await pilot.pause()
        same()
        table.sort("left", reverse=True)
        await pilot.pause()
        same()


async def test_an_update_forgets_that_rows_renderings_only_and_paints_the_new_text():
    app = _Tables(CellTable)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(CellTable)
        held = {k[0] for k in table._cell_render_cache.keys()}
        assert {RowKey("6"), RowKey("7"), RowKey("8")} <= held
        table.update_cell("7", "left", "42s")
        rows_now = {k[0] for k in table._cell_render_cache.keys()}
        assert RowKey("7") not in rows_now and rows_now == held - {RowKey("7")}
        assert RowKey("7") not in {k[0] for k in table._row_render_cache.keys()}
        await pilot.pause()
        assert "42s" in "".join(seg.text for seg in table.render_line(8))
        assert "6m" in "".join(seg.text for seg in table.render_line(7))


# ---------------------------------------------------------------- sync_rows: the boards' keyed diff

class _Synced(App):
    def compose(self) -> ComposeResult:
        yield CellTable(cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(CellTable)
        table.add_column("code", key="code", width=9)
        table.add_column("left", key="left", width=8)


def _rows(*pairs):
    return [(key, {"code": key, "left": left}) for key, left in pairs]


def _render(col, value, key):
    return Text(value)


def _order(table) -> list[str]:
    return [r.key.value for r in table.ordered_rows]


def _shown(table) -> dict[str, tuple]:
    return {r.key.value: tuple(str(c) for c in table.get_row(r.key)) for r in table.ordered_rows}


async def test_sync_rows_adds_removes_reorders_and_keeps_the_cursor():
    app = _Synced()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(CellTable)
        table.sync_rows(_rows(("a", "1m"), ("b", "2m"), ("c", "3m")), _render)
        assert _order(table) == ["a", "b", "c"] and table.shows("b") and table.cursor_key() == "a"
        table.move_cursor(row=1)                                  # on b
        table.sync_rows(_rows(("c", "1m"), ("d", "9m"), ("b", "2m")), _render, cursor=table.cursor_key())
        await pilot.pause()
        assert _order(table) == ["c", "d", "b"] and not table.shows("a")
        assert _shown(table) == {"c": ("c", "1m"), "d": ("d", "9m"), "b": ("b", "2m")}
        assert table.cursor_key() == "b" and table.cursor_row == 2
        assert set(table.synced) == {"b", "c", "d"} and table.synced["c"]["left"] == "1m"
        table.sync_rows([], _render)                               # everything gone
        assert table.row_count == 0 and not table.synced and table.cursor_key() is None


async def test_sync_rows_updates_only_the_cells_that_changed():
    app = _Synced()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(CellTable)
        table.sync_rows(_rows(*[(f"r{i}", f"{i}m") for i in range(10)]), _render)
        await pilot.pause()
        rendered, updated = [], []
        original = table.update_cell

        def spy(row_key, column_key, value, **kw):
            updated.append((row_key, column_key))
            original(row_key, column_key, value, **kw)
        table.update_cell = spy
        table._repaint_regions.clear()
        rows = _rows(*[(f"r{i}", f"{i}m") for i in range(10)])
        rows[4] = ("r4", {"code": "r4", "left": "59s"})
        table.sync_rows(rows, lambda c, v, k: rendered.append((c, v, k)) or Text(v))
        assert updated == [("r4", "left")] and rendered == [("left", "59s", "r4")]
        (region,) = table._repaint_regions                         # one cell's region, not the table
        assert region.height == 1 and region.width < table.outer_size.width
        await pilot.pause()
        assert "59s" in "".join(seg.text for seg in table.render_line(5))
        # Not structural: a part of the table; rows not named stay, rows not shown are not added.
        updated.clear()
        table.sync_rows([("r1", {"code": "r1", "left": "0s"}), ("new", {"code": "new", "left": "x"})],
                        _render, structural=False)
        assert updated == [("r1", "left")] and table.row_count == 10 and not table.shows("new")
        # None: leave the row as it is (it stays, in its place, even when structural).
        updated.clear()
        table.sync_rows([("r2", None), ("r1", None)], _render)
        assert updated == [] and _order(table) == ["r2", "r1"]


async def test_sync_rows_orders_by_key_whatever_the_first_column_holds_and_removes_many_at_once():
    app = _Synced()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(CellTable)
        keys = [f"k{i:03d}" for i in range(300)]
        table.sync_rows([(k, {"code": "same", "left": k}) for k in keys], _render)
        table.move_cursor(row=250)
        kept = keys[::-7]                                          # most rows go, the rest reversed
        table.sync_rows([(k, {"code": "same", "left": k}) for k in kept], _render, cursor="k250")
        await pilot.pause()
        assert _order(table) == kept and set(table.synced) == set(kept)
        assert [str(table.get_cell(k, "left")) for k in kept] == kept
        assert table.cursor_key() == "k250"
        table.clear(columns=False)
        assert not table.synced
        table.sync_rows(_rows(("z", "1m")), _render)
        assert _order(table) == ["z"]
