"""People are named by their profile name (王丽), as the board's ``@王丽`` and the conflict view do
(models.profiles.display_name), in the timeline, the call history and a report's submitted line, on
the screen and in ``report show``; the login shows only where no profile name exists. JSON keeps
the login (``submitted_by``) and adds the name."""
import json
from datetime import timedelta

from textual.widgets import DataTable, Static

from models.accounts import create_user
from models.calls import log_call
from models.incidents import IncidentInput, create_incident
from models.notes import add_note
from models.reports import Submission, open_report, save_draft, submit
from models.tables import Contact
from tests.conftest import T0, make_app, make_ctx, run_cli
from tests.test_county_receipt_school import FIRST
from tests.ui_helpers import screen_text, wait_for


def build(store, clock):
    """wangli (王丽) records and reports the incident and logs a call; ghost, with no account, a note."""
    admin = make_ctx(store, clock)
    create_user(admin, "wangli", "officer", "王丽", "Xueji-duty-2026")
    wang = make_ctx(store, clock, role="officer", username="wangli")
    inc = create_incident(wang, IncidentInput(
        title="学籍账号异常登录", category="network_attack", grade="IV", occurred_at=T0 - timedelta(minutes=40),
        discovered_at=T0, location="教务处学籍终端", reported_by="值班员", description="异地登录"))
    bureau = Contact.create(name="王科长", role="bureau", mobile="13800000000")
    clock.advance(minutes=2)
    log_call(wang, inc.id, bureau.id, "reached", said="已口头报告")
    clock.advance(minutes=2)
    add_note(make_ctx(store, clock, role="officer", username="ghost"), inc.id, "已封存学籍电脑")
    r = open_report(wang, inc.id, "school_plan", "first")
    r = save_draft(wang, r.id, r.version, FIRST)
    submit(wang, r.id, r.version, Submission(before_oral_reason="先传真", channel="fax", recipient="县教育局"))
    return inc


async def test_the_timeline_names_people_by_their_profile_name(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = build(app.store, clock)
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.2)
        await pilot.press("2")                                 # the timeline tab
        await pilot.pause(0.2)
        text = str(app.screen.query_one("#timeline-text", Static).render())
        assert "王丽" in text and "wangli" not in text, text
        assert "ghost" in text                                 # no profile: the login
        assert "王丽" in screen_text(app)


async def test_the_call_history_names_who_logged_the_call(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = build(app.store, clock)
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause(0.3)
        app.screen.action_history()
        assert await wait_for(pilot, lambda: app.screen.query("#history-table"))
        table = app.screen.query_one("#history-table", DataTable)
        cells = [str(c) for c in table.get_row_at(0)]
        assert "王丽" in cells and "wangli" not in cells, cells


async def test_the_report_screen_names_the_submitter(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = build(app.store, clock)
        await pilot.pause()
        app.open_screen("report", inc.id, "school_plan", "first", 1)
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "王丽" in text and "wangli" not in text, text


def test_report_show_names_the_submitter_and_json_keeps_the_login(store, clock, db_path):
    inc = build(store, clock)
    got = run_cli("report", "show", inc.code, "--db", str(db_path))
    assert got.returncode == 0, got.stderr
    assert "王丽" in got.stdout and "wangli" not in got.stdout, got.stdout
    got = run_cli("report", "show", inc.code, "--db", str(db_path), "--json")
    first = json.loads(got.stdout)["reports"][0]
    assert first["submitted_by"] == "wangli" and first["submitted_by_name"] == "王丽"


def test_a_contact_removed_or_changed_meanwhile_names_the_colleague(ctx, store, clock):
    import pytest
    from models.contacts import add_contact, remove_contact, edit_contact
    from models.errors import ConflictError, NotFound
    create_user(ctx, "wangli", "admin", "王丽", "Xueji-duty-2026")
    wang = make_ctx(store, clock, role="admin", username="wangli")
    c = add_contact(ctx, {"name": "吴主任", "role": "academic_affairs", "mobile": "13900000000"})
    edit_contact(wang, c.id, {"mobile": "13900000001"}, expected_version=c.version)
    with pytest.raises(ConflictError) as changed:
        remove_contact(ctx, c.id, expected_version=c.version)
    assert "王丽" in changed.value.message and "wangli" not in changed.value.message
    remove_contact(wang, c.id)
    for act in (lambda: edit_contact(ctx, c, {"mobile": "13900000002"}, expected_version=c.version + 1),
                lambda: remove_contact(ctx, c)):          # the contact as this screen still shows it
        with pytest.raises(NotFound) as gone:
            act()
        assert "王丽" in gone.value.message and "wangli" not in gone.value.message, gone.value.message


async def test_warnings_and_the_ledger_name_who_acted(db_path, clock):
    from models.ledger import UseInput, add_use
    from models.warnings import actions_of, add_warning, lift_warning, set_action_done
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        admin = make_ctx(app.store, clock)
        create_user(admin, "wangli", "officer", "王丽", "Xueji-duty-2026")
        wang = make_ctx(app.store, clock, role="officer", username="wangli")
        w = add_warning(wang, "red", source="县教育局", content="勒索病毒攻击预警", actions=[("教务处", "排查终端")])
        set_action_done(wang, actions_of(w)[0].id)
        lift_warning(wang, w.id, "县教育局通知解除")
        add_use(wang, UseInput(who="李老师", data="在籍学生名单", purpose="保险", approved_by="校长"))
        await pilot.pause()
        app.open_screen("warnings")
        await pilot.pause(0.3)
        await pilot.press("a")                                  # lifted ones too
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "王丽 于" in text and "王丽 10:00" in text and "wangli" not in text, text
        app.pop_screen()
        await pilot.pause()
        app.open_screen("ledger")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "登记人：王丽" in text and "wangli" not in text, text
    got = run_cli("warning", "list", "--all", "--db", str(db_path))
    assert got.returncode == 0, got.stderr
    assert "王丽" in got.stdout and "wangli" not in got.stdout, got.stdout


def test_check_show_names_who_did_the_check(ctx, store, clock, db_path):
    from models.cadence import local_day
    from models.checks import add_check, complete_check
    from tests.conftest import SH
    create_user(ctx, "wangli", "officer", "王丽", "Xueji-duty-2026")
    chk = add_check(ctx, "安全检查", "weekly", checklist=["杀毒软件"], first_due=local_day(T0, SH))
    complete_check(make_ctx(store, clock, role="officer", username="wangli"), chk.id, findings="正常")
    got = run_cli("check", "show", str(chk.id), "--db", str(db_path))
    assert got.returncode == 0, got.stderr
    assert "王丽" in got.stdout and "wangli" not in got.stdout, got.stdout
