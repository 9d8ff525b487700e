"""``python -m bench.cell_table``: what ``CellTable.update_cell`` costs on a long table.

A headless app at 80×24 holds a ``CellTable`` of --rows rows × --cols columns. The cursor first
walks down the whole table and back (as an officer scrolling the board does: Textual's render caches
fill with every row's cells), then every cell is updated once (rows × cols calls of ``update_cell``)
and the frame that follows is painted, --runs times. Printed: the time of all the updates in the
first pass (the caches full) and in the later ones (median), per update, and the paint after them; the same for a plain Textual ``DataTable`` for comparison
(which refreshes the whole table on each update).

Figures, not pass/fail. In-process.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time


def _app(cls, rows: int, cols: int):
    from textual.app import App, ComposeResult

    class Tables(App):
        def compose(self) -> ComposeResult:
            yield cls(cursor_type="row")

        def on_mount(self) -> None:
            table = self.query_one(cls)
            for c in range(cols):
                table.add_column(f"c{c}", key=f"c{c}", width=8)
            for r in range(rows):
                table.add_row(*(f"{r}:{c}" for c in range(cols)), key=str(r))

    return Tables()


async def _measure(cls, rows: int, cols: int, runs: int) -> tuple[list[float], list[float], int]:
    app = _app(cls, rows, cols)
    updates, paints = [], []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(cls)
        for r in list(range(0, rows, 4)) + list(range(rows - 1, -1, -4)):
            table.move_cursor(row=r)
            await pilot.pause()
        cached = len(table._cell_render_cache) + len(table._row_render_cache)
        for run in range(runs):
            t = time.perf_counter()
            for r in range(rows):
                key = str(r)
                for c in range(cols):
                    table.update_cell(key, f"c{c}", f"{r}:{c}:{run}")
            updates.append(time.perf_counter() - t)
            t = time.perf_counter()
            await pilot.pause()
            paints.append(time.perf_counter() - t)
        assert table.get_cell(str(rows - 1), f"c{cols - 1}") == f"{rows - 1}:{cols - 1}:{runs - 1}"
    return updates, paints, cached


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.cell_table")
    p.add_argument("--rows", type=int, default=500)
    p.add_argument("--cols", type=int, default=8)
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args()
    from textual.widgets import DataTable

    from tui.widgets.cell_table import CellTable
    n = a.rows * a.cols
    for name, cls in (("CellTable", CellTable), ("DataTable", DataTable)):
        updates, paints, cached = asyncio.run(_measure(cls, a.rows, a.cols, a.runs))
        first, later = updates[0], statistics.median(updates[1:] or updates)
        print(f"{name:9} {a.rows} rows × {a.cols} columns, every cell updated ({n} updates): "
              f"after the walk ({cached} cached renderings) {first * 1000:.1f} ms "
              f"({first / n * 1e6:.1f} µs per update); later passes median {later * 1000:.1f} ms "
              f"({later / n * 1e6:.1f} µs); paint after it median {statistics.median(paints) * 1000:.1f} ms "
              f"({a.runs} passes)")


if __name__ == "__main__":
    main()
