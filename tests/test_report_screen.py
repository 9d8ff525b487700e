"""The report screen at 80×24: typing autosaves, check, submit, correct, conflicts, crash survival."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

from textual.widgets import Input, Static, TextArea

from models import audit
from models.incidents import IncidentInput, create_incident
from models.reports import stashed_conflict
from models.tables import Report
from tests.conftest import ROOT, T0, make_app, make_ctx, run_cli


def _seed(db_path, clock, **kw):
    from models.store import open_store
    s = open_store(db_path)
    ctx = make_ctx(s, clock)
    data = dict(title="学籍账号异常登录", category="network_attack", grade="IV",
                occurred_at=T0 - timedelta(minutes=40), discovered_at=T0 - timedelta(minutes=20),
                location="教务处学籍终端", reported_by="值班员", description="异地登录")
    data.update(kw)
    inc = create_incident(ctx, IncidentInput(**data))
    s.close()
    return inc


async def _open(app, pilot, stage="first", seq=None):
    await pilot.pause()
    app.open_screen("report", 1, "school_plan", stage, seq)
    await pilot.pause()
    await pilot.pause()
    return app.screen


def _screen_text(screen) -> str:
    parts = []
    for w in screen.query(Static):
        parts.append(str(w.render()))
    for w in screen.query(Input):
        parts.append(w.value)
    for w in screen.query(TextArea):
        parts.append(w.text)
    return "\n".join(parts)


async def _type_into(pilot, screen, field, text):
    w = screen.query_one(f"#field-{field}")
    w.focus()
    await pilot.pause()
    await pilot.press(*list(text))


async def test_typing_autosaves_and_check_lists_missing(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert type(screen).__name__ == "ReportScreen"
        assert screen.query_one("#field-location", Input).value == "教务处学籍终端"   # prefilled
        await _type_into(pilot, screen, "damage", "none at all")
        assert screen.dirty
        screen._tick()                     # not yet: typing just happened
        r = Report.get()
        assert r.fields.get("damage", "") == ""
        screen.last_change -= 5            # as if the officer stopped typing 5 s ago
        screen.first_dirty -= 5
        screen._tick()
        assert Report.get().fields["damage"] == "none at all" and not screen.dirty
        await pilot.press("f3")            # check
        await pilot.pause()
        status = str(screen.query_one("#report-status", Static).render())
        assert "影响范围" in status and "事件简要经过" not in status
        assert "-missing" in screen.query_one("#label-affected_scope").classes
        assert app.focused.id == "field-affected_scope"


async def test_autosave_timer_runs_by_itself(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        await _type_into(pilot, screen, "damage", "typed")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Report.get().fields.get("damage") != "typed":
            await pilot.pause(0.25)
        assert Report.get().fields.get("damage") == "typed"   # within the 5 s promise (+ margin)


FIELDS = {"affected_scope": "120", "damage": "none", "threat": "low", "trend": "ok", "measures_taken": "pw",
          "next_steps": "check", "contact_phone": "1234", "event_level": "IV", "summary": "s",
          "reporting_unit": "school", "info_source": "duty"}


def _fill(db_path, clock):
    from models.store import open_store
    from models.reports import open_report, save_draft
    s = open_store(db_path)
    ctx = make_ctx(s, clock)
    r = open_report(ctx, 1, "school_plan", "first")
    save_draft(ctx, r.id, r.version, FIELDS)
    s.close()


async def test_submit_dialog_then_frozen_then_correct(db_path, clock):
    _seed(db_path, clock)
    _fill(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("f5")
        await pilot.pause()
        dialog = app.screen
        assert type(dialog).__name__ == "SubmitDialog"
        assert not dialog.query_one("#submit-late-part").display      # on time: no late reason asked
        # No oral report yet (issue 12): the dialog asks why the written report goes first.
        assert dialog.query_one("#submit-oral-part").display
        dialog.query_one("#submit-before-oral", Input).value = "电话未接通"
        rec = dialog.query_one("#submit-recipient", Input)
        rec.value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "必填" in str(dialog.query_one("#err-submit_recipient", Static).render())
        await pilot.press(*"wang")
        await pilot.press("enter")          # Enter moves to the next field: nothing submitted yet
        await pilot.press(*"wang")
        assert Report.get().status == "draft"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        r = Report.get()
        assert r.status == "submitted" and r.recipient == "wang" and r.receipt_confirmed_by == "wang"
        assert r.submitted_at == T0
        assert not screen.query(TextArea) and not screen.query(Input)          # read-only now
        assert "none" in _screen_text(screen)
        await pilot.press("f7")             # correct
        await pilot.pause()
        assert screen.report.revision == 2 and screen.report.status == "draft"
        await _type_into(pilot, screen, "damage", " plus disk")
        await pilot.press("f5")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#submit-correction", Input).value = "found a broken disk"
        dialog.query_one("#submit-correction", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        revs = list(Report.select().order_by(Report.revision))
        assert [(x.revision, x.status) for x in revs] == [(1, "superseded"), (2, "submitted")]
        assert revs[1].fields["damage"] == "none plus disk" and revs[0].fields["damage"] == "none"


async def test_late_submit_asks_for_reason(db_path, clock):
    _seed(db_path, clock)
    _fill(db_path, clock)
    clock.advance(hours=3)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert "超时" in str(screen.query_one("#report-title", Static).render())
        await pilot.press("f5")
        await pilot.pause()
        dialog = app.screen
        assert dialog.query_one("#submit-late-part").display
        dialog.query_one("#submit-before-oral", Input).value = "电话未接通"     # no oral report (issue 12)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "迟报原因" in str(dialog.query_one("#err-submit_late_reason", Static).render())
        dialog.query_one("#submit-late", Input).value = "on site"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Report.get().late_reason == "on site"


async def test_markup_and_escapes_render_literally(db_path, clock):
    _seed(db_path, clock, title="[bold]x[/] [@click=app.quit]y[/] \x1b[2J", description="[@click=app.quit]x[/]")
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        title = str(screen.query_one("#report-title", Static).render())
        assert "[bold]x[/]" in title and "[@click=app.quit]y[/]" in title and "\x1b" not in title
        assert screen.query_one("#field-summary", TextArea).text == "[@click=app.quit]x[/]"
        await _type_into(pilot, screen, "damage", "[bold]z[/]")
        screen.save()
        await pilot.press("f7")  # nothing to correct on a draft: a warning, not a crash
        await pilot.pause()
        assert app.is_running
    # after submission the read-only view shows the text literally too
    from models.store import open_store
    from models.reports import Submission, save_draft, submit
    s = open_store(db_path)
    ctx = make_ctx(s, clock)
    r = Report.get()
    r = save_draft(ctx, r.id, r.version, FIELDS | {"damage": "[bold]z[/] [@click=app.quit]q[/]"})
    submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax", recipient="[b]w[/]"))
    s.close()
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        text = _screen_text(screen)
        assert "[bold]z[/] [@click=app.quit]q[/]" in text and "[b]w[/]" in text


async def test_two_processes_same_report_conflict_screen_nothing_lost(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        read_version = screen.version
        # The colleague over SSH saves the same report from another process.
        env = {"XUEJI_DUTY_DB": str(db_path)}
        r = run_cli("report", "draft", "2026-001", "first", "--user", "colleague",
                    "--field", "damage=THEIRS: server disk", env=env)
        assert r.returncode == 0, r.stderr
        screen.paused = True   # hold the follow-the-other-session poll while we type, as typing does
        await _type_into(pilot, screen, "damage", "MINE: nothing")
        screen.paused = False
        await pilot.press("f2")
        await pilot.pause()
        conflict = app.screen
        assert type(conflict).__name__ == "ConflictScreen"
        shown = _screen_text(conflict)
        assert "THEIRS: server disk" in shown and "MINE: nothing" in shown
        assert screen.version == read_version + 1      # the form now stands on theirs (merged)
        # mine is kept in the database while the officer decides
        assert stashed_conflict(app.ctx, screen.report.id)["damage"] == "MINE: nothing"
        await pilot.press("ctrl+o")          # keep mine, on top of theirs
        await pilot.pause()
        assert app.screen is screen
        row = Report.get()
        assert row.fields["damage"] == "MINE: nothing" and row.version == read_version + 2
        # theirs is not lost: the audit trail holds the value mine replaced
        saves = [e for e in audit.events_for("report", row.id) if e.action == "report.save"]
        assert any(e.changes["fields"].get("damage", [None])[0] == "THEIRS: server disk" for e in saves)
        assert stashed_conflict(app.ctx, row.id) is None


async def test_conflict_copy_takes_theirs_and_keeps_mine(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        r = run_cli("report", "draft", "2026-001", "first", "--user", "colleague",
                    "--field", "damage=THEIRS", env={"XUEJI_DUTY_DB": str(db_path)})
        assert r.returncode == 0, r.stderr
        screen.paused = True
        await _type_into(pilot, screen, "damage", "MINE")
        screen.paused = False
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.query_one("#field-damage", TextArea).text == "THEIRS"
        assert app.clipboard and "MINE" in app.clipboard
        assert stashed_conflict(app.ctx, screen.report.id)["damage"] == "MINE"
        assert Report.get().fields["damage"] == "THEIRS"


async def test_idle_screen_follows_the_other_session(db_path, clock):
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        r = run_cli("report", "draft", "2026-001", "first", "--user", "colleague",
                    "--field", "damage=from ssh", env={"XUEJI_DUTY_DB": str(db_path)})
        assert r.returncode == 0
        screen._tick()
        await pilot.pause()
        assert screen.query_one("#field-damage", TextArea).text == "from ssh"
        assert not screen.dirty


CHILD = textwrap.dedent("""
    import asyncio, sys
    from datetime import datetime, timezone
    from pathlib import Path
    from models.clock import FixedClock
    from tests.conftest import make_app

    async def main(db):
        clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc))
        app = make_app(Path(db), clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.open_screen("report", 1, "school_plan", "first", None)
            await pilot.pause(); await pilot.pause()
            app.screen.query_one("#field-damage").focus()
            await pilot.pause()
            await pilot.press(*list("typed before the crash"))
            print("typed", flush=True)
            while True:                       # the officer stares at the screen; then the line drops
                await pilot.pause(0.2)

    asyncio.run(main(sys.argv[1]))
""")


async def test_draft_survives_killing_the_process(db_path, clock):
    _seed(db_path, clock)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db_path)], cwd=str(ROOT),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert proc.stdout.readline().strip() == "typed", proc.stderr.read() if proc.poll() is not None else ""
        saved = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            con = sqlite3.connect(str(db_path), timeout=5)
            row = con.execute("SELECT fields FROM report").fetchone()
            con.close()
            saved = json.loads(row[0]).get("damage") if row else None
            if saved == "typed before the crash":
                break
            time.sleep(0.2)
    finally:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.kill(proc.pid, signal.SIGKILL)   # no clean shutdown, no unmount handlers
        proc.wait(timeout=30)
    assert saved == "typed before the crash"
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert screen.query_one("#field-damage", TextArea).text == "typed before the crash"


async def test_other_session_submitted_while_typing_mine_becomes_a_correction(db_path, clock):
    _seed(db_path, clock)
    _fill(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        r = run_cli("report", "submit", "2026-001", "first", "--user", "colleague", "--channel", "phone",
                    "--recipient", "wang", "--late-reason", "the CLI runs on the real clock",
                    "--before-oral-reason", "no phone",
                    env={"XUEJI_DUTY_DB": str(db_path)})
        assert r.returncode == 0, r.stderr
        screen.paused = True
        await _type_into(pilot, screen, "damage", " and more")
        screen.paused = False
        await pilot.press("f2")
        await pilot.pause()
        conflict = app.screen
        assert type(conflict).__name__ == "ConflictScreen"
        assert "none and more" in _screen_text(conflict)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.pause()
        revs = list(Report.select().order_by(Report.revision))
        assert [(x.revision, x.status) for x in revs] == [(1, "submitted"), (2, "draft")]
        assert revs[1].fields["damage"] == "none and more" and revs[0].fields["damage"] == "none"
        assert screen.report.id == revs[1].id


async def test_export_key_writes_docx_and_plain_text(db_path, clock):
    _seed(db_path, clock)
    _fill(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        await pilot.press("f6")
        await pilot.pause()
    folder = db_path.parent / f"{db_path.stem}-documents"
    docx = folder / "2026-001-首报-草稿.docx"        # not yet submitted: the name says so
    txt = folder / "2026-001-首报-草稿.txt"
    assert docx.exists() and txt.exists()
    text = txt.read_text("utf-8")
    assert "县教育局基教科：" in text and "草稿（未报送）" in text
    assert "**" not in text and not any(line.startswith("#") for line in text.splitlines())


async def test_copy_keys_put_the_short_and_the_plain_version_on_the_clipboard(db_path, clock):
    _seed(db_path, clock)
    _fill(db_path, clock)
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot)
        await pilot.press("f8")
        await pilot.pause()
        short = app.clipboard
        await pilot.press("f9")
        await pilot.pause()
        plain = app.clipboard
    assert 0 < len(short) <= 300 and "发生" in short
    assert plain.startswith("【草稿（未报送）】") and "**" not in plain and "县教育局基教科：" in plain


async def test_english_labels(db_path, clock):
    from models.i18n import set_language
    _seed(db_path, clock)
    app = make_app(db_path, clock)
    set_language("en")   # make_app starts in Chinese, as a fresh session would
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        text = _screen_text(screen)
        assert "Time of occurrence" in text and "First report" in text


async def test_viewer_sees_the_draft_read_only(db_path, clock):
    _seed(db_path, clock)
    _fill(db_path, clock)
    app = make_app(db_path, clock, role="viewer", username="v")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        assert not screen.query(Input) and not screen.query(TextArea)
        assert "120" in _screen_text(screen)
