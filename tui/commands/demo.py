"""``xueji-duty demo``: the app on a throwaway database with a fictional school.

The database lives in a new temporary folder, never the user's own (``--db``
is ignored), and the folder is deleted when the app exits.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from models.context import Actor
from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("demo", help=t("prevention.cli.demo.help"))
    add_common(p)
    p.add_argument("--keep", action="store_true", help=t("prevention.cli.demo.keep"))
    p.set_defaults(func=run)


DEMO_ACTOR = Actor(username="demo", role="admin", display_name="演示值班员")


def prepare(env) -> Path:
    """Point ``env`` at a fresh temporary database and fill it; returns the folder."""
    from models.demo import seed_demo
    folder = Path(tempfile.mkdtemp(prefix="xueji-demo-"))
    env.close()
    env._store = None
    env.db_path = folder / "demo.db"
    ctx = env.context()
    ctx.actor = DEMO_ACTOR
    seed_demo(ctx)
    env.settings = ctx.settings
    return folder


def run(env) -> int:
    folder = prepare(env)
    try:
        from tui.app import DutyApp
        app = DutyApp(env, actor=DEMO_ACTOR)
        app.title = t("prevention.demo.title")
        app.sub_title = "DEMO"
        app.run(mouse=not getattr(env.args, "no_mouse", False))
        code = app.return_code or 0
    finally:
        env.close()
        if env.args.keep:
            sys.stderr.write(t("prevention.cli.demo.kept", path=str(folder)) + "\n")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return code
