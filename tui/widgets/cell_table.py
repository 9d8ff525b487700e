"""A DataTable whose cell updates repaint that cell only (issue 15 item 10).

Textual's ``DataTable.update_cell`` bumps the table's update count, which invalidates every
cached row, and refreshes the whole widget: the terminal receives the whole table again. On the
board one countdown changing each second rewrote ~5,000 bytes a second to the officer's
terminal (more than a plain table). ``CellTable.update_cell`` drops the cached renderings of
that one row only and refreshes the cell's region, so the compositor sends just that cell.

An update costs the same however long the table is: the render caches know which entries
belong to which row (``_RowCache``), so a row is forgotten without scanning them (Textual's
caches hold up to 11,000 renderings once the officer has scrolled the table), and a row's
place on screen comes from the row starts, computed once per change of the rows
(``DataTable`` sums the heights of every row above, on each call).

An update that may change a column's width (``update_width=True``), and tables with fixed
rows or columns, keep Textual's behaviour.

``CellTable.sync_rows`` is the keyed row diff both boards use (the school's live board and the
county board): given the rows wanted as ``(key, cells)``, it removes the rows gone, adds the new
ones, updates only the cells whose value changed, puts the rows in the wanted order and the cursor
back on its row.
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, Iterable, Mapping

from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual._two_way_dict import TwoWayDict
from textual.widgets import DataTable
from textual.widgets._data_table import CellDoesNotExist, CellKey, ColumnKey, RowKey

_ABSENT = object()


class _RowCache(LRUCache):
    """Textual's LRU cache, also keeping for each row the keys it holds of that row."""

    def __init__(self, maxsize: int, row_of: Callable[[Any], Hashable]) -> None:
        super().__init__(maxsize)
        self._row_of = row_of
        self._by_row: dict[Hashable, set] = {}

    def set(self, key, value) -> None:
        cache = self._cache
        if cache.get(key) is not None:
            return                              # as LRUCache.set: a held key keeps its value
        # LRUCache evicts at most one entry per set, the least recently used (the head's prev).
        oldest = self._head[0][2] if self._head else _ABSENT
        super().set(key, value)
        self._by_row.setdefault(self._row_of(key), set()).add(key)
        if oldest is not _ABSENT and oldest not in cache:
            self._unindex(oldest)

    __setitem__ = set

    def discard(self, key) -> None:
        super().discard(key)
        self._unindex(key)

    def clear(self) -> None:
        super().clear()
        self._by_row.clear()

    def forget(self, row: Hashable) -> None:
        """Drop every entry of one row: as many steps as that row has entries."""
        for key in self._by_row.pop(row, ()):
            LRUCache.discard(self, key)

    def _unindex(self, key) -> None:
        row = self._row_of(key)
        keys = self._by_row.get(row)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_row[row]


def _first(key):
    return key[0]


