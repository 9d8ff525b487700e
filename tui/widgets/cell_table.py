"""A DataTable whose cell updates repaint that cell only (issue 15 item 10).

Textual's ``DataTable.update_cell`` bumps the table's update count, which invalidates every
cached row, and refreshes the whole widget: the terminal receives the whole table again. On the
board one countdown changing each second rewrote ~5,000 bytes a second to the officer's
terminal (more than a plain table). ``CellTable.update_cell`` drops the cached renderings of
that one row only and refreshes the cell's region, so the compositor sends just that cell.

An update that may change a column's width (``update_width=True``), and tables with fixed
rows or columns, keep Textual's behaviour.
"""
from __future__ import annotations

from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets._data_table import CellDoesNotExist, ColumnKey, RowKey


class CellTable(DataTable):
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
        cache = self._row_renderable_cache
        for key in [k for k in cache.keys() if k[1] == row_index]:
            cache.discard(key)
        for cache in (self._cell_render_cache, self._row_render_cache):
            for key in [k for k in cache.keys() if k[0] == row_key]:
                cache.discard(key)
        self._line_cache.clear()     # lines are cheap to rebuild from the cached rows


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
