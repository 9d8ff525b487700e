"""The contact panel at 80×24, driven by keys from the board: next contact, copy, log, oral stage met."""
from datetime import timedelta

from textual.widgets import DataTable, Digits, Static

from models.calls import log_call
from models.contacts import edit_contact, ensure_seeded, list_contacts
from models.incidents import IncidentInput, create_incident, incident_obligations
from models.tables import CallLog, Contact
from screens.contacts import ContactsScreen, big_number
from screens.contacts_forms import ContactForm, LogCallForm
from tests.conftest import T0, make_app, make_ctx

PEOPLE = {"registrar": ("张石全", "13900000010"), "academic_affairs": ("张勤", "13900000011"),
          "deputy": ("张学荣", "13900000012"), "leader": ("陈云柱", "13900000001")}


def _setup(app, clock, reached=("registrar", "academic_affairs", "deputy", "leader")):
    ctx = make_ctx(app.store, clock)
    ensure_seeded(ctx)
    for c in list_contacts():
        if c.role in PEOPLE:
            edit_contact(ctx, c.id, {"name": PEOPLE[c.role][0], "mobile": PEOPLE[c.role][1]})
        if c.role == "bureau":
            bureau = edit_contact(ctx, c.id, {"name": "李科长", "office": "0874-3000000 转 8001"})
    inc = create_incident(ctx, IncidentInput(title="学籍账号异常登录", category="network_attack",
                                             occurred_at=T0 - timedelta(minutes=25),
                                             discovered_at=T0 - timedelta(minutes=20), description="凌晨异地登录"))
    for role in reached:
        log_call(ctx, inc.id, role, "reached", said="已通知")
    return ctx, inc, bureau


def _oral_state(ctx, inc):
    return next(o.state for o in incident_obligations(ctx, inc) if o.stage == "oral")


def _board_stage_cells(app):
    table = app.screen.query_one(DataTable)
    col = [c.key.value for c in table.ordered_columns].index("stage")
    return [str(table.get_row_at(i)[col]) for i in range(table.row_count)]


async def test_from_the_board_call_the_next_contact_and_meet_the_oral_stage(db_path, clock):
    app = make_app(db_path, clock, role="officer", username="li")
    ctx, inc, bureau = _setup(app, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert any("口头报告" in s for s in _board_stage_cells(app))   # the board waits for the oral report
        await pilot.press("c")                                          # the board's key for contacts
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContactsScreen) and screen.incident.id == inc.id
        # Four reached already: the bureau is next, selected, highlighted, and its number is big.
        assert screen.selected_contact().id == bureau.id
        table = screen.query_one(DataTable)
        state_cell = str(table.get_row_at(table.cursor_row)[4])
        assert "下一位" in state_cell
        assert "▶" in str(screen.query_one("#contacts-bar", Static).render())
        assert screen.query_one("#contacts-number", Digits).value == "0874-3000000"
        assert "分机 8001" in str(screen.query_one("#contacts-number-label", Static).render())

        await pilot.press("c")                                          # copy (OSC 52)
        assert app.clipboard == "0874-3000000 转 8001"

        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, LogCallForm)
        await pilot.press("1")                                          # reached
        said = form.query_one("#call-said")
        said.text = ""
        await pilot.press("ctrl+s")                                     # nothing said: refused, form stays
        await pilot.pause()
        assert app.screen is form and "报告要点" in str(form.query_one("#call-errors", Static).render())
        said.focus()
        await pilot.press(*"report ok")
        form.query_one("#call-instructions").focus()
        await pilot.press(*"first report by 13:00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        call = CallLog.select().order_by(CallLog.id.desc()).get()
        assert (call.contact_id, call.outcome, call.said, call.instructions, call.number, call.logged_by) == \
            (bureau.id, "reached", "report ok", "first report by 13:00", "0874-3000000 转 8001", "li")
        assert _oral_state(ctx, inc) == "met"
        assert "已接通" in str(table.get_row_at(table.get_row_index(f"c:{bureau.id}"))[4])

        await pilot.press("escape")
        await pilot.pause()
        app.screen.tick()                                               # the board's one-second tick
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not any("口头报告" in s for s in _board_stage_cells(app))   # the board moved on to 首报
        assert any("首报" in s for s in _board_stage_cells(app))


async def test_idle_lock_hides_names_and_numbers(db_path, clock):
    from models.calltree import set_tree
    app = make_app(db_path, clock)
    ctx, inc, bureau = _setup(app, clock)
    set_tree(ctx, "new_incident", ["registrar", f"#{bureau.id}"])   # a step naming one person
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        cells = lambda: " ".join(str(c) for i in range(table.row_count) for c in table.get_row_at(i))
        assert "李科长" in cells() and "13900000001" in cells()
        app.locked = True
        await pilot.pause()
        assert "李科长" not in cells() and "13900000001" not in cells() and "0874" not in cells()
        assert screen.query_one("#contacts-number", Digits).value == ""
        bar = str(screen.query_one("#contacts-bar", Static).render())
        assert "学籍账号异常登录" not in bar and "李科长" not in bar and "县教育局基教科" in bar
        await pilot.press("c")
        assert app.clipboard == ""
        await pilot.press("l")
        assert app.screen is screen                                     # no dialog while locked
        app.locked = False
        await pilot.pause()
        assert "李科长" in cells()


async def test_admin_adds_a_contact_and_officers_cannot(db_path, clock):
    app = make_app(db_path, clock)
    _setup(app, clock, reached=())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactForm)
        await pilot.press(*"Zhao", "tab", "tab")   # name, department (skipped), mobile
        await pilot.press(*"12ab")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "12ab" in str(form.query_one("#contact-errors", Static).render())
        form.query_one("#f-mobile").value = "13900000099"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        added = Contact.get(Contact.name == "Zhao")
        assert added.mobile == "13900000099" and app.screen.selected_contact().id == added.id

    officer = make_app(db_path, clock, role="officer")
    async with officer.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        officer.open_screen("contacts")
        await pilot.pause()
        await pilot.press("a", "e", "o")
        assert isinstance(officer.screen, ContactsScreen)


