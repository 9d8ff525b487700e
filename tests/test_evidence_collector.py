"""Evidence names its collector as the reports' 联系人 name the officer: by the profile's name (王丽),
not the login (wangli), when nobody is named; what the person types is kept; and a stored collector
is never rewritten (chain of custody)."""
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Input

from models.accounts import create_user
from models.evidence import add_evidence, evidence_for
from models.incidents import IncidentInput, create_incident
from models.profiles import set_profile
from models.store import open_store
from models.tables import Evidence
from tests.conftest import T0, make_app, make_ctx, run_cli
from tests.test_incident_screen import open_incident
from tui.widgets.form_modal import FormModal

PASSWORD = "Wangli-passw0rd!"


def _school(db_path, clock):
    """A school with one officer, wangli, whose profile says 王丽, and one incident."""
    store = open_store(db_path)
    admin = make_ctx(store, clock)
    create_user(admin, "wangli", "officer", "王丽", PASSWORD)
    wangli = make_ctx(store, clock, role="officer", username="wangli")
    inc = create_incident(wangli, IncidentInput(title="学籍导出文件外泄", category="data_security",
                                                occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))
    return store, wangli, inc


@pytest.mark.parametrize("typed, stored", [
    (None, "王丽"),               # nobody named: the profile's name
    ("", "王丽"),                 # an emptied field: the same
    ("   ", "王丽"),
    ("李老师", "李老师"),          # what the person types is kept
    ("wangli", "wangli"),         # even the login, when that is what was typed
])
def test_the_collector_is_the_profile_name_unless_typed(db_path, clock, tmp_path, typed, stored):
    store, wangli, inc = _school(db_path, clock)
    f = tmp_path / "login.log"
    f.write_text("09:31 login 203.0.113.9")
    assert add_evidence(wangli, inc.id, f, collected_by=typed).collected_by == stored
    store.close()


def test_an_account_without_a_profile_name_keeps_the_login(db_path, clock, tmp_path):
    store = open_store(db_path)
    ctx = make_ctx(store, clock, username="nobody")          # no such account: nothing else to say
    inc = create_incident(ctx, IncidentInput(title="t", category="malware", occurred_at=T0, discovered_at=T0))
    f = tmp_path / "a.txt"
    f.write_text("a")
    assert add_evidence(ctx, inc.id, f).collected_by == "nobody"
    store.close()


def test_stored_collectors_are_never_rewritten(db_path, clock, tmp_path):
    store, wangli, inc = _school(db_path, clock)
    f = tmp_path / "a.txt"
    f.write_text("a")
    with store.write():                       # a record an older version stored by the login
        Evidence.create(incident=inc.id, original_path=str(f), copied=False, sha256="0" * 64, size=1,
                        collected_by="wangli", collected_at=T0, created_at=T0)
    add_evidence(wangli, inc.id, f)
    set_profile(wangli, "wangli", name="王丽（教务处）")
    add_evidence(wangli, inc.id, f)
    assert [e.collected_by for e in evidence_for(inc)] == ["wangli", "王丽", "王丽（教务处）"]
    store.close()


async def test_the_form_offers_the_profile_name_and_the_list_shows_it(db_path, clock, tmp_path):
    store, _, inc = _school(db_path, clock)
    store.close()
    f = tmp_path / "登录日志.txt"
    f.write_text("log")
    app = make_app(db_path, clock, role="officer", username="wangli")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_incident(app, pilot, inc)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, FormModal)
        assert app.screen.query_one("#f-collected_by", Input).value == "王丽"
        app.screen.query_one("#f-path", Input).value = str(f)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        app.screen.query_one("#f-path", Input).value = str(f)
        field = app.screen.query_one("#f-collected_by", Input)
        field.focus()
        await pilot.press("ctrl+u", *"李老师", "ctrl+s")
        await pilot.pause()
        await pilot.press("3")
        await pilot.pause()
        table = screen.query_one("#evidence-table", DataTable)
        assert [str(table.get_row_at(i)[5]) for i in range(table.row_count)] == ["王丽", "李老师"]
    assert [e.collected_by for e in Evidence.select().order_by(Evidence.id)] == ["王丽", "李老师"]


def test_cli_names_the_collector(db_path, clock, tmp_path):
    store, _, inc = _school(db_path, clock)
    store.close()
    f = tmp_path / "screen.png"
    f.write_bytes(b"\x89PNG fake")
    db = str(db_path)
    login = ("--user", "wangli", "--password-stdin", "--db", db)
    r = run_cli("evidence", "add", inc.code, str(f), *login, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert "收集人 王丽" in r.stdout
    r = run_cli("--lang", "en", "evidence", "add", inc.code, str(f), "--collected-by", "李老师", "--json",
                *login, input=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("evidence", "list", inc.code, "--db", db)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "王丽" in lines[0] and "wangli" not in lines[0] and "李老师" in lines[1], r.stdout
