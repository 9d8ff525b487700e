"""The county's receipt on the school's side: a CountyReceipt row (written by the link, as the
sender does, in one ``store.write()``) shows as 确认人 / 签收时间 on the open report screen and on
the incident screen's stage line without reopening either, and in the report's document."""
from datetime import datetime, timedelta, timezone

from docx import Document
from textual.widgets import DataTable, Static

from models.county.receipts import receipt_for, receipts_for_incident
from models.documents import export
from models.incidents import IncidentInput, create_incident
from models.reports import Submission, open_report, save_draft, start_correction, submit
from models.tables import CountyReceipt, Report
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text, wait_for

FIRST = {"affected_scope": "约120名学生的学籍记录", "damage": "无设备受损", "threat": "较低", "trend": "已控制",
         "measures_taken": "修改口令", "next_steps": "配合排查", "contact_phone": "0874-1234567", "signer": "王校长"}
SIGNED_AT = T0 + timedelta(minutes=47)            # 2026-11-25 10:47 in Asia/Shanghai


def _submitted_first(ctx, confirmed_by=""):
    inc = create_incident(ctx, IncidentInput(
        title="学籍账号异常登录", category="network_attack", grade="IV",
        occurred_at=T0 - timedelta(minutes=90), discovered_at=T0 - timedelta(minutes=60),
        location="教务处学籍终端", reported_by="值班员", description="异地登录"))
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST)
    return submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax",
                                                   recipient="县教育局", confirmed_by=confirmed_by))


def _receive(store, code, stage="first", by="jijiaoke", at=SIGNED_AT):
    """What the link does when a receipt comes back: one row, one transaction."""
    with store.write():
        CountyReceipt.create(incident_code=code, regime="school_plan", stage=stage, seq=1, signed_by=by,
                             signed_at=at, received_at=at + timedelta(seconds=5))


def test_receipt_for_matches_stage_and_seq_and_skips_drafts(ctx):
    r = _submitted_first(ctx)
    assert receipt_for(r) is None
    _receive(ctx.store, r.incident.code, stage="follow_up")
    assert receipt_for(r) is None                                  # another stage's receipt
    _receive(ctx.store, r.incident.code)
    got = receipt_for(Report.get_by_id(r.id))
    assert (got.signed_by, got.signed_at) == ("jijiaoke", SIGNED_AT)
    assert set(receipts_for_incident(r.incident)) == {("school_plan", "first", 1), ("school_plan", "follow_up", 1)}
    draft = start_correction(ctx, r.id)
    assert receipt_for(draft) is None                              # a correction being written: not signed for
    assert receipt_for(Report.get_by_id(r.id)) is not None         # the report it corrects still is


def test_document_names_who_signed_and_when(ctx, tmp_path):
    r = _submitted_first(ctx)
    _receive(ctx.store, r.incident.code)
    doc = Document(str(export(ctx, Report.get_by_id(r.id), "docx", tmp_path / "first.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "确认人：jijiaoke" in text
    assert "签收时间：2026年11月25日10时47分" in text                  # the school's zone, not UTC


def test_document_keeps_the_schools_own_confirmer(ctx, tmp_path):
    r = _submitted_first(ctx, confirmed_by="王科长")
    _receive(ctx.store, r.incident.code)
    doc = Document(str(export(ctx, Report.get_by_id(r.id), "docx", tmp_path / "first.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "确认人：王科长" in text and "县级签收人：jijiaoke" in text and "签收时间：2026年11月25日10时47分" in text


def test_document_without_receipt_has_no_signing_line(ctx, tmp_path):
    r = _submitted_first(ctx)
    doc = Document(str(export(ctx, r, "docx", tmp_path / "first.docx")))
    assert "签收时间" not in "\n".join(p.text for p in doc.paragraphs)


async def test_open_report_screen_shows_the_receipt_when_it_arrives(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        r = _submitted_first(make_ctx(app.store, clock))
        await pilot.pause()
        app.open_screen("report", r.incident_id, "school_plan", "first", None)
        await pilot.pause()
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ReportScreen"
        assert "签收时间" not in screen_text(app)
        _receive(app.store, r.incident.code)
        assert await wait_for(pilot, lambda: "签收时间" in screen_text(app))
        text = screen_text(app)
        assert "确认人 jijiaoke" in text and "签收时间 10:47" in text     # today, in the school's zone
        assert app.screen is screen                                     # not reopened


async def test_incident_screen_stage_line_shows_the_receipt(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        r = _submitted_first(make_ctx(app.store, clock))
        await pilot.pause()
        app.open_screen("incident", r.incident_id)
        await pilot.pause(0.1)
        screen = app.screen
        table = screen.query_one("#stages", DataTable)
        keys = [row.key.value for row in table.ordered_rows]
        table.move_cursor(row=keys.index("school_plan|first|1"))
        await pilot.pause()
        hint = lambda: str(screen.query_one("#stages-hint", Static).render())   # noqa: E731
        assert "签收" not in hint()
        _receive(app.store, r.incident.code)
        assert await wait_for(pilot, lambda: "签收时间 10:47" in hint())
        assert "确认人 jijiaoke" in hint()
        # The countdown tick (every second) keeps it.
        screen.tick()
        await pilot.pause()
        assert "签收时间 10:47" in hint()


def test_report_show_names_the_receipt(ctx, db_path):
    from tests.conftest import run_cli
    import json
    r = _submitted_first(ctx)
    _receive(ctx.store, r.incident.code)
    got = run_cli("report", "show", r.incident.code, "--db", str(db_path), "--json")
    assert got.returncode == 0, got.stderr
    first = json.loads(got.stdout)["reports"][0]
    assert first["county_receipt"] == {"signed_by": "jijiaoke", "signed_at": "2026-11-25T10:47:00+08:00"}
    got = run_cli("report", "show", r.incident.code, "--db", str(db_path))
    assert "确认人 jijiaoke，签收时间 2026-11-25 10:47" in got.stdout


def test_a_correction_sent_after_the_signature_is_not_signed_for(ctx, clock):
    r = _submitted_first(ctx)
    _receive(ctx.store, r.incident.code)
    draft = start_correction(ctx, r.id)
    clock.advance(minutes=60)                       # 11:00, after the bureau signed at 10:47
    fixed = submit(ctx, draft.id, draft.version, Submission(channel="fax", recipient="县教育局",
                                                            correction_reason="核实更正"))
    assert fixed.revision == 2 and receipt_for(fixed) is None
    assert receipt_for(Report.get_by_id(r.id)).signed_by == "jijiaoke"   # the superseded one keeps it


def test_a_correction_sent_before_the_signature_is_signed_for(ctx, clock):
    r = _submitted_first(ctx)
    draft = start_correction(ctx, r.id)
    clock.advance(minutes=20)                       # 10:20, before the bureau signed at 10:47
    fixed = submit(ctx, draft.id, draft.version, Submission(channel="fax", recipient="县教育局",
                                                            correction_reason="核实更正"))
    _receive(ctx.store, r.incident.code)
    assert receipt_for(Report.get_by_id(fixed.id)).signed_by == "jijiaoke"
