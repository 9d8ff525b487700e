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


def _county_rows(county) -> dict:
    with psycopg.connect(county["admin"]) as conn:
        return {code: (version, removed_at, reason) for code, version, removed_at, reason in conn.execute(
            "SELECT code, version, removed_at, removed_reason FROM county.incident WHERE school = 'S001'")}


def _log(county) -> list:
    with psycopg.connect(county["admin"]) as conn:
        return conn.execute("SELECT record, version FROM county.change_log WHERE school = 'S001' "
                            "ORDER BY record, version").fetchall()


def test_incidents_a_restore_removed_are_marked_removed_on_the_county(tmp_path, clock, county, monkeypatch):
    """A backup with incident A; B recorded after it and sent; the backup restored (the real CLI):
    the next sync marks B removed on the county at the restore's time (its row and history kept),
    the board owes nothing for it and ``county board --json`` says what happened; versions stay
    monotonic; syncing again or resending an old batch does not bring it back."""
    import json

    from models.backup import create_backup
    from models.county import board, server
    from models.tables import AuditEvent, Incident
    from tests.conftest import run_cli
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = tmp_path / "duty.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    a = _incident(ctx, title="备份里的")
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    link.sync_once(store)
    backup = create_backup(ctx).path
    b = _incident(ctx, title="备份之后记的")
    link.sync_once(store)
    b_code, a_code = b.code, a.code
    with psycopg.connect(county["bureau"]) as conn:
        assert {i.code for i in board.read(conn).incidents} == {a_code, b_code}
    with psycopg.connect(county["admin"]) as conn:        # the bureau had signed for B's first report
        conn.execute("INSERT INTO county.receipt (school, incident_code, regime, stage, seq, signed_by) "
                     "VALUES ('S001', %s, 'school_plan', 'first', 1, 'jijiaoke')", (b_code,))
    store.close()

    r = run_cli("restore", str(backup), "--yes", "--db", str(db), "--user", "tester")
    assert r.returncode == 0, r.stderr
    store = open_store(db)
    try:
        assert not Incident.select().where(Incident.code == b_code).exists()
        restored_at = AuditEvent.select().where(AuditEvent.action == "backup.restore").get().at
        got = link.sync_once(store)
        assert got["removed"] == 1 and got["applied"] == 1 and got["duplicates"] == 0, got
        rows = _county_rows(county)
        # B: kept, marked removed by the restore at its time, at a version above the county's.
        assert rows[b_code][0] == 2 and rows[b_code][2] == "restore"
        assert rows[b_code][1] == restored_at
        assert rows[a_code][0] == 2 and rows[a_code][1] is None        # A: the restored state, live
        assert _log(county) == [(f"incident:{a_code}", 1), (f"incident:{a_code}", 2),
                                (f"incident:{b_code}", 1), (f"incident:{b_code}", 2)]
        with psycopg.connect(county["admin"]) as conn:          # its history stays on the county
            assert conn.execute("SELECT count(*) FROM county.obligation WHERE incident_code = %s",
                                (b_code,)).fetchone()[0] > 0
        with psycopg.connect(county["bureau"]) as conn:
            data = board.read(conn)
        assert {i.code for i in data.incidents} == {a_code}
        assert [(r.code, r.reason) for r in data.removed] == [(b_code, "restore")]
        assert [c.open for c in board.counts(data, clock.now())] == [1]
        proc = run_cli("county", "board", "--json", "--url", county["bureau"])
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert [row["incident"] for row in doc["rows"]] == [a_code]
        assert [(x["incident"], x["reason"]) for x in doc["removed"]] == [(b_code, "restore")]
        assert "恢复" in doc["removed"][0]["note"] and doc["removed"][0]["removed_at"]
        # Idempotent: nothing more to send, nothing queued again.
        again = link.sync_once(store)
        assert again["sent"] == 0 and again["removed"] == 0
        assert _log(county)[-1] == (f"incident:{b_code}", 2)
        # A resend of B's old state (its batch delivered twice, or an older version) cannot revive it.
        with link.connect(store) as conn:
            old = {"code": b_code, "title": "备份之后记的", "status": "open", "obligations": [], "reports": []}
            assert server.apply_changes(conn, "S001", [(f"incident:{b_code}", 1, old)])["duplicate"] == 1
            with psycopg.connect(county["admin"]) as admin:        # even with its log entry lost
                admin.execute("DELETE FROM county.change_log WHERE record = %s AND version = 1", (f"incident:{b_code}",))
            assert server.apply_changes(conn, "S001", [(f"incident:{b_code}", 1, old)])["stale"] == 1
        assert _county_rows(county)[b_code][2] == "restore"
        # The bureau cannot sign for what the school no longer has.
        with psycopg.connect(county["bureau"]) as conn:
            from models.errors import DomainError
            with pytest.raises(DomainError) as exc:
                server.add_receipt(conn, "S001", b_code, "school_plan", "first", 1, "jijiaoke")
            assert exc.value.key == "county.error.incident_removed"
        # Nor does its receipt come back to the school (it would pass for one of the next incident's).
        from models.tables import CountyReceipt
        assert not CountyReceipt.select().where(CountyReceipt.incident_code == b_code).exists()
        # The next incident recorded here is a new one reusing the code (the largest number + 1):
        # live again, numbered above; the removed one's receipt is history, not the new one's.
        c = _incident(make_ctx(store, clock), title="恢复之后记的")
        assert c.code == b_code
        got = link.sync_once(store)
        assert got["applied"] == 1 and got["duplicates"] == 0
        rows = _county_rows(county)
        assert rows[c.code][1] is None and rows[c.code][0] == 3
        assert not CountyReceipt.select().where(CountyReceipt.incident_code == b_code).exists()
        with psycopg.connect(county["admin"]) as conn:
            assert conn.execute("SELECT count(*) FROM county.receipt WHERE incident_code = %s",
                                (b_code,)).fetchone()[0] == 0
            assert conn.execute("SELECT signed_by, removed_at FROM county.receipt_removed WHERE incident_code = %s",
                                (b_code,)).fetchall() == [("jijiaoke", restored_at)]
    finally:
        store.close()


@pytest.mark.parametrize("how", ["sync", "sync --all"])
def test_a_restored_file_without_any_incident_still_tells_the_county(tmp_path, clock, county, monkeypatch, how):
    """The backup was made before the first incident: after the restore nothing is waiting to go,
    yet the county learns the one it shows is gone (removed by the restore, also when the next
    send is ``county sync --all``), and the restore mark is cleared."""
    from models.backup import create_backup
    from models.tables import Setting
    from tests.conftest import run_cli
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = tmp_path / "duty.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    link.enrol(store, county["url"], "S001", county["secrets"]["S001"], ctx=ctx)
    backup = create_backup(ctx).path
    b = _incident(ctx, title="备份之后记的")
    link.sync_once(store)
    store.close()
    r = run_cli("restore", str(backup), "--yes", "--db", str(db), "--user", "tester")
    assert r.returncode == 0, r.stderr
    store = open_store(db)
    try:
        assert outbox.pending(store) == 0
        got = link.sync_once(store) if how == "sync" else link.sync_all(store)
        assert got["removed"] == 1, got
        assert _county_rows(county)[b.code][2] == "restore"
        assert Setting.get_or_none(Setting.key == link.SETTING_RESTORED) is None
        assert link.sync_once(store)["sent"] == 0
    finally:
        store.close()
