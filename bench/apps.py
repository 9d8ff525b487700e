"""The programs the benchmarks run in a pseudo-terminal: the board, a minimal Textual app, and a
plain DataTable whose countdown cells update every second (the naive board)."""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone

from textual.app import App, ComposeResult
from textual.widgets import Static


class Minimal(App):
    """Nothing but a line of text: what any Textual app costs to start here."""

    def compose(self) -> ComposeResult:
        yield Static("minimal-ready")


class PlainTable(App):
    """20 countdowns, each cell rewritten every second."""

    def compose(self) -> ComposeResult:
        from textual.widgets import DataTable   # here, so the minimal app does not import it
        yield DataTable()

    def on_mount(self) -> None:
        from textual.widgets import DataTable
        table = self.query_one(DataTable)
        table.add_column("code", key="code")
        table.add_column("title", key="title")
        table.add_column("left", key="left", width=9)
        now = datetime.now(timezone.utc)
        self.due = {f"2026-{9001 + i}": now + timedelta(minutes=20 + i * 160 / 19) for i in range(20)}
        for code in self.due:
            table.add_row(code, f"学籍系统异常 {code}", self._left(code), key=code)
        self.set_interval(1.0, self.tick)

    def _left(self, code: str) -> str:
        s = int((self.due[code] - datetime.now(timezone.utc)).total_seconds())
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"

    def tick(self) -> None:
        from textual.widgets import DataTable
        table = self.query_one(DataTable)
        for code in self.due:
            table.update_cell(code, "left", self._left(code))


def run_board(db: str) -> int:
    """Straight to the board as a logged-in officer (the state after a remembered login), with
    the same start-up as the real command (tui/startup.py)."""
    from tui import startup
    startup.pause()
    import argparse as ap
    from models.context import Actor
    from tui.app import DutyApp
    from tui.env import Env
    env = Env.from_args(ap.Namespace(db=db, lang=None, user=None, no_mouse=True, command=None))
    app = DutyApp(env, actor=Actor(username="bench", role="officer", display_name="bench", origin="local"))
    app.run(mouse=False)
    return app.return_code or 0


def main() -> None:
    import os
    import signal
    if os.environ.get("XUEJI_BENCH_IGNORE_SIGHUP") and hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)   # as under nohup (tests of the watchdog)
    p = argparse.ArgumentParser()
    p.add_argument("which", choices=["board", "minimal", "plain"])
    p.add_argument("--db")
    a = p.parse_args()
    if a.which == "board":
        sys.exit(run_board(a.db))
    elif a.which == "minimal":
        Minimal().run(mouse=False)
    else:
        PlainTable().run(mouse=False)
    sys.exit(0)


if __name__ == "__main__":
    main()
