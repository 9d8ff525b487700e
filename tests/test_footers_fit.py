"""Every screen's footer fits 80 columns with each key it shows whole (issue 15 item 6: the
contacts footer ended "… e 编辑 ^q 退  ^p 命令"); a screen with more keys than fit shows
``? 帮助`` and keeps the rest in help and the palette."""
from datetime import timedelta

import pytest

from models.incidents import IncidentInput, create_incident
from tests.conftest import T0, make_ctx

from tests.conftest import make_app
from tests.ui_helpers import screen_text


def _shown_keys(app):
    """(key label, description) of every binding the footer is asked to show on this screen."""
    out = []
    for key, active in app.screen.active_bindings.items():
        b = active.binding
        if b.show and b.description:
            out.append((app.get_key_display(b), b.description))
    return out


@pytest.mark.parametrize("keys, name", [
    (("c",), "ContactsScreen"), (("x",), "ChecksScreen"), (("w",), "WarningsScreen"),
    (("g", "s"), "StatsScreen"), (("g", "h"), "HistoryScreen"), (("g", "b"), "BackupScreen"),
    (("g", "u"), "AccountsScreen"), (("g", "d"), "DrillsScreen"),
])
@pytest.mark.parametrize("with_incident", [False, True])
async def test_the_footer_shows_each_of_its_keys_whole_at_80_columns(db_path, clock, keys, name, with_incident):
    app = make_app(db_path, clock, role="admin", username="tester")
    if with_incident:   # the call keys (next person, call log) appear with an open incident
        create_incident(make_ctx(app.store, clock), IncidentInput(
            title="学籍账号异常登录", category="network_attack", occurred_at=T0 - timedelta(minutes=25),
            discovered_at=T0 - timedelta(minutes=20), description="凌晨异地登录"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        assert type(app.screen).__name__ == name
        footer = screen_text(app).splitlines()[-1]
        for label, description in _shown_keys(app):
            assert f"{label} {description}" in footer, (name, label, description, footer)
        assert "^q 退出" in footer, footer
