"""A receipt names what the bureau signed (county2). The bureau signs report v1; the school then
submits a correction (v2): before, the school's report screen, stage table and document showed
已签收 next to content the bureau never saw, and the county board showed the correction signed.
Now a receipt carries the revision the county held (and its submission time); the school shows
"signed before the correction" until the bureau signs the correction (``county receipt`` again, or
``--revision N``); the board shows the correction awaiting a signature. Against a real PostgreSQL
(fixture ``pg``) and a real school file; the screens by ``run_test(size=(80, 24))``."""
import json
from datetime import timedelta

import psycopg
import pytest
from docx import Document
from textual.widgets import DataTable, Static

from models.county import link, receipts, schema, server, signing
from models.county.receipts import receipt_for, receipt_status
from models.documents import export
from models.reports import Submission, start_correction, submit
from models.store import open_store
from models.tables import CountyReceipt, Report
from tests.conftest import T0, make_app, make_ctx, run_cli
from tests.pgcluster import enrolled_school, make_county
from tests.test_county_receipt import SENT, _incident
from tests.test_county_receipt_school import _submitted_first
from tests.ui_helpers import screen_text, wait_for

FIXED = dict(SENT, revision=2, submitted_at="2026-11-25T05:00:00+00:00")


def _corrected(code):
    """The incident's next state: v1 superseded by the correction v2."""
    record, _, payload = _incident(code, reports=[SENT, FIXED])
    return (record, 2, payload)


def _bureau(county):
    return psycopg.connect(county["bureau"], autocommit=True)


def test_the_board_shows_a_correction_after_signing_as_awaiting_and_the_bureau_signs_it(pg):
    county = make_county(pg, ("S001",))
    with psycopg.connect(county["S001"]) as conn:
        server.apply_changes(conn, "S001", [_incident("XJ-1", reports=[SENT])])
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", "--url", county["bureau"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["revision"] == 1, r.stdout + r.stderr
    with _bureau(county) as conn:
        (sent,) = signing.sent_reports(conn)["S001/XJ-1"]
    assert sent.signed and sent.revision == 1
    # The school corrects its first report: the county holds v2, signed for v1 only.
    with psycopg.connect(county["S001"]) as conn:
        server.apply_changes(conn, "S001", [_corrected("XJ-1")])
        assert [(x["revision"], x["signed_by"]) for x in server.receipts_for(conn)] == [(1, "jijiaoke")]
    with _bureau(county) as conn:
        (sent,) = signing.sent_reports(conn)["S001/XJ-1"]
        assert not sent.signed and sent.signed_earlier and (sent.revision, sent.signed_revision) == (2, 1)
        assert signing.unsigned([sent]) == [sent]                 # the sign key offers it again
    # Signing v1 again (what the bureau read) keeps it, and says a newer one waits.
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", "--revision", "1", "--url", county["bureau"])
    assert r.returncode == 0 and "此前已签收" in r.stdout and "第 2 版" in r.stdout and "尚待签收" in r.stdout, r.stdout
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", "--revision", "7", "--url", county["bureau"])
    assert r.returncode == 1 and "第 7 版" in r.stdout + r.stderr and "Traceback" not in r.stderr
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", "--revision", "0", "--url", county["bureau"])
    assert r.returncode == 1 and "--revision" in r.stdout + r.stderr
    # The correction: signed by signing again (the newest the county holds).
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", "--url", county["bureau"], "--json")
    got = json.loads(r.stdout)
    assert (got["revision"], got["latest"], got["already"]) == (2, 2, False), got
    with _bureau(county) as conn:
        (sent,) = signing.sent_reports(conn)["S001/XJ-1"]
        assert sent.signed and sent.signed_revision == 2
        again, already = signing.sign(conn, sent)                 # the board's key: the first stands
        assert already and again.signed_at == sent.signed_at
    r = run_cli("county", "receipt", "S001", "XJ-1", "first", "--url", county["bureau"])
    assert "此前已签收" in r.stdout and "第 2 版" in r.stdout


def test_the_board_line_says_the_correction_waits(pg):
    import asyncio

    from tests.test_county_board import _app
    county = make_county(pg, ("S001",))
    with psycopg.connect(county["S001"]) as conn:
        server.apply_changes(conn, "S001", [_incident("XJ-1", reports=[SENT])])
    with _bureau(county) as conn:
        server.add_receipt(conn, "S001", "XJ-1", "school_plan", "first", 1, "jijiaoke")

    async def run():
        app = _app(county["bureau"])
        async with app.run_test(size=(80, 24)) as pilot:
            assert await wait_for(pilot, lambda: "已签收 jijiaoke" in screen_text(app), timeout=5)
            with psycopg.connect(county["S001"]) as conn:
                server.apply_changes(conn, "S001", [_corrected("XJ-1")])
            assert await wait_for(pilot, lambda: "更正第2版待签收" in screen_text(app), timeout=2)
            assert "第1版已签收 jijiaoke" in screen_text(app)
            assert all(len(x) <= 80 for x in screen_text(app).splitlines())
    asyncio.run(run())


