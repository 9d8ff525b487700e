"""Stored text is shown literally, never read as Textual markup (issue 13's markup half).

Every free-text field an officer or an import can set holds markup-like text (``[/x]`` would stop
the app with a MarkupError, ``[bold red]`` restyle it, ``[@click=app.quit]`` make a click quit it);
every screen that shows those fields is opened at 80×24 and must show the text as typed, with no
click action or link on any cell."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import T0, make_app, make_ctx
from tests.test_safe_output import TEXT_COLUMNS
from tests.ui_helpers import screen_text, wait_for

# The pieces, in this order, in every field: the first one is visible even in a narrow cell.
PIECES = ("[/x]", "[bold red]X", "[link=file:///etc]y[/link]", "[@click=app.quit]z[/]", "\\[", "[")
HOSTILE = "".join(PIECES)


def _hostile_database(tmp_path, clock):
    from models.demo import seed_demo
    from models.calls import log_call
    from models.checks import complete_check, get_check
    from models.evidence import add_evidence
    from models.notes import add_note
    from models.store import open_store
    from models.tables import BackupRecord, Check as CheckRow, Contact, Report, Setting
    folder = tmp_path / "[bold red]X[@click=app.quit]z[\\[[\u200b"      # the database's own folder too
    folder.mkdir()
    db = folder / "markup.db"
    store = open_store(db)
    ctx = make_ctx(store, clock)
    demo = seed_demo(ctx)
    folder = tmp_path / "usb"
    folder.mkdir()
    name = "[bold red]X[@click=app.quit]z[\\[.log"
    (folder / name).write_text("evidence")
    add_evidence(ctx, demo.overdue.code, folder / name, copy=True)
    add_note(ctx, demo.overdue.code, "note")
    complete_check(ctx, get_check("security_check").id, findings="ok")
    log_call(ctx, demo.overdue.code, Contact.select().first().id, "reached", said="ok")
    from models.accounts import create_user
    create_user(ctx, "duty", "officer", "值班员", "Duty-passw0rd!")
    with store.write():
        for table, columns in TEXT_COLUMNS.items():
            for col in columns:
                store.db.execute_sql(f'UPDATE "{table}" SET "{col}" = ?', (HOSTILE,))
        store.db.execute_sql('UPDATE "evidence" SET "original_path" = ?', ("/mnt/" + HOSTILE,))
        Setting.update(value="学校" + HOSTILE).where(Setting.key == "school_name").execute()
        for rep in Report.select():
            rep.fields = {k: (HOSTILE if isinstance(v, str) or v is None else v) for k, v in rep.fields.items()} \
                or {"summary": HOSTILE}
            rep.save()
        CheckRow.update(checklist=[HOSTILE]).execute()
        store.db.execute_sql('UPDATE "incident" SET "is_drill" = 1 WHERE id = ?', (demo.due_soon.id,))
        BackupRecord.create(at=T0 - timedelta(minutes=5), path=HOSTILE, ok=False, message=HOSTILE)
    store.close()
    return db, demo


@pytest.fixture
def hostile(tmp_path, clock):
    return _hostile_database(tmp_path, clock)


def _no_action_or_link(app) -> list[str]:
    """Every segment on screen that carries a click action or a hyperlink (markup that was read)."""
    bad = []
    for strip in app.screen._compositor.render_strips():
        for seg in strip:
            style = seg.style
            if style is None:
                continue
            meta = style.meta or {}
            # Textual's own widgets (the footer's keys, tabs) carry their own actions, never ``app.quit``
            if "quit" in repr(meta.get("@click", "")) or style.link or "etc" in repr(meta):
                bad.append(f"{seg.text!r} {meta} {style.link}")
    return bad


async def _shows(pilot, app, pieces=PIECES[:1], what=""):
    assert await wait_for(pilot, lambda: all(p in screen_text(app) for p in pieces)), \
        f"{what}: {pieces} not on screen\n{screen_text(app)}"
    assert _no_action_or_link(app) == [], what
    assert app.is_running and app.return_code is None, what


def _quit_guard(app, ran):
    async def quit_action() -> None:
        ran.append("quit")
    app.action_quit = quit_action


async def test_every_screen_shows_markup_literally(hostile, clock):
    db, demo = hostile
    app = make_app(db, clock)
    ran: list[str] = []
    _quit_guard(app, ran)
    async with app.run_test(size=(80, 24)) as pilot:
        await _shows(pilot, app, what="board")

        async def open_(name, *args, pieces=PIECES[:1], **kwargs):
            assert app.open_screen(name, *args, **kwargs), name
            await pilot.pause()
            assert type(app.screen).__module__ == f"screens.{name}", name
            await _shows(pilot, app, pieces, what=name)

        await open_("incident", demo.overdue.id, pieces=PIECES)          # overview: facts, description
        for key, tab, pieces in (("2", "timeline", PIECES), ("3", "evidence", ("[bold red]X[@click=app.quit]z[\\[",))):
            await pilot.press(key)
            await pilot.pause()
            await _shows(pilot, app, pieces, what=tab)
        await pilot.press("1")
        await app.pop_screen()
        await open_("report", demo.awaiting_final.id, "school_plan", "first", pieces=PIECES)
        await app.pop_screen()
        await open_("contacts", demo.overdue.id)
        await app.pop_screen()
        for name, pieces in (("checks", PIECES[:1]), ("warnings", PIECES[:1]), ("stats", ()),
                             ("history", PIECES[:1]), ("drills", PIECES[:1]), ("backup", PIECES[:1]),
                             ("accounts", PIECES[:1]), ("registry", PIECES[:1]), ("ledger", PIECES[:1])):
            await open_(name, pieces=pieces)
            await app.pop_screen()
        await open_("help", app.screen, pieces=())
        await app.pop_screen()
        assert "[/x]" in screen_text(app)
    assert ran == []


async def test_dialogs_show_markup_literally(hostile, clock):
    """The contact, call, tree, check, warning, drill, grade and edit forms that carry stored text."""
    db, demo = hostile
    from models.tables import Check as CheckRow, Contact, Incident, Warning
    from screens.checks import CompleteCheckScreen, EditCheckScreen
    from screens.contacts_forms import CallHistory, ConfirmRemove, ContactForm, LogCallForm, TreeForm
    from models.calltree import DEFAULT_SITUATION
    from screens.warnings import LiftWarningScreen
    app = make_app(db, clock)
    ran: list[str] = []
    _quit_guard(app, ran)
    async with app.run_test(size=(80, 24)) as pilot:
        await _shows(pilot, app, what="board")
        with app.store.read():
            contact = Contact.select().first()
            incident = Incident.get_by_id(demo.overdue.id)
            check_id = CheckRow.select().first().id
            warning = Warning.select().first()
        dialogs = [
            ("call history", lambda: CallHistory(incident), PIECES[:1]),
            ("log call", lambda: LogCallForm(contact, incident, contact.mobile), PIECES[:1]),
            ("contact form", lambda: ContactForm(contact, contact.role), PIECES[:1]),
            ("remove contact", lambda: ConfirmRemove(contact), PIECES[:1]),
            ("call tree", lambda: TreeForm(DEFAULT_SITUATION), PIECES[:1]),
            ("complete check", lambda: CompleteCheckScreen(check_id), PIECES[:1]),
            ("edit check", lambda: EditCheckScreen(check_id), PIECES[:1]),
        ]
        from screens.conflict import ConflictScreen
        from screens.drill import AskScreen
        from screens.new_incident import ConfirmRecord
        from tui.widgets.form_modal import FormField, FormModal
        dialogs += [
            ("conflict", lambda: ConflictScreen({"title": "标题"}, {"title": HOSTILE}, {"title": HOSTILE + "2"}, 2,
                                                conflicts=[{"field": "title", "base": HOSTILE, "by": HOSTILE}],
                                                who=HOSTILE, what=HOSTILE), PIECES[:1]),
            ("confirm record", lambda: ConfirmRecord(HOSTILE), PIECES),
            ("ask", lambda: AskScreen(HOSTILE, HOSTILE), PIECES),
            ("form", lambda: FormModal(HOSTILE, [FormField("text", "备注", "text", HOSTILE)], lambda v: None,
                                       intro=HOSTILE), PIECES[:1]),
        ]
        if warning is not None:
            dialogs.append(("lift warning", lambda: LiftWarningScreen(warning.id), PIECES[:1]))
        opens = {"contact form": "#f-role", "call tree": "#tree-pick", "complete check": "#complete-category"}
        for what, make, pieces in dialogs:
            dialog = make()
            await app.push_screen(dialog)
            await pilot.pause()
            assert app.screen is dialog, what
            if what in opens:             # a Select's list is drawn (and its labels read) when it opens
                app.screen.query_one(opens[what]).focus()
                await pilot.press("enter", "end")   # the call tree's contacts come after the roles
                await pilot.pause()
            await _shows(pilot, app, pieces, what=what)
            if what in opens:
                await pilot.press("escape")
            await app.pop_screen()
        for name, args, pieces in (("drill", (demo.due_soon.id,), PIECES[:1]), ("grade", (demo.overdue.id,), ()),
                                   ("edit_incident", (demo.overdue.id,), ())):
            assert app.open_screen(name, *args), name
            await pilot.pause()
            assert type(app.screen).__module__ == f"screens.{name}", name
            await _shows(pilot, app, pieces, what=name)
            await app.pop_screen()
    assert ran == []


async def test_login_shows_the_school_name_literally(hostile, clock):
    db, _ = hostile
    from tests.conftest import env_for
    from tui.app import DutyApp
    env = env_for(db)
    env.clock = clock
    app = DutyApp(env, clock=clock)
    ran: list[str] = []
    _quit_guard(app, ran)
    async with app.run_test(size=(80, 24)) as pilot:
        await _shows(pilot, app, ("学校[/x][bold",) + PIECES[2:], what="login")
        from tui.widgets.safe_input import SafeInput
        assert isinstance(app.screen.query_one("#login-username"), SafeInput)
        await pilot.press(*"[/x]")            # typed into the user name: shown as typed
        await pilot.press("enter")
        await pilot.pause()
        assert app.is_running
        # an error naming stored text (here the database's path) is shown as it is
        from models.errors import PermissionDenied
        from screens._account_form import show_error
        from screens.login import FIELDS
        show_error(app.screen, PermissionDenied("error.local_unlock_not_owner", path="/srv/[/x]/duty.db"),
                   FIELDS, "login-error")
        await _shows(pilot, app, ("/srv/[/x]/duty.db",), what="login error")
    assert ran == []
