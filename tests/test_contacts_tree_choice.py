"""The contact panel opens on the call tree that fits the incident, on the next person to call
(issue 15 item 8)."""
from datetime import timedelta

from models.calls import log_call
from models.calltree import situation_for
from models.contacts import edit_contact, ensure_seeded, list_contacts
from models.incidents import IncidentInput, create_incident, get_incident, set_grade
from models.reports import open_report, save_draft
from screens.contacts import ContactsScreen
from tests.conftest import T0, make_app, make_ctx

NAMES = {"leader": "陈云柱", "bureau": "李科长", "cac": "王主任", "police": "赵警官", "registrar": "张石全"}


def _seed(app, clock):
    ctx = make_ctx(app.store, clock)
    ensure_seeded(ctx)
    for c in list_contacts():
        if c.role in NAMES:
            edit_contact(ctx, c.id, {"name": NAMES[c.role], "mobile": "13900000001"})
    inc = create_incident(ctx, IncidentInput(title="勒索病毒", category="malware", personal_info=True,
                                             occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
    return ctx, inc


def test_the_tree_follows_grade_and_suspected_crime(store, clock):
    ctx = make_ctx(store, clock)
    ensure_seeded(ctx)
    inc = create_incident(ctx, IncidentInput(title="x", category="malware", personal_info=False,
                                             occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
    assert situation_for(inc) == "new_incident"
    inc = set_grade(ctx, inc.id, "IV", "一般")
    assert situation_for(inc) == "new_incident"
    inc = set_grade(ctx, inc.id, "III", "影响全校学籍")
    assert situation_for(inc) == "serious_incident"
    report = open_report(ctx, inc.id, "school_plan", "first")
    save_draft(ctx, report.id, report.version, {"police_reported": "是，已报城关派出所"})
    assert situation_for(get_incident(inc.id)) == "suspected_crime"


async def _selected_name(app, screen) -> str:
    from textual.widgets import DataTable
    table = screen.query_one(DataTable)
    return str(table.get_row_at(table.cursor_row)[1])


async def test_a_grade_iii_incident_opens_on_its_tree_and_the_next_person(db_path, clock):
    app = make_app(db_path, clock)
    ctx, inc = _seed(app, clock)
    set_grade(ctx, inc.id, "III", "影响全校学籍")
    log_call(ctx, inc.id, "leader", "reached", said="已报告组长")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause(0.3)
        screen = app.screen
        assert isinstance(screen, ContactsScreen) and screen.situation == "serious_incident"
        assert await _selected_name(app, screen) == "李科长"     # 组长 reached: the bureau is next
