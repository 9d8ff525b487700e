"""A key that needs a role the officer lacks looks so before it is pressed: the footer shows it dimmed
(``check_action`` None, tui/role_keys.RoleKeys), and pressed it is refused with a notice naming the
role, not dropped in silence. The footers still fit 80 columns, in Chinese and in English."""
import json
import os
import subprocess
import sys
from datetime import timedelta

from rich.cells import cell_len
from textual.widgets._footer import FooterKey

from models.incidents import IncidentInput, create_incident
from tests.conftest import ROOT, T0, make_app, make_ctx
from tests.ui_helpers import screen_ready, screen_text, wait_for


def reading(app):
    keys = app.screen.query(FooterKey)
    return screen_text(app).splitlines()[-1], [(k.key, k.has_class("-disabled")) for k in keys]


async def footer_drawn(app, pilot):
    """The footer as drawn once it settles: it recomposes after a bindings change (rows listed, an
    alarm), so it is read when it has keys and two readings a repaint apart agree."""
    before = None
    for _ in range(100):
        await wait_for(pilot, lambda: bool(app.screen.query(FooterKey)) and bool(reading(app)[0].strip()))
        now = reading(app)
        if now == before:
            return
        before = now
        await pilot.pause(0.05)


def dimmed(app) -> set[str]:
    return {k.key_display or k.key for k in app.screen.query(FooterKey) if k.has_class("-disabled")}


def shown(app) -> set[str]:
    return {k.key_display or k.key for k in app.screen.query(FooterKey)}


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


def footer_fits(line: str, keys) -> None:
    """Within 80 columns, each key the screen owns whole with its word (the app's own ^q, last, may
    lose its word in English on the incident screen, where ? Help still fits)."""
    assert cell_len(line) <= 80, line
    for key, description in keys:
        if key != "^q":
            assert f"{key} {description}" in line, (key, description, line)


DIMMED = {"viewer": {"board": {"n"}, "incident": {"e", "g", "n", "v", "h", "c"},
                     "checks": {"⏎", "e", "n"}, "warnings": {"space", "n", "l"}, "ledger": {"n"}},
          "officer": {"board": set(), "incident": {"g", "c"}, "checks": {"e", "n"},
                      "warnings": set(), "ledger": set()}}


def incident(app, clock):
    return create_incident(make_ctx(app.store, clock), IncidentInput(
        title="学籍账号异常登录", category="network_attack", occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))


async def open_screen(app, pilot, name, *args):
    app.open_screen(name, *args)
    await pilot.pause()
    await screen_ready(app)
    await footer_drawn(app, pilot)