class CellTable(DataTable):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Both keyed by (row_key, …) in Textual 8: indexed by the row key.
        self._cell_render_cache = _RowCache(self._cell_render_cache.maxsize, _first)
        self._row_render_cache = _RowCache(self._row_render_cache.maxsize, _first)
        self._starts_for: list | None = None     # the y-offsets list the row starts were taken from
        self._starts: list[int] = []
        self._synced: dict[str, dict[str, Any]] = {}   # row key -> the cell values sync_rows put there

    # ------------------------------------------------------------------ keyed rows

    @property
    def synced(self) -> Mapping[str, Mapping[str, Any]]:
        """What ``sync_rows`` put in the table: row key -> {column key: value} (read only)."""
        return self._synced

    def shows(self, key: str) -> bool:
        """Whether ``sync_rows`` put this row in the table (and it is still there)."""
        return key in self._synced

    def cursor_key(self) -> str | None:
        """The key of the row under the cursor (None: no rows)."""
        if not self.row_count:
            return None
        key = self._row_locations.get_key(self.cursor_row)
        return None if key is None else key.value

    def sync_rows(self, rows: Iterable[tuple[str, Mapping[str, Any] | None]],
                  render: Callable[[str, Any, str], Any], *, structural: bool = True,
                  cursor: str | None = None) -> None:
        """Make the table show ``rows``, touching only what changed.

        ``rows``: ``(key, cells)`` pairs in the order wanted. ``cells`` maps every column key to a
        value, compared with what the row shows; ``render(column, value, key)`` makes the cell
        when it differs. ``cells`` None: leave that row as it is (the caller knows nothing in it
        changed). ``structural``: ``rows`` is the whole table — rows not in it are removed, new
        ones added, the rows put in its order and the cursor back on ``cursor``'s row. Otherwise
        ``rows`` may be any part of the table, and only rows already shown are updated. A changed
        cell repaints its own region (``update_cell``); an unchanged one is not touched.
        """
        synced = self._synced
        rows = list(rows)
        with self.app.batch_update():
            if structural:
                keep = {key for key, _ in rows}
                gone = [key for key in synced if key not in keep]
                if gone:
                    self._remove_rows(gone)
            columns = None
            for key, cells in rows:
                if cells is None:
                    continue
                old = synced.get(key)
                if old is None:
                    if not structural:
                        continue
                    if columns is None:
                        columns = [c.key.value for c in self.ordered_columns]
                    self.add_row(*[render(col, cells[col], key) for col in columns], key=key)
                    synced[key] = dict(cells)
                    continue
                for col, value in cells.items():
                    if old.get(col) != value:
                        self.update_cell(key, col, render(col, value, key))
                        old[col] = value
            if structural:
                wanted = [key for key, _ in rows if key in synced]
                current = [row_key.value for row_key in self._ordered_row_keys()]
                if current != wanted:
                    self._reorder(wanted, current)
                if cursor is not None and cursor in synced:
                    index = self.get_row_index(cursor)
                    if index != self.cursor_row:
                        self.move_cursor(row=index, scroll=False)

    def _ordered_row_keys(self) -> list[RowKey]:
        get_key = self._row_locations.get_key
        return [get_key(i) for i in range(len(self.rows))]

    def _reorder(self, wanted: list[str], current: list[str]) -> None:
        """Rows in ``wanted``'s order (rows it does not name after them, as they were), as
        ``DataTable.sort`` reorders: by the row keys, not by what the cells hold."""
        rank = {key: i for i, key in enumerate(wanted)}
        last = len(rank)
        order = sorted(current, key=lambda key: rank.get(key, last))
        self._row_locations = TwoWayDict({RowKey(key): i for i, key in enumerate(order)})
        self._update_count += 1
        self.refresh()

    def _remove_rows(self, keys: list[str]) -> None:
        """``remove_row`` for many rows in one pass (Textual's renumbers every row per removal)."""
        if len(keys) <= 4:
            for key in keys:
                self.remove_row(key)
            return
        gone = {RowKey(key) for key in keys}
        kept = [k for k in self._ordered_row_keys() if k not in gone]
        self._require_update_dimensions = True
        self.check_idle()
        self._row_locations = TwoWayDict({k: i for i, k in enumerate(kept)})
        for row_key in gone:
            for column_key in self._data.get(row_key, ()):
                self._updated_cells.discard(CellKey(row_key, column_key))
            self.rows.pop(row_key, None)
            self._data.pop(row_key, None)
            self._synced.pop(row_key.value, None)
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def remove_row(self, row_key) -> None:
        super().remove_row(row_key)
        self._synced.pop(row_key.value if isinstance(row_key, RowKey) else row_key, None)

    def clear(self, columns: bool = False):
        self._synced.clear()
        return super().clear(columns)

    # ------------------------------------------------------------------ cells

    def update_cell(self, row_key, column_key, value, *, update_width: bool = False) -> None:
        if update_width or self.fixed_columns or self.fixed_rows:
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        if isinstance(row_key, str):
            row_key = RowKey(row_key)
        if isinstance(column_key, str):
            column_key = ColumnKey(column_key)
        if row_key not in self._row_locations or column_key not in self._column_locations:
            raise CellDoesNotExist(f"No cell exists for row_key={row_key!r}, column_key={column_key!r}.")
        self._data[row_key][column_key] = value
        row_index = self._row_locations.get(row_key)
        column_index = self._column_locations.get(column_key)
        self._forget_row(row_key, row_index)
        self.refresh_coordinate(Coordinate(row_index, column_index))

    def _forget_row(self, row_key: RowKey, row_index: int) -> None:
        """Drop what the caches hold of one row (its renderables, cells, lines)."""
        # Keyed (update_count, row_index): only the current count's entry can be read again.
        self._row_renderable_cache.discard((self._update_count, row_index))
        for cache in (self._cell_render_cache, self._row_render_cache):
            if isinstance(cache, _RowCache):
                cache.forget(row_key)
            else:                                # replaced by someone else: scan, as before
                for key in [k for k in cache.keys() if k[0] == row_key]:
                    cache.discard(key)
        self._line_cache.clear()     # lines are cheap to rebuild from the cached rows

    def _row_y(self, row_index: int) -> int | None:
        """The row's first line in the table's content (below the header), or None if unknown."""
        offsets = self._y_offsets      # Textual's own (row_key, line) list, rebuilt when rows change
        if offsets is not self._starts_for:
            self._starts = [y for y, (_, line) in enumerate(offsets) if line == 0]
            self._starts_for = offsets
        if len(self._starts) != len(self.rows):
            return None                # a row of no height: leave it to Textual
        return self._starts[row_index]

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        row_index, column_index = coordinate
        y = self._row_y(row_index)
        if y is None:
            return super()._get_cell_region(coordinate)
        row = self.rows[self._row_locations.get_key(row_index)]
        columns = self.ordered_columns
        x = sum(column.get_render_width(self) for column in columns[:column_index]) + self._row_label_column_width
        if self.show_header:
            y += self.header_height
        return Region(x, y, columns[column_index].get_render_width(self), row.height)

    def _get_row_region(self, row_index: int) -> Region:
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        y = self._row_y(row_index)
        if y is None:
            return super()._get_row_region(row_index)
        row = self.rows[self._row_locations.get_key(row_index)]
        width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        if self.show_header:
            y += self.header_height
        return Region(0, y, max(self.size.width, width), row.height)


