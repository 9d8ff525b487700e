"""Table columns sized so that every heading fits and the free-text column takes what is left.

``fit_columns(table, [(key, label, width), …], flex="title", room=80)`` gives each column at least
its heading's width (so no heading is cut at 80 columns, in either language) and gives the
``flex`` column the rest of ``room``: it grows with the terminal (issue 15 item 6).
"""
from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text

CHROME = 2     # the table's vertical scrollbar, kept so the widths do not jump


def column_widths(spec: list[tuple[str, str, int]], flex: str, room: int, padding: int = 1) -> dict[str, int]:
    """Each column its given width or its heading's, whichever is wider; ``flex`` also takes the rest."""
    widths = {key: max(width, cell_len(label)) for key, label, width in spec}
    fixed = sum(w for key, w in widths.items() if key != flex)
    free = room - CHROME - fixed - 2 * padding * len(spec)
    widths[flex] = max(widths[flex], free)
    return widths


def fit_columns(table, spec: list[tuple[str, str, int]], flex: str, room: int) -> None:
    """Add the columns (first call) or resize them to ``room`` cells (on a resize)."""
    widths = column_widths(spec, flex, room, table.cell_padding)
    if not table.columns:
        for key, label, _width in spec:
            table.add_column(Text(label), key=key, width=widths[key])
        return
    changed = False
    for key, column in table.columns.items():
        width = widths.get(str(key.value))
        if width is not None and column.width != width:
            column.width, column.auto_width, changed = width, False, True
    if changed:
        table._require_update_dimensions = True
        table.refresh(layout=True)