async def test_an_officer_sees_the_leaders_keys_dimmed_and_pressing_one_names_the_role(db_path, clock):
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        inc = incident(app, clock)
        await open_screen(app, pilot, "incident", inc.id)
        screen = app.screen
        assert dimmed(app) == {"g", "c"}, dimmed(app)          # 定级, 结案: a leader's
        assert {"e", "n", "v", "h", "p"} <= shown(app) - dimmed(app)
        footer = screen_text(app).splitlines()[-1]
        assert "g 定级" in footer and "c 结案" in footer and cell_len(footer) <= 80, footer
        for key in ("c", "g"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, (key, app.screen)    # no dialog, no grading form to type into
            assert any("领导" in n and "值班员" in n for n in notices(app)), (key, notices(app))


async def test_a_leader_sees_them_plain_and_they_work(db_path, clock):
    app = make_app(db_path, clock, role="leader")
    async with app.run_test(size=(80, 24)) as pilot:
        inc = incident(app, clock)
        await open_screen(app, pilot, "incident", inc.id)
        assert dimmed(app) == {"c"}, dimmed(app)              # 结案 waits for 处置结束 (test_incident_state_keys)
        await pilot.press("g")
        await pilot.pause()
        assert type(app.screen).__name__ == "GradeScreen"


def footer_keys(app):
    return [(k.key_display or k.key, k.description) for k in app.screen.query(FooterKey)]


async def test_a_viewer_sees_every_write_key_dimmed_and_the_chinese_footers_fit(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        inc = incident(app, clock)
        await screen_ready(app)
        board = app.screen
        await wait_for(pilot, lambda: bool(board._rows) and "⏎" in shown(app) and "⏎" not in dimmed(app))
        await footer_drawn(app, pilot)                                     # the incident listed
        assert dimmed(app) == DIMMED["viewer"]["board"], dimmed(app)      # n 新建: an officer's
        footer_fits(screen_text(app).splitlines()[-1], footer_keys(app))
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is board and any("值班员" in n for n in notices(app)), notices(app)
        for name, press, role in (("incident", "h", "值班员"), ("checks", "e", "领导"), ("checks", "enter", "值班员"),
                                  ("warnings", "n", "值班员"), ("ledger", "n", "值班员")):
            await open_screen(app, pilot, name, *([inc.id] if name == "incident" else []))
            screen = app.screen
            assert dimmed(app) == DIMMED["viewer"][name], (name, dimmed(app))
            footer_fits(screen_text(app).splitlines()[-1], footer_keys(app))
            app.clear_notifications()
            await pilot.press(press)
            await pilot.pause()
            assert app.screen is screen, (name, press, app.screen)
            assert any(role in n for n in notices(app)), (name, press, notices(app))
            app.pop_screen()
            await pilot.pause()


async def test_a_dimmed_key_chosen_from_the_palette_names_the_role_too(db_path, clock):
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        inc = incident(app, clock)
        await open_screen(app, pilot, "incident", inc.id)
        screen = app.screen
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"结案")
        await wait_for(pilot, lambda: "结案" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("领导" in n for n in notices(app)))
        assert app.screen is screen
        assert any("领导" in n for n in notices(app)), notices(app)


def test_the_english_footers_fit_80_columns_with_keys_dimmed(tmp_path):
    """Key labels are fixed when a screen module is imported: English needs a process of its own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XUEJI_DUTY_CONFIG": str(tmp_path / "no-config.toml")}
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "footer_probe.py"), "en", "officer,viewer",
                           str(tmp_path)], capture_output=True, text=True, env=env, timeout=60, cwd=str(ROOT))
    assert done.returncode == 0, done.stderr[-2000:]
    for role, screens in json.loads(done.stdout).items():
        assert set(screens) == {"board", "incident", "checks", "warnings", "ledger"}
        for name, seen in screens.items():
            assert seen["shown"], (role, name, seen)             # the footer was drawn
            footer_fits(seen["line"], seen["shown"])
            assert "Edit" in seen["line"] or name in ("board", "ledger", "warnings"), seen["line"]   # English
            assert set(seen["disabled"]) == DIMMED[role][name], (role, name, seen)


async def test_the_goto_menu_marks_the_screens_a_role_is_needed_for(db_path, clock):
    from textual.widgets import DataTable, OptionList
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await screen_ready(app)
        await pilot.press("g")
        await pilot.pause()
        menu = app.screen
        assert type(menu).__name__ == "GotoScreen"
        options = menu.query_one(OptionList)
        prompts = {options.get_option_at_index(i).id: str(options.get_option_at_index(i).prompt)
                   for i in range(options.option_count)}
        assert prompts["accounts"] == "u  值守台账号（需管理员权限）", prompts
        assert prompts["backup"] == "b  备份与恢复" and prompts["stats"] == "s  统计与年报", prompts
        text = screen_text(app)
        assert "值守台账号（需管理员权限）" in text, text
        await pilot.press("u")
        await pilot.pause()
        assert app.screen is menu
        assert any("管理员" in n and "值班员" in n for n in notices(app)), notices(app)
        await pilot.press("question_mark")
        await pilot.pause()
        table = app.screen.query_one("#help-table", DataTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows["u"] == "值守台账号（需管理员权限）" and rows["s"] == "统计与年报", rows


async def test_the_contacts_panels_admin_keys_are_left_out_for_an_officer_and_pressed_say_why(db_path, clock):
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        inc = incident(app, clock)
        await open_screen(app, pilot, "contacts", inc.id)
        panel = app.screen
        assert "l" in shown(app) and not dimmed(app), (shown(app), dimmed(app))
        for key in ("e", "a", "o"):
            app.clear_notifications()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is panel, (key, app.screen)
            assert any("管理员" in n for n in notices(app)), (key, notices(app))