def test_big_number_groups_mobiles_and_splits_extensions():
    assert big_number("13900000001") == ("139 0000 0001", "")
    assert big_number("0874-3000000 转 8001") == ("0874-3000000", "分机 8001")
    assert big_number("+86 (0874) 300") == ("+86 (0874) 300", "")


async def test_a_call_logged_by_the_other_session_shows_within_a_tick(db_path, clock):
    app = make_app(db_path, clock)
    ctx, inc, bureau = _setup(app, clock, reached=("registrar",))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        aa = next(c for c in list_contacts() if c.role == "academic_affairs")
        assert screen.selected_contact().id == aa.id
        screen.sync()                                                   # whatever the board's alarms wrote
        assert screen.sync() is False                                   # nothing changed since: no re-read
        # The colleague over SSH reaches the head of academic affairs (another connection, same file).
        import sqlite3
        other = sqlite3.connect(str(db_path))
        with other:
            other.execute("INSERT INTO call_log (incident_id, contact_id, contact_name, contact_role, number, at,"
                          " outcome, said, instructions, logged_by) VALUES (?, ?, '张勤', 'academic_affairs',"
                          " '13900000011', ?, 'reached', '', '', 'wang')",
                          (inc.id, aa.id, T0.isoformat(timespec="microseconds")))
        other.close()
        screen.sync()          # what the one-second timer does (it may already have run: same result)
        await pilot.pause()
        assert "已接通" in str(table.get_row_at(table.get_row_index(f"c:{aa.id}"))[4])
        assert screen.progress.next_step.role == "deputy"


