"""Notices never cover a table or list, on any screen that has one (issue 15 item 6).

Every such screen keeps the two rows above its footer free (``tui.widgets.notice_room.NoticeRoom``);
a notice shows there and nowhere else: not over the table, not over the number to dial."""
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Footer

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text

# screen → the regions a notice must never cover (every DataTable of the screen, plus these)
SCREENS = {
    "contacts": ("#contacts-number",),
    "checks": (),
    "warnings": (),
    "ledger": (),
    "accounts": (),
    "drills": (),
    "registry": (),
    "history": (),
    "backup": (),
    "stats": ("#stats-body",),
    "evidence": ("#evidence-table",),
}


async def open_named(app, pilot, name):
    await pilot.pause()
    if name == "evidence":                 # the evidence list is a tab of the incident screen
        inc = create_incident(make_ctx(app.store, app.clock), IncidentInput(
            title="学籍服务器异常登录", category="network_attack", occurred_at=T0 - timedelta(minutes=30),
            discovered_at=T0, personal_info=False))
        app.open_screen("incident", inc.id)
        await pilot.pause(0.2)
        await pilot.press("3")
    else:
        assert app.open_screen(name)
    await pilot.pause(0.3)


def content(screen) -> list:
    """What the screen shows between its header and its footer: every top-level widget but the
    footer, the notice room and the layers (notices, tooltips) that float over them."""
    floating = ("Footer", "NoticeRoom", "ToastRack", "Tooltip")
    return [w for w in screen.children
            if w.display and w.region.height and type(w).__name__ not in floating]


@pytest.mark.parametrize("name", sorted(SCREENS))
async def test_a_notice_never_covers_the_table_or_its_lines(db_path, clock, name):
    from textual.widgets._toast import Toast
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await open_named(app, pilot, name)
        screen = app.screen
        tables = [w for w in screen.query(DataTable) if w.region.height]  # not those of a hidden tab
        tables += [screen.query_one(s) for s in SCREENS[name]]
        assert tables and all(w.region.height > 0 for w in tables), tables
        # Two notices at once (a save and a warning) fill the notices' two rows.
        app.notify("已添加证据 #3（sha256 0123456789abcdef）：保管说明已记录，原件仍在服务器上")
        app.notify("备份目录剩余空间不足 1 GB", severity="warning")
        await pilot.pause(0.3)
        visible = screen._compositor.visible_widgets              # widget → (region, clip)
        shown = [region.intersection(clip) for toast, (region, clip) in visible.items() if isinstance(toast, Toast)]
        shown = [region for region in shown if region.height]       # a third notice waits its turn
        assert len(shown) == 2
        footer = screen.query_one(Footer).region
        for region in shown:
            assert region.bottom <= footer.y                         # never over the footer's keys
            for widget in tables + content(screen):
                assert not region.overlaps(widget.region), (widget, region, widget.region)
        text = screen_text(app)
        assert "已添加证据 #3" in text and "备份目录剩余空间不足" in text
