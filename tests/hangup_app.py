"""The real app in a pseudo-terminal, logged in, opening one form: ``python -m tests.hangup_app DB SCREEN [ARG]``.

Used by tests/test_hangup_drafts.py to type into a form and hang up the terminal.
"""
from __future__ import annotations

import argparse
import sys


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("db")
    p.add_argument("screen")
    p.add_argument("arg", nargs="?")
    a = p.parse_args()
    from models.context import Actor
    from tui.app import DutyApp
    from tui.env import Env
    env = Env.from_args(argparse.Namespace(db=a.db, lang=None, user=None, no_mouse=True, command=None))
    app = DutyApp(env, actor=Actor(username="duty", role="officer", display_name="值班员", origin="local"))

    def open_form() -> None:
        if a.screen == "report":
            app.open_screen("report", a.arg, "school_plan", "first")
        else:
            app.open_screen(a.screen)

    app.call_later(lambda: app.set_timer(0.3, open_form))
    app.run(mouse=False)
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