async def test_an_unsaved_call_survives_a_dropped_session(db_path, clock):
    app = make_app(db_path, clock)
    ctx, inc, bureau = _setup(app, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        await pilot.press("2")                                          # no answer
        form.query_one("#call-instructions").focus()
        await pilot.press(*"call back 10:30")
        form.flush_draft()                                              # the two-second autosave
    # The connection dropped: nothing was logged, the draft is in the database.
    assert CallLog.select().where(CallLog.contact == bureau.id).count() == 0
    again = make_app(db_path, clock)
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        again.open_screen("contacts", inc.id)
        await pilot.pause()
        await pilot.press("l")
        await pilot.pause()
        form = again.screen
        assert form.chosen_outcome() == "no_answer"
        assert form.query_one("#call-instructions").text == "call back 10:30"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(again.screen, ContactsScreen)
    call = CallLog.get(CallLog.contact == bureau.id)
    assert (call.outcome, call.instructions, call.said) == ("no_answer", "call back 10:30", "")
    from models.calls import load_call_draft
    assert load_call_draft(make_ctx(app.store, clock), inc.id, bureau.id) is None


async def test_admin_reorders_the_call_tree_and_switches_situation(db_path, clock):
    from models.calltree import steps
    from screens.contacts_forms import TreeForm
    app = make_app(db_path, clock)
    _setup(app, clock, reached=())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, TreeForm)
        await pilot.press("j")                        # registrar moves below academic affairs
        await pilot.press("down", "down", "down", "x")   # drop the bureau (last step)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        assert [s.role for s in steps("new_incident")] == ["academic_affairs", "registrar", "deputy", "leader"]
        bar = lambda: str(app.screen.query_one("#contacts-bar", Static).render())
        assert "新事件" in bar()
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.situation == "serious_incident" and "网信部门" in bar()


async def test_english_panel_fits_80_columns(db_path, clock):
    from models.i18n import set_language
    app = make_app(db_path, clock)
    set_language("en")                     # after make_app: its Env applies the CLI's --lang zh
    ctx, inc, bureau = _setup(app, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause()
        screen = app.screen
        assert "Call tree: New incident" in str(screen.query_one("#contacts-bar", Static).render())
        table = screen.query_one(DataTable)
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80
        assert "reaching them is the oral report" in str(screen.query_one("#contacts-detail", Static).render())


async def test_call_history_and_dialogs_hide_while_locked(db_path, clock):
    from screens.contacts_forms import CallHistory
    app = make_app(db_path, clock)
    ctx, inc, bureau = _setup(app, clock, reached=())
    log_call(ctx, inc.id, "bureau", "no_answer")
    log_call(ctx, inc.id, "bureau", "reached", said="报告了异常登录", instructions="保留日志")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts", inc.id)
        await pilot.pause()
        await pilot.press("h")
        await pilot.pause()
        hist = app.screen
        assert isinstance(hist, CallHistory)
        table = hist.query_one(DataTable)
        assert table.row_count == 2 and "无人接听" in str(table.get_row_at(0)[3])
        await pilot.press("down")
        await pilot.pause()
        detail = lambda: str(hist.query_one("#history-detail", Static).render())
        assert "报告了异常登录" in detail() and "保留日志" in detail()
        app.locked = True
        await pilot.pause()
        assert not hist.query_one("#history-dialog").display and hist.query_one("#lock-note").display
        app.locked = False
        await pilot.pause()
        assert hist.query_one("#history-dialog").display
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ContactsScreen)
        await pilot.press("l")
        await pilot.pause()
        form = app.screen
        app.locked = True
        await pilot.pause()
        assert not form.query_one("#call-dialog").display
        await pilot.press("1", "ctrl+s")                               # nothing is saved while locked
        assert app.screen is form and CallLog.select().count() == 2


async def test_editing_a_contact_the_other_session_changed_merges_per_field(db_path, clock):
    app = make_app(db_path, clock)
    ctx, inc, bureau = _setup(app, clock, reached=())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_screen("contacts")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(f"c:{bureau.id}"))
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ContactForm) and form.query_one("#f-name").value == "李科长"
        wang = make_ctx(app.store, clock, username="wang")
        edit_contact(wang, bureau.id, {"mobile": "13900000077", "office": "0874-3000001"})  # the colleague
        form.query_one("#f-notes").value = "值班室"
        form.query_one("#f-office").value = "0874-3000002"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form                                      # office: both changed it
        msg = str(form.query_one("#contact-errors", Static).render())
        assert "冲突" in msg and "0874-3000001" in msg and "李科长" in msg and "13900000077" not in msg
        assert form.query_one("#f-office").value == "0874-3000002"     # what was typed is still there
        c = Contact.get_by_id(bureau.id)
        assert (c.notes, c.mobile, c.office) == ("值班室", "13900000077", "0874-3000001")  # notes saved, theirs kept
        await pilot.press("ctrl+s")                                     # keep mine for office
        await pilot.pause()
        assert app.screen is not form
    c = Contact.get_by_id(bureau.id)
    assert (c.notes, c.mobile, c.office) == ("值班室", "13900000077", "0874-3000002")
