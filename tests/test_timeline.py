"""The timeline: newest first, notes and calls once each, report autosaves left out, events readable."""
from datetime import timedelta

from textual.widgets import Static

from models.calls import log_call
from models.incidents import IncidentInput, create_incident, update_incident
from models.notes import add_note
from models.reports import Submission, form_fields, open_report, save_draft, submit
from models.tables import Contact
from models.timeline import timeline
from screens.incident import IncidentScreen
from tests.conftest import T0, make_app, make_ctx


def build(ctx, clock):
    inc = create_incident(ctx, IncidentInput(title="学籍数据被篡改", category="data_security",
                                             occurred_at=T0 - timedelta(minutes=40), discovered_at=T0))
    bureau = Contact.create(name="王科长", role="bureau", mobile="13800000000")
    clock.advance(minutes=5)
    log_call(ctx, inc.id, bureau.id, "reached", said="已口头报告概况")
    clock.advance(minutes=5)
    add_note(ctx, inc.id, "已封存学籍电脑")
    r = open_report(ctx, inc.id, "school_plan", "first")
    required = {f.id: "已填" for f in form_fields(ctx, "school_plan", "first") if f.required}
    for i in range(3):                                   # the form's autosaves
        r = save_draft(ctx, r.id, r.version, {**required, "summary": "篡改经过" + "。" * i})
    clock.advance(minutes=20)
    submit(ctx, r.id, r.version, Submission(channel="fax", recipient="县教育局基教科"))
    clock.advance(minutes=1)
    update_incident(ctx, inc.id, inc.version, {"location": "教务处"})
    return inc


def test_order_and_deduplication(ctx, clock):
    inc = build(ctx, clock)
    entries = timeline(inc)
    actions = [e.action for e in entries]
    assert actions[0] == "incident.update" and actions[-1] == "incident.create"
    assert actions.count("note.add") == 1 and "report.save" not in actions and "call.log" not in actions
    assert [e.kind for e in entries].count("call") == 1
    ats = [e.at for e in entries]
    assert ats == sorted(ats, reverse=True)
    submitted = next(e for e in entries if e.action == "report.submit")
    assert submitted.subject == ("school_plan", "first", 1)


async def test_screen_renders_events_readably(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = build(make_ctx(app.store, clock), clock)
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.1)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
        text = str(screen.query_one("#timeline-text", Static).render())
        assert "首报 · 已报送" in text and "方式：传真" in text and "接收方：县教育局基教科" in text
        assert "口头报告 · 电话接通，记为口头报告" in text and "电话（已接通）  王科长" in text
        assert "已口头报告概况" in text and "地点：— → 教务处" in text
        assert text.index("首报 · 已报送") < text.index("已封存学籍电脑") < text.index("王科长")
