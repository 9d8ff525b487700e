"""Regenerate the guide's screenshots (docs/img/*.png) from the app's own SVG screenshots.

    python docs/tools/screenshots.py          # from the repository's root, in .venv

Needs ``rsvg-convert`` (Debian/Ubuntu: ``apt-get install librsvg2-bin``) and a CJK font for it to
draw the Chinese with (``fonts-noto-cjk``); ``pngquant``, when installed, makes the files smaller. The app runs headless at 80×24, as over SSH, on the
demo school (``xueji-duty demo``'s database, in a temporary folder): each screen is opened by name,
saved with Textual's ``export_screenshot`` (SVG) and converted to a PNG about 640 pixels wide.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "img"
WIDTH = 640


def _png(svg: str, name: str, tmp: Path) -> Path:
    src = tmp / f"{name}.svg"
    src.write_text(svg, encoding="utf-8")
    dest = OUT / f"{name}.png"
    subprocess.run(["rsvg-convert", "--width", str(WIDTH), "--keep-aspect-ratio", "-o", str(dest), str(src)],
                   check=True)
    if shutil.which("pngquant"):           # 256 colours are plenty for a terminal: about a third the size
        subprocess.run(["pngquant", "--force", "--skip-if-larger", "--output", str(dest), "256", str(dest)],
                       check=False)
    return dest


async def _shoot(tmp: Path) -> list[Path]:
    from models.demo import seed_demo
    from tui.app import DutyApp
    from tui.commands.demo import DEMO_ACTOR
    from tui.env import Env
    args = argparse.Namespace(db=str(tmp / "demo.db"), config=str(tmp / "none.toml"), lang="zh", user=None,
                              no_mouse=True, command=None)
    env = Env.from_args(args)
    ctx = env.context()
    ctx.actor = DEMO_ACTOR
    demo = seed_demo(ctx)
    env.settings = ctx.settings
    app = DutyApp(env, actor=DEMO_ACTOR)
    app.title = "学籍应急值守台"
    shots = []
    async with app.run_test(size=(80, 24)) as pilot:
        async def settle(seconds: float = 1.0) -> None:
            await pilot.pause()
            await asyncio.sleep(seconds)      # the board's rows and banners arrive from workers
            await pilot.pause()

        await settle(2.0)
        shots.append(_png(app.export_screenshot(), "board", tmp))
        for name, args_ in (("incident", (demo.overdue.id,)),
                            ("report", (demo.overdue.id, "school_plan", "first")),
                            ("contacts", (demo.overdue.id,)),
                            ("new_incident", ())):
            app.open_screen(name, *args_)
            await settle()
            shots.append(_png(app.export_screenshot(), name, tmp))
            app.pop_screen()
            await settle(0.3)
    env.close()
    return shots


def main() -> int:
    if shutil.which("rsvg-convert") is None:
        print("rsvg-convert not found: apt-get install librsvg2-bin fonts-noto-cjk")
        return 2
    os.environ.setdefault("XUEJI_DUTY_AUTO_BACKUP", "0")
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="xueji-shots-"))
    try:
        for path in asyncio.run(_shoot(tmp)):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
