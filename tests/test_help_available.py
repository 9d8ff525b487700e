"""``?`` lists only the keys that work at that moment, as the footer does: a key whose
``check_action`` is False (a role the officer lacks, a key that needs an incident, a read-only
incident) is left out; one shown disabled (None) is listed dimmed and marked 现在不可用."""
from datetime import timedelta

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_app, make_ctx


def help_rows(app) -> list[tuple[str, str]]:
    assert type(app.screen).__name__ == "HelpScreen"
    table = app.screen.query_one("#help-table", DataTable)
    return [(str(table.get_row_at(i)[0]), str(table.get_row_at(i)[1])) for i in range(table.row_count)]


def keys_of(rows) -> set[str]:
    return {k for keys, _ in rows for k in keys.split()}


def incident(app, clock):
    return create_incident(make_ctx(app.store, clock), IncidentInput(
        title="学籍账号异常登录", category="network_attack", occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))


async def open_help(pilot):
    await pilot.pause(0.3)
    await pilot.press("question_mark")
    await pilot.pause()


async def test_an_officer_is_not_offered_the_admins_keys(db_path, clock):
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24)) as pilot:
        inc = incident(app, clock)
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await open_help(pilot)
        keys = keys_of(help_rows(app))
        assert {"l", "n", "h"} <= keys                      # the officer's call keys, with an incident
        assert not keys & {"e", "a", "del", "delete", "o"}, keys   # edit/add/remove/tree: admin only


async def test_keys_that_need_an_incident_are_left_out_without_one(db_path, clock):
    app = make_app(db_path, clock, role="admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")                               # the contacts panel from the board: no incident
        await open_help(pilot)
        keys = keys_of(help_rows(app))
        assert "e" in keys and "a" in keys                   # the admin's keys
        assert "n" not in keys and "h" not in keys, keys     # next call, call history: need an incident


async def test_a_read_only_incident_offers_no_write_key(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = incident(app, clock)
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await open_help(pilot)
        assert {"e", "n", "h"} <= keys_of(help_rows(app))
        await pilot.press("escape")
        await pilot.pause()
        app.pop_screen()
        await pilot.pause()
        app.open_screen("incident", inc.id, read_only=True)
        await open_help(pilot)
        rows = help_rows(app)
        assert not keys_of(rows) & {"e", "g", "n", "v", "h", "w", "c"}, rows
        assert "p" in keys_of(rows)                           # the contacts panel still opens


class Greyed(Screen):
    """A screen with one key the footer greys out (check_action None) and one it hides (False)."""
    BINDINGS = [Binding("x", "greyed", "灰色的键"), Binding("y", "hidden", "隐藏的键"), Binding("z", "works", "能用的键")]

    def compose(self):
        yield Footer()

    def check_action(self, action, parameters):
        return {"greyed": None, "hidden": False}.get(action, True)


async def test_a_greyed_key_is_marked_as_the_footer_marks_it(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(Greyed())
        await open_help(pilot)
        rows = dict(help_rows(app))
        assert rows["z"] == "能用的键" and "y" not in rows
        assert rows["x"] == "灰色的键（现在不可用）"
        table = app.screen.query_one("#help-table", DataTable)
        cell = table.get_row_at([k for k, _ in help_rows(app)].index("x"))[1]
        assert "dim" in str(cell.style)


async def test_keys_of_a_role_the_officer_lacks_are_marked_with_the_role(db_path, clock):
    """The incident's leader keys stay (pressed, they say a leader is needed) but ? marks them."""
    app = make_app(db_path, clock, role="officer")
    async with app.run_test(size=(80, 24)) as pilot:
        inc = incident(app, clock)
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await open_help(pilot)
        rows = dict(help_rows(app))
        assert rows["c"] == "结案（需领导权限）" and rows["w"].endswith("（需领导权限）"), rows
        assert rows["e"] == "修改" and rows["n"] == "备注"          # the officer's own keys, unmarked
        await pilot.press("escape")
        await pilot.pause()
        app.pop_screen()
        await pilot.pause()
        app.open_screen("warnings")
        await open_help(pilot)
        assert "需" not in "".join(d for _, d in help_rows(app))    # an officer may do all of these


async def test_a_viewer_sees_every_write_key_marked(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for name in ("warnings", "ledger", "checks"):
            app.open_screen(name)
            await open_help(pilot)
            rows = dict(help_rows(app))
            marked = {k for k, d in rows.items() if "权限）" in d}
            expected = {"warnings": {"space", "n", "l"}, "ledger": {"n"}, "checks": {"⏎", "e", "n"}}[name]
            assert expected <= marked, (name, rows)
            assert "esc" not in marked
            await pilot.press("escape")
            await pilot.pause()
            app.pop_screen()
            await pilot.pause()
