"""A hang-up loses nothing typed: SIGHUP 0.2 s after typing, the text is in the database (issue 14).

Also the draft's announcement and discard (issue 15 item 4): a restored draft says when it was
saved, ctrl+d throws it away, its "now" defaults are refreshed, and it is its owner's only.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from datetime import timedelta

import pytest
from textual.widgets import Input

from models.drafts import load_draft, save_draft
from models.incidents import IncidentInput, create_incident
from models.store import open_store
from models.tables import Draft, Report
from screens.new_incident import NewIncidentScreen
from tests.conftest import make_app, make_ctx
from tests.ui_helpers import screen_ready, screen_text, wait_for

posix = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminals and SIGHUP")


def _hang_up_after_typing(db, text: bytes, *args: str, marker: str) -> int:
    from bench.ptyrun import PtyApp
    app = PtyApp(str(db), *args, module="tests.hangup_app")
    try:
        assert app.wait_for(marker, timeout=60) is not None, app.buffer.decode(errors="replace")[-2000:]
        time.sleep(0.5)                      # the form has focus
        os.write(app.master, text)
        time.sleep(0.2)                      # well inside the autosave interval
        os.kill(app.proc.pid, signal.SIGHUP)
        return app.proc.wait(timeout=20)
    finally:
        if app.proc.poll() is None:
            app.proc.kill()
        app.close()


@posix
def test_report_text_typed_before_sighup_is_saved(tmp_path):
    db = tmp_path / "hup.db"
    store = open_store(db)
    from models.clock import Clock
    ctx = make_ctx(store, Clock(), username="duty", role="officer")
    now = ctx.now()
    inc = create_incident(ctx, IncidentInput(title="学籍账号异常登录", category="network_attack",
                                             occurred_at=now - timedelta(minutes=40), discovered_at=now))
    store.close()
    code = _hang_up_after_typing(db, "断线前ZQX".encode(), "report", inc.code, marker="首报")
    assert code == 129
    s = open_store(db)
    fields = Report.get().fields
    s.close()
    assert any("断线前ZQX" in str(v) for v in fields.values()), fields


@posix
def test_new_incident_text_typed_before_sighup_is_saved(tmp_path):
    db = tmp_path / "hup2.db"
    open_store(db).close()
    code = _hang_up_after_typing(db, "机房断电QZX".encode(), "new_incident", marker="Ctrl")
    assert code == 129
    s = open_store(db)
    row = Draft.get_or_none(Draft.kind == "new_incident")
    s.close()
    assert row is not None and row.owner == "duty" and "机房断电QZX" in row.payload["title"]


async def test_restored_draft_is_announced_refreshed_discardable_and_private(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("new_incident")
        await screen_ready(app)
        form = app.screen
        await pilot.press(*"学籍数据被篡改")
        form.flush_draft()                                # as on a hang-up
        await pilot.press("escape")
        await pilot.pause()
        clock.advance(minutes=30)                         # reopened half an hour later
        app.open_screen("new_incident")
        await screen_ready(app)                          # the draft is restored after the first repaint
        form = app.screen
        assert isinstance(form, NewIncidentScreen)
        assert form.query_one("#title", Input).value == "学籍数据被篡改"
        assert await wait_for(pilot, lambda: "继续 10:00 保存的草稿 · ctrl+d 丢弃" in screen_text(app), timeout=3.0), \
            screen_text(app)
        assert form.query_one("#occurred_at", Input).value == "2026-11-25 10:30"   # now, not the draft's now
        other = make_ctx(app.store, clock, username="wang")
        assert load_draft(other, "new_incident") is None                       # not another user's
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert form.query_one("#title", Input).value == ""
        assert load_draft(app.ctx, "new_incident") is None


async def test_draft_keeps_values_not_labels(db_path, clock):
    """A draft written in English opens with Chinese labels in the Chinese UI."""
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        save_draft(app.ctx, "new_incident", {"title": "x", "category": {"value": ["network_attack", None],
                                                                       "text": "Network attack"}})
        app.open_screen("new_incident")
        await screen_ready(app)
        from tui.widgets.picker import Picker
        assert app.screen.query_one("#category", Picker).text == "网络攻击事件"
