"""Chinese throughout (issue 15 item 5): Textual's own strings through the catalogue, and a plain
server shell (``LANG=C.UTF-8``) starts in Chinese."""
import os
import sys
from datetime import timedelta

import pytest

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text


async def test_palette_footer_system_commands_and_ctrl_c_are_chinese(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("checks")                     # a screen whose footer shows the palette key
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "palette" not in text and "命令" in text
        await pilot.press("ctrl+c")                   # does not quit; says how, in Chinese
        await pilot.pause()
        assert any("Ctrl+Q" in str(n.message) and "退出" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        text = screen_text(app)
        assert "搜索命令" in text and "Search" not in text
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "截屏" in titles and "退出" in titles and not {"Quit", "Screenshot", "Theme", "Keys"} & set(titles)
        app.notify("Saved screenshot to [$text-success]'/tmp/x.svg'", title="Screenshot")   # as Textual words it
        await pilot.pause()
        assert any(str(n.message) == "截屏已保存到 /tmp/x.svg" and n.title == "截屏" for n in app._notifications)


async def test_timeline_shows_the_subcategory_name_not_its_id(db_path, clock):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    inc = create_incident(ctx, IncidentInput(title="勒索", category="malware", subcategory="ransomware",
                                             occurred_at=T0 - timedelta(minutes=5), discovered_at=T0,
                                             personal_info=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.3)
        await pilot.press("2")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "ransomware" not in text and "勒索" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal")
def test_a_plain_server_shell_starts_in_chinese(tmp_path):
    """``LANG=C.UTF-8 xueji-duty``: 处置中 / 超时 on the board, 搜索 in the palette."""
    from bench.ptyrun import PtyApp
    from bench.seed import seed
    db = tmp_path / "c.db"
    seed(db, 3, 1)
    env = {"LANG": "C.UTF-8", "LC_ALL": "", "LC_MESSAGES": "", "XUEJI_DUTY_LANG": ""}
    app = PtyApp("board", "--db", str(db), env=env)
    try:
        assert app.wait_for("处置中", timeout=60) is not None
        assert app.wait_for("超时", timeout=10) is not None
        mark = app.size()
        os.write(app.master, b"\x10")                 # ctrl+p
        assert app.wait_for("搜索", timeout=10, since=mark) is not None
    finally:
        app.quit()