def test_a_correction_the_county_had_not_received_when_it_signed_is_not_signed_for(pg, tmp_path, clock):
    """The school corrected v1 before the bureau signed, but the correction was still in the
    outbox: the bureau signed v1. The old rule (submitted before the signature: covered) showed
    v2 as signed; the revision says otherwise."""
    county = make_county(pg, (), bureau="jijiaoke")
    ctx = enrolled_school(county, tmp_path, "S001", clock, incidents=0)
    first = _submitted_first(ctx)
    code = first.incident.code
    link.sync_once(ctx.store)
    draft = start_correction(ctx, first.id)
    clock.advance(minutes=20)
    fixed = submit(ctx, draft.id, draft.version, Submission(channel="fax", recipient="县教育局",
                                                            correction_reason="核实更正"))
    got = receipts.sign(county["bureau"], "S001", code, "first")      # the county holds v1 only
    assert got["revision"] == 1
    assert link.sync_once(ctx.store)["receipts"] == 1                  # v2 goes, the receipt comes back
    with ctx.store.read():
        fixed = Report.get_by_id(fixed.id)
        state, r = receipt_status(fixed)
        assert (state, r.revision, r.signed_by) == ("earlier", 1, "jijiaoke")
        assert receipt_for(fixed) is None
        assert receipt_for(Report.get_by_id(first.id)).revision == 1   # v1, superseded, was signed
    doc = Document(str(export(ctx, fixed, "docx", tmp_path / "fixed.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "更正前的第 1 版" in text and "本更正尚未签收" in text and "签收时间：" not in text
    out = run_cli("report", "show", code, "--db", str(tmp_path / "S001.db"), "--json")
    shown = {x["revision"]: x for x in json.loads(out.stdout)["reports"]}
    assert shown[2]["county_receipt"] is None and shown[2]["county_receipt_earlier"]["revision"] == 1
    # The bureau signs the correction; it comes back, and v2 is signed.
    assert receipts.sign(county["bureau"], "S001", code, "first")["revision"] == 2
    assert link.sync_once(ctx.store)["receipts"] == 1
    with ctx.store.read():
        got = receipt_for(Report.get_by_id(fixed.id))
        assert got is not None and got.revision == 2
    doc = Document(str(export(ctx, Report.get_by_id(fixed.id), "docx", tmp_path / "fixed2.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "签收时间：" in text and "更正前" not in text


def _receive(store, code, revision, at, submitted_at):
    with store.write():
        CountyReceipt.insert(incident_code=code, regime="school_plan", stage="first", seq=1, signed_by="jijiaoke",
                             signed_at=at, received_at=at, revision=revision,
                             report_submitted_at=submitted_at).on_conflict(
            conflict_target=[CountyReceipt.incident_code, CountyReceipt.regime, CountyReceipt.stage, CountyReceipt.seq],
            update={CountyReceipt.revision: revision, CountyReceipt.signed_at: at,
                    CountyReceipt.report_submitted_at: submitted_at}).execute()


async def test_report_screen_and_stage_table_say_signed_before_the_correction(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        ctx = make_ctx(app.store, clock)
        first = _submitted_first(ctx)
        _receive(app.store, first.incident.code, 1, T0 + timedelta(minutes=10), first.submitted_at)
        draft = start_correction(ctx, first.id)
        clock.advance(minutes=30)                        # after the signature: the old rule agreed
        fixed = submit(ctx, draft.id, draft.version, Submission(channel="fax", recipient="县教育局",
                                                                correction_reason="核实更正"))
        await pilot.pause()
        app.open_screen("report", first.incident_id, "school_plan", "first", None)
        await pilot.pause()
        await pilot.pause()
        assert await wait_for(pilot, lambda: "更正前的版本" in screen_text(app))
        screen = app.screen
        text = screen_text(app)
        assert "第 1 版" in text and "尚待签收" in text and "确认人 jijiaoke，签收时间" not in text
        # The bureau signs the correction: the screen follows without reopening.
        _receive(app.store, first.incident.code, 2, T0 + timedelta(minutes=45), fixed.submitted_at)
        assert await wait_for(pilot, lambda: "县教育局已签收" in screen_text(app))
        assert "更正前的版本" not in screen_text(app) and app.screen is screen
        app.pop_screen()
        await pilot.pause()
        # Back to v1's signature only: the incident's stage table and its line say so.
        _receive(app.store, first.incident.code, 1, T0 + timedelta(minutes=10), first.submitted_at)
        app.open_screen("incident", first.incident_id)
        await pilot.pause(0.1)
        screen = app.screen
        table = screen.query_one("#stages", DataTable)
        keys = [row.key.value for row in table.ordered_rows]
        table.move_cursor(row=keys.index("school_plan|first|1"))
        await pilot.pause()
        hint = str(screen.query_one("#stages-hint", Static).render())
        assert "更正前的版本" in hint, hint
        text = screen_text(app)
        assert "✓签收" not in text and "✓" not in text.split("首报")[1].splitlines()[0], text
        assert "签收为更正前" in text or "待签" in text, text


def test_old_receipts_keep_their_rows_and_the_old_rule(tmp_path, clock):
    """A school file whose county_receipt predates the step: the rows stay, revision NULL, judged as
    before (a report submitted before the signature is covered)."""
    path = tmp_path / "old.db"
    store = open_store(path)
    ctx = make_ctx(store, clock)
    first = _submitted_first(ctx)
    with store.write():
        CountyReceipt.create(incident_code=first.incident.code, regime="school_plan", stage="first", seq=1,
                             signed_by="jijiaoke", signed_at=T0 + timedelta(minutes=47),
                             received_at=T0 + timedelta(minutes=48))
    db = store.db
    db.execute_sql("ALTER TABLE county_receipt DROP COLUMN revision")
    db.execute_sql("ALTER TABLE county_receipt DROP COLUMN report_submitted_at")
    steps = json.loads(db.execute_sql("SELECT value FROM schema_meta WHERE key = 'schema_steps'").fetchone()[0])
    db.execute_sql("UPDATE schema_meta SET value = ? WHERE key = 'schema_steps'",
                   (json.dumps([s for s in steps if s != "_county_receipt_revision"]),))
    store.close()
    store = open_store(path)
    try:
        with store.read():
            cols = {c.name for c in store.db.get_columns("county_receipt")}
            assert {"revision", "report_submitted_at"} <= cols
            (row,) = list(CountyReceipt.select())
            assert (row.signed_by, row.revision) == ("jijiaoke", None)
            got = receipt_for(Report.get_by_id(first.id))
            assert got is not None and got.revision is None
    finally:
        store.close()


def test_county_step_gives_old_receipts_the_revision_they_covered(pg):
    county = make_county(pg, ("S001",))
    with psycopg.connect(county["S001"]) as conn:
        server.apply_changes(conn, "S001", [_incident("XJ-1", reports=[SENT]), _incident("XJ-2", reports=[SENT])])
        server.apply_changes(conn, "S001", [_corrected("XJ-1"), _corrected("XJ-2")])
    with psycopg.connect(county["admin"], autocommit=True) as conn:
        # A county initialised before the step, with two receipts: one signed between v1 and v2
        # (by the school's times), one after v2.
        conn.execute("ALTER TABLE county.receipt DROP COLUMN revision, DROP COLUMN report_submitted_at")
        conn.execute("ALTER TABLE county.receipt_removed DROP COLUMN revision, DROP COLUMN report_submitted_at")
        conn.execute("INSERT INTO county.receipt (school, incident_code, regime, stage, seq, signed_by, signed_at) "
                     "VALUES ('S001', 'XJ-1', 'school_plan', 'first', 1, 'jijiaoke', '2026-11-25T04:00:00+00:00'), "
                     "('S001', 'XJ-2', 'school_plan', 'first', 1, 'jijiaoke', '2026-11-25T06:00:00+00:00')")
        steps = json.loads(conn.execute("SELECT value FROM county.schema_meta WHERE key = 'steps'").fetchone()[0])
        conn.execute("UPDATE county.schema_meta SET value = %s WHERE key = 'steps'",
                     (json.dumps([s for s in steps if s != "receipt_revision"]),))
    with psycopg.connect(county["bureau"]) as conn:
        with pytest.raises(Exception) as exc:
            schema.check(conn)
        assert "receipt_revision" in str(exc.value)
    schema.init(county["admin"])
    with psycopg.connect(county["admin"]) as conn:
        got = dict(conn.execute("SELECT incident_code, revision FROM county.receipt").fetchall())
        assert got == {"XJ-1": 1, "XJ-2": 2}
        steps = json.loads(conn.execute("SELECT value FROM county.schema_meta WHERE key = 'steps'").fetchone()[0])
        assert steps[-1] == "receipt_revision"
