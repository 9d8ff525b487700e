"""SVG snapshots of the main screens at 80×24 and 120×40, checked in under ``tests/snapshots/``
so that a layout change shows in review (issue 15 item 10).

``python -m tests.snapshot_screens`` writes them again (``.svg`` to look at, ``.txt`` the plain
text the test compares: a style-only change does not fail it). Same data, same fixed clock
every time: 2026-11-25 10:00 in Shanghai, two incidents, the school's shipped checks."""
from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent / "snapshots"
SIZES = ((80, 24), (120, 40))
SCROLLBAR = str.maketrans({ch: " " for ch in "▁▂▃▄▅▆▇█▔▕▏▎▍▌▋▊▉"})
SCREENS = ("board", "incident", "new_incident", "report", "contacts", "checks", "warnings", "help")


def _seed(app, clock):
    from models.incidents import IncidentInput, create_incident
    from tests.conftest import T0, make_ctx
    ctx = make_ctx(app.store, clock)
    first = create_incident(ctx, IncidentInput(
        title="勒索病毒加密学籍服务器", category="malware", subcategory="ransomware",
        occurred_at=T0 - timedelta(minutes=50), discovered_at=T0 - timedelta(minutes=20),
        location="教务处机房", asset="学籍服务器", personal_info=None, reported_by="李老师",
        description="屏幕出现勒索信息，约1200名学生数据"))
    create_incident(ctx, IncidentInput(
        title="学籍账号异常登录", category="network_attack", occurred_at=T0 - timedelta(hours=2),
        discovered_at=T0 - timedelta(hours=2), personal_info=False))
    return first


async def _open(app, pilot, name, inc):
    if name == "board":
        # The overdue oral report's alarm banner (and its `a` key) comes from a worker a moment
        # after the rows: wait for it, or a busy machine snapshots the board without it.
        from tests.ui_helpers import screen_text
        for _ in range(100):
            if "确认警报" in screen_text(app):
                break
            await pilot.pause(0.05)
        return
    if name == "incident":
        app.open_screen("incident", inc.id)
    elif name == "report":
        app.open_screen("report", inc.id, "school_plan", "first", 1)
    elif name == "contacts":
        app.open_screen("contacts", inc.id)
    elif name == "help":
        # ? lists the keys that work at that moment: `a` (确认警报) once the alarm is there.
        await _open(app, pilot, "board", inc)
        app.action_help()
    else:
        app.open_screen(name)
    await pilot.pause(0.5)


async def render(name: str, size: tuple[int, int], workdir: Path) -> tuple[str, str]:
    """(svg, plain text) of one screen."""
    from models.clock import FixedClock
    from models.i18n import set_language
    from tests.conftest import T0, make_app
    from tests.ui_helpers import screen_text
    set_language("zh")
    clock = FixedClock(T0)
    app = make_app(workdir / f"{name}-{size[0]}.db", clock)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.3)
        inc = _seed(app, clock)
        await pilot.pause(0.3)
        if hasattr(app.screen, "reload"):
            app.screen.reload()
        await pilot.pause(0.3)
        await _open(app, pilot, name, inc)
        app.clear_notifications()
        await pilot.pause(0.2)
        for _ in range(30):                 # the footer fills in a refresh or two later
            text = screen_text(app)
            if text.splitlines()[-1].strip():
                break
            await pilot.pause(0.1)
        await pilot.pause(0.1)
        # Scrollbar thumbs (block elements) settle a frame or two later: not part of the layout.
        text = "\n".join(line.translate(SCROLLBAR).rstrip() for line in screen_text(app).splitlines())
        svg = app.export_screenshot(title=f"{name} {size[0]}×{size[1]}")
    app.store.close()
    return svg, text


def path(name: str, size: tuple[int, int], ext: str) -> Path:
    return HERE / f"{name}-{size[0]}x{size[1]}.{ext}"


async def write_all() -> None:
    HERE.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name in SCREENS:
            for size in SIZES:
                svg, text = await render(name, size, Path(tmp))
                path(name, size, "svg").write_text(svg, encoding="utf-8")
                path(name, size, "txt").write_text(text + "\n", encoding="utf-8")
                print(path(name, size, "svg").relative_to(HERE.parent.parent))


if __name__ == "__main__":
    import os
    os.environ.setdefault("XUEJI_DUTY_CONFIG", os.devnull + "-none.toml")
    os.environ.setdefault("XUEJI_DUTY_AUTO_BACKUP", "0")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    sys.exit(asyncio.run(write_all()))
