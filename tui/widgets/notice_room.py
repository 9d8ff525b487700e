"""The two rows above the footer where notices (``notify``) appear, kept free by screens with a table.

Textual's toasts float on their own layer over whatever is under them; ``assets/tcss/app.tcss``
makes them one compact line wide as the screen, at most two rows, just above the footer. A screen
whose table could reach that far yields ``NoticeRoom()`` before its footer, so a notice never
covers a row of the table (issue 15 item 6).
"""
from __future__ import annotations

from textual.widgets import Static

ROWS = 2


class NoticeRoom(Static):
    DEFAULT_CSS = """
    NoticeRoom {
        height: 2;
        dock: bottom;
        margin-bottom: 1;      /* the footer's row: docks on one edge overlap, they do not stack */
    }
    """

    def __init__(self) -> None:
        super().__init__("", classes="notice-room")