def install_left_crop() -> None:
    """Make Textual's partial updates start at the changed cell, not at the start of the widget's line.

    ``ChopsUpdate.render_segments`` (what a real terminal receives) crops a line's strip at the
    right end of the dirty span only: a countdown changing at column 56 rewrote the table's line
    from column 0 (its ``__rich_console__`` twin does crop both ends). This starts the write at the
    first segment that reaches into the span — a whole segment, so a wide (CJK) character is never
    cut in half — and ends it as Textual does. Installed once by ``tui.app``.
    """
    from rich.cells import cell_len
    from rich.control import Control
    from textual._compositor import ChopsUpdate
    from textual.strip import Strip

    if getattr(ChopsUpdate, "_left_crop", False):
        return

    def render_segments(self, console) -> str:
        sequences: list[str] = []
        append = sequences.append
        move_to = Control.move_to
        chops = self.chops
        chop_ends = self.chop_ends
        last_y = self.spans[-1][0]
        for y, x1, x2 in self.spans:
            line = chops[y]
            ends = chop_ends[y]
            for end, (x, strip) in zip(ends, line.items()):
                if strip is None:
                    continue
                if x > x2 or end <= x1:
                    continue
                if x2 > x >= x1 and end <= x2:
                    append(move_to(x, y).segment.text)
                    append(strip.render(console))
                    continue
                strip = strip.crop(0, min(end, x2) - x)
                if x < x1:
                    start, kept = x, []
                    for segment in strip:
                        width = cell_len(segment.text)
                        if kept or start + width > x1:
                            kept.append(segment)
                        else:
                            start += width
                    strip, x = Strip(kept), start
                append(move_to(x, y).segment.text)
                append(strip.render(console))
            if y != last_y:
                append("\n")
        return "".join(sequences)

    ChopsUpdate.render_segments = render_segments
    ChopsUpdate._left_crop = True
