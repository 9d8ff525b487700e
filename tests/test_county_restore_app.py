"""An in-app restore from a backup on an enrolled database (issue 19 follow-up): the county
sender lets go of the file for the restore and starts again on the restored one, whose next
change reaches the county renumbered above what the county already holds. The real app at 80×24
by keys, a real PostgreSQL (fixture ``pg``)."""
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


def _server(county):
    with psycopg.connect(county["admin"]) as conn:
        return (dict(conn.execute("SELECT title, version FROM county.incident").fetchall()),
                conn.execute("SELECT count(*), count(DISTINCT (record, version)) FROM county.change_log").fetchone())


async def test_restore_in_the_app_restarts_the_sender_on_the_restored_file(db_path, clock, county, monkeypatch):
    from models.backup import create_backup
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    monkeypatch.setattr(link, "IDLE_S", 0.1)
    monkeypatch.setattr(link, "BACKOFF_MAX_S", 0.5)
    store = open_store(db_path)
    ctx = make_ctx(store, clock)
    inc = _incident(ctx, title="备份里的")
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    link.sync_once(store)
    backup = create_backup(ctx).path                       # the county holds version 1
    store.close()
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx = make_ctx(app.store, clock)
        from models.incidents import update_incident
        from models.tables import Incident
        row = Incident.get_by_id(inc.id)
        update_incident(ctx, row.id, row.version, {"title": "备份之后改的"})
        assert await wait_for(pilot, lambda: outbox.pending(app.store) == 0, 10)
        titles, _ = _server(county)
        assert titles == {"备份之后改的": 2}
        first = app._county_sender
        assert first is not None and first.is_alive()
        await pilot.press("g", "b")
        await pilot.pause()
        assert type(app.screen).__name__ == "BackupScreen"
        assert app.screen._paths and app.screen._paths[0] == backup
        await pilot.press("r")
        await pilot.pause()
        await fill_form(pilot, "恢复")
        assert type(app.screen).__name__ == "BackupScreen", screen_text(app)
        status = str(app.screen.query_one("#backup-status").render())
        assert "已从" in status, status
        # The old sender let go of the replaced file; a new one runs on the restored database.
        assert not first.is_alive()
        assert await wait_for(pilot, lambda: app._county_sender is not None and app._county_sender.is_alive(), 5)
        assert app._county_sender is not first
        assert Incident.get_by_id(inc.id).title == "备份里的"
        # The county shows the restored state again (a new version of each incident, numbered
        # above the county's 2: the restored file's own next number would have been 2 too).
        assert await wait_for(pilot, lambda: _server(county)[0] == {"备份里的": 3}, 10), _server(county)
        # The next change reaches the county.
        ctx = make_ctx(app.store, clock)
        row = Incident.get_by_id(inc.id)
        update_incident(ctx, row.id, row.version, {"title": "恢复之后改的"})
        assert await wait_for(pilot, lambda: outbox.pending(app.store) == 0, 10)
        titles, (logged, distinct) = _server(county)
        assert titles == {"恢复之后改的": 4} and logged == distinct
        thread = app._county_sender
    thread.join(3)
    assert not thread.is_alive()


def test_cli_restore_then_one_change_is_not_taken_for_a_duplicate(tmp_path, clock, county, monkeypatch):
    """One change after the backup (the county holds version 2), restored with the CLI: the
    restored state and the next change (each version 2 again by the file's own count) both reach
    the county, renumbered; the restore mark is cleared once they are."""
    from models.backup import create_backup
    from models.tables import Incident, Setting
    from tests.conftest import run_cli
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = tmp_path / "duty.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    inc = _incident(ctx, title="备份里的")
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    link.sync_once(store)
    backup = create_backup(ctx).path
    from models.incidents import update_incident
    row = Incident.get_by_id(inc.id)
    update_incident(ctx, row.id, row.version, {"title": "备份之后改的"})
    link.sync_once(store)
    store.close()
    r = run_cli("restore", str(backup), "--yes", "--db", str(db), "--user", "tester")
    assert r.returncode == 0, r.stderr
    store = open_store(db)
    try:
        assert Setting.get_or_none(Setting.key == link.SETTING_RESTORED) is not None
        got = link.sync_once(store)
        assert got["duplicates"] == 0 and got["applied"] == 1 and got["pending"] == 0
        assert _server(county)[0] == {"备份里的": 3}
        assert Setting.get_or_none(Setting.key == link.SETTING_RESTORED) is None
        ctx = make_ctx(store, clock)
        row = Incident.get_by_id(inc.id)
        update_incident(ctx, row.id, row.version, {"title": "恢复之后改的"})
        got = link.sync_once(store)
        assert got["duplicates"] == 0 and got["applied"] == 1
        titles, (logged, distinct) = _server(county)
        assert titles == {"恢复之后改的": 4} and logged == distinct == 4
    finally:
        store.close()
