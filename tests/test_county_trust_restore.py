"""What a restore from a backup means for the county (countytrust), against a real PostgreSQL:

- the restore's refusal when this session's own county sender does not let go of the file in
  time (a round waiting on a slow server) says so, in zh and en, not "another session";
- incidents the restore removed (created after the backup) stop being live on the county board:
  marked removed by the restore, at its time, nothing owed; ``county board --json`` says so;
  versions stay monotonic, a second sync or a resent batch does not bring them back."""
import psycopg
import pytest

from models.county import link, outbox
from models.store import open_store
from tests.conftest import make_app, make_ctx
from tests.pgcluster import make_county
from tests.test_county_outbox import _incident
from tests.ui_helpers import fill_form, screen_text, wait_for


@pytest.fixture
def county(pg):
    return make_county(pg, ("S001",))


def _waiting_on_lock(county) -> bool:
    with psycopg.connect(county["admin"], autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s AND wait_event_type = 'Lock'",
                            (county["roles"]["S001"],)).fetchone()[0] > 0


@pytest.mark.parametrize("lang,said,not_said", [("zh", "本会话自己的县级同步", "另一会话"),
                                                ("en", "This session's own county sender", "another session")])
async def test_restore_refused_while_own_sender_is_stuck_says_so(db_path, clock, county, monkeypatch, lang, said,
                                                                 not_said):
    from models.backup import create_backup
    from models.i18n import set_language
    from models.incidents import update_incident
    from models.tables import Incident
    from tui import county_sender
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    monkeypatch.setattr(link, "IDLE_S", 0.1)
    monkeypatch.setattr(county_sender, "PAUSE_S", 0.3, raising=False)
    store = open_store(db_path)
    ctx = make_ctx(store, clock)
    inc = _incident(ctx, title="备份里的")
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    link.sync_once(store)
    create_backup(ctx)
    store.close()
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        set_language(lang)
        # A slow county server: the sender's next round waits on a lock the bureau's admin holds.
        slow = psycopg.connect(county["admin"])
        slow.execute("LOCK TABLE county.change_log IN ACCESS EXCLUSIVE MODE")
        try:
            ctx = make_ctx(app.store, clock)
            row = Incident.get_by_id(inc.id)
            update_incident(ctx, row.id, row.version, {"title": "备份之后改的"})
            assert await wait_for(pilot, lambda: _waiting_on_lock(county), 10)
            stuck = app._county_sender
            await pilot.press("g", "b")
            await pilot.pause()
            assert type(app.screen).__name__ == "BackupScreen"
            await pilot.press("r")
            await pilot.pause()
            await fill_form(pilot, "恢复" if lang == "zh" else "restore")
            text = screen_text(app)
            assert said in text and not_said not in text, text
            assert Incident.get_by_id(inc.id).title == "备份之后改的"      # nothing restored
        finally:
            slow.rollback()
            slow.close()
        # The stuck round ends; the sender stops (it kept its stop signal) and a new one starts.
        assert await wait_for(pilot, lambda: not stuck.is_alive(), 10)
        county_sender._maybe_start(app)
        assert await wait_for(pilot, lambda: outbox.pending(app.store) == 0, 10)
        # Trying again: restored.
        await fill_form(pilot, "恢复" if lang == "zh" else "restore")
        assert type(app.screen).__name__ == "BackupScreen", screen_text(app)
        assert Incident.get_by_id(inc.id).title == "备份里的"
        set_language("zh")
        thread = app._county_sender
    if thread is not None:
        thread.join(3)
