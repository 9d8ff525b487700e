"""The school's transactional outbox (issue 19): rows written in the change's own transaction,
versions per record, the payload the county wants, nothing at all on a database not enrolled;
enrolment against a real PostgreSQL (one-time secret, fresh password, receipts back)."""
import json
import time
from datetime import timedelta

import psycopg
import pytest

from models.county import link, outbox, server
from models.incidents import IncidentInput, create_incident, set_grade, update_incident
from models.reports import Submission, open_report, save_draft, submit
from models.tables import CountyReceipt, Incident, Outbox, Setting
from tests.conftest import T0
from tests.pgcluster import make_county

FIRST_FULL = {"affected_scope": "约 120 名学生记录", "damage": "无", "threat": "较低", "trend": "已控制",
              "measures_taken": "已修改口令、断网", "next_steps": "配合排查", "contact_phone": "0874-1234567"}


def _incident(ctx, **kw):
    data = dict(title="学籍系统账号异常登录", category="network_attack", grade="IV",
                occurred_at=T0 - timedelta(minutes=40), discovered_at=T0 - timedelta(minutes=20),
                location="教务处学籍终端", reported_by="值班员李老师", description="异地登录。")
    data.update(kw)
    return create_incident(ctx, IncidentInput(**data))


def _enrol_locally(store, school="S001"):
    """Only the setting (what the hook looks at); the server side is tested below."""
    with store.write():
        Setting.create(key=outbox.SETTING_SCHOOL, value=school, updated_at=T0)


def _rows(record=None):
    q = Outbox.select().order_by(Outbox.id)
    if record:
        q = q.where(Outbox.record == record)
    return list(q)


def test_not_enrolled_writes_no_outbox_rows(ctx):
    inc = _incident(ctx)
    update_incident(ctx, inc.id, inc.version, {"title": "改了标题"})
    assert Outbox.select().count() == 0


def test_each_change_writes_one_row_per_incident_in_the_same_transaction(ctx):
    _enrol_locally(ctx.store)
    inc = _incident(ctx)
    rows = _rows(f"incident:{inc.code}")
    assert [r.version for r in rows] == [1]
    p = rows[0].payload
    assert p["code"] == inc.code and p["title"] == "学籍系统账号异常登录" and p["status"] == "open"
    assert p["grade"] == "IV" and p["is_drill"] is False and p["reports"] == []
    assert p["occurred_at"] == (T0 - timedelta(minutes=40)).isoformat()
    assert p["occurred_at"].endswith("+00:00") and p["closed_at"] is None
    first = [o for o in p["obligations"] if (o["regime"], o["stage"]) == ("school_plan", "first")][0]
    assert first["statutory"] is True and first["state"] in ("pending", "due_soon") and first["due_at"]
    oral = [o for o in p["obligations"] if (o["regime"], o["stage"]) == ("school_plan", "oral")][0]
    assert oral["statutory"] is False
    inc = update_incident(ctx, inc.id, inc.version, {"title": "异常登录（已断网）"})
    set_grade(ctx, inc.id, "III", "影响扩大")
    rows = _rows(f"incident:{inc.code}")
    assert [r.version for r in rows] == [1, 2, 3]
    assert rows[-1].payload["grade"] == "III" and rows[-1].payload["title"] == "异常登录（已断网）"
    # A report submitted: its incident's state, with the report and the obligation met.
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    before = Outbox.select().count()
    submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax",
                                            recipient="县教育局基教科王科长"))
    last = _rows(f"incident:{inc.code}")[-1]
    assert Outbox.select().count() == before + 1
    assert last.payload["reports"] == [{"regime": "school_plan", "stage": "first", "seq": 1, "revision": 1,
                                        "submitted_at": T0.isoformat(), "submitted_by": "tester",
                                        "channel": "fax", "recipient": "县教育局基教科王科长"}]
    first = [o for o in last.payload["obligations"] if o["stage"] == "first" and o["regime"] == "school_plan"][0]
    assert first["state"] == "met" and first["submitted_at"] == T0.isoformat()
    # Drafts are not sent.
    assert all(o.payload["reports"] == [] for o in _rows(f"incident:{inc.code}")[:-1])


def test_a_rolled_back_write_leaves_no_outbox_row(ctx):
    _enrol_locally(ctx.store)
    inc = _incident(ctx)
    n = Outbox.select().count()
    with pytest.raises(RuntimeError):
        with ctx.store.write():
            Incident.update(title="不会留下").where(Incident.id == inc.id).execute()
            raise RuntimeError("boom")
    assert Outbox.select().count() == n
    assert Incident.get_by_id(inc.id).title != "不会留下"
    # And the next write is not charged with the rolled-back one's incident.
    other = _incident(ctx, title="第二件")
    assert [r.record for r in _rows()[n:]] == [f"incident:{other.code}"]


def test_two_incidents_in_one_transaction_and_versions_survive_a_reopen(ctx, db_path):
    from models.store import open_store
    _enrol_locally(ctx.store)
    a, b = _incident(ctx, title="甲"), _incident(ctx, title="乙")
    with ctx.store.write():
        Incident.update(title="同一次改的").where(Incident.id.in_([a.id, b.id])).execute()
    assert sorted((r.record, r.version) for r in _rows()[-2:]) == [(f"incident:{a.code}", 2),
                                                                 (f"incident:{b.code}", 2)]
    Outbox.update(sent_at=T0).execute()           # sent rows stay: versions never repeat
    ctx.store.close()
    store = open_store(db_path)
    try:
        with store.write():
            Incident.update(title="重开后改的").where(Incident.id == a.id).execute()
        assert [r.version for r in _rows(f"incident:{a.code}")] == [1, 2, 3]
        # A change the county does not see (the location) makes no new version.
        with store.write():
            Incident.update(location="办公室").where(Incident.id == a.id).execute()
        assert [r.version for r in _rows(f"incident:{a.code}")] == [1, 2, 3]
    finally:
        store.close()


def test_write_overhead_with_and_without_enrolment(ctx, capsys):
    """The hook must not slow the officer's writes noticeably: a title edit, 30 times each way."""
    def timed(n=30):
        inc = _incident(ctx)
        start = time.perf_counter()
        for i in range(n):
            inc = update_incident(ctx, inc.id, inc.version, {"title": f"标题 {i}"})
        return (time.perf_counter() - start) / n * 1000
    timed(3)                       # warm caches (policy, imports)
    plain = timed()
    _enrol_locally(ctx.store)
    timed(3)
    enrolled = timed()
    with capsys.disabled():
        print(f"\nwrite (incident edit): {plain:.2f} ms not enrolled, {enrolled:.2f} ms enrolled "
              f"(+{enrolled - plain:.2f} ms)")
    assert enrolled < plain + 15, (plain, enrolled)


# --- against the real server ------------------------------------------------------------------

@pytest.fixture
def county(pg):
    county = make_county(pg, ("S001",))
    # The one school's one-time secret and role, as enrolment and the tests below use them.
    county["secret"], county["role"] = county["secrets"]["S001"], county["roles"]["S001"]
    return county


def test_enrol_changes_the_password_snapshots_and_syncs_with_receipts_back(ctx, county, memory_keyring):
    inc = _incident(ctx)                      # recorded before enrolment: the snapshot carries it
    assert Outbox.select().count() == 0
    with pytest.raises(Exception) as exc:
        link.enrol(ctx.store, county["url"], "S001", "wrong-secret", ctx=ctx)
    assert exc.value.key == "county.error.bad_secret"
    got = link.enrol(ctx.store, county["url"], "S001", county["secret"], ctx=ctx)
    assert got["school"] == "S001" and got["queued"] == 1 and got["credential"] == "keyring"
    assert Setting.get(Setting.key == "county.school").value == "S001"
    assert Setting.get(Setting.key == "county.url").value == county["url"]
    # The credential is nowhere in the database file.
    cred = link.load_credential(ctx.store)
    assert cred["school"] == "S001" and cred["password"] != county["secret"]
    raw = ctx.store.path.read_bytes() + (ctx.store.path.with_name("duty.db-wal").read_bytes()
                                          if ctx.store.path.with_name("duty.db-wal").exists() else b"")
    assert cred["password"].encode() not in raw
    # The one-time secret is spent: the server refuses it and has marked it used.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(county["pg"].url_for(county["role"], county["secret"], county["db"])).close()
    with psycopg.connect(county["admin"]) as conn:
        used, at = conn.execute("SELECT secret_used, enrolled_at FROM county.school WHERE code='S001'").fetchone()
    assert used is True and at is not None
    # A second database cannot take the same secret.
    from models.store import open_store
    other = open_store(ctx.store.path.with_name("other.db"))
    try:
        with pytest.raises(Exception) as exc:
            link.enrol(other, county["url"], "S001", county["secret"])
        assert exc.value.key == "county.error.bad_secret"
    finally:
        other.close()
    from models.store import open_store as reopen
    store = reopen(ctx.store.path)
    ctx.store = store
    counts = link.sync_once(store)
    assert counts["sent"] == 1 and counts["applied"] == 1 and counts["pending"] == 0
    state = link.read_state(store.path)
    assert state["last_error"] is None and state["last_ok"]
    # The bureau signs the first report; the receipt comes back, once.
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax", recipient="王科长"))
    assert link.sync_once(store)["applied"] == 1
    with psycopg.connect(county["bureau"]) as conn:
        server.add_receipt(conn, "S001", inc.code, "school_plan", "first", 1, "基教科王科长")
    version = store.data_version()
    got = link.sync_once(store)
    assert got["receipts"] == 1 and got["sent"] == 0
    rec = CountyReceipt.get()
    assert (rec.incident_code, rec.stage, rec.signed_by) == (inc.code, "first", "基教科王科长")
    # Nothing new: no write at all (data_version of another connection would not move).
    commits = store.local_commits
    assert link.sync_once(store)["receipts"] == 0 and store.local_commits == commits
    assert version is not None


def test_board_line_follows_the_link_state(ctx, county):
    from zoneinfo import ZoneInfo
    zone = ZoneInfo("Asia/Shanghai")
    assert link.line(ctx.store, zone) is None          # not enrolled: no line at all
    _incident(ctx)
    link.enrol(ctx.store, county["url"], "S001", county["secret"])
    text, _ = link.line(ctx.store, zone)
    assert text == "县级同步：尚未连上县里，待发 1 条"
    link.sync_once(ctx.store)
    text, _ = link.line(ctx.store, zone)
    assert text.startswith("县级同步 ") and text.endswith(" 已同步")
    link.write_state(ctx.store.path, last_error="connection refused",
                     last_attempt=(json.loads(link.state_path(ctx.store.path).read_text())["last_ok"]))
    _incident(ctx, title="又一件")
    assert link.line(ctx.store, zone) == ("县网不通，待发 1 条", "warning")


def test_board_line_says_stopped_not_network_down_when_the_county_refuses_the_credential(ctx, county):
    """A refused password is not the network: retrying cannot mend it, so the line must not say 县网不通."""
    import psycopg
    from zoneinfo import ZoneInfo
    from models.errors import DomainError
    zone = ZoneInfo("Asia/Shanghai")
    _incident(ctx)
    link.enrol(ctx.store, county["url"], "S001", county["secret"])
    with psycopg.connect(county["admin"], autocommit=True) as admin:   # the bureau reset the school's login
        admin.execute(f'ALTER ROLE "{county["role"]}" PASSWORD \'something-else\'')
    _incident(ctx, title="又一件")
    with pytest.raises(DomainError) as exc:
        link.sync_once(ctx.store)
    assert exc.value.key == "county.error.credential_refused"
    text, level = link.line(ctx.store, zone)
    assert level == "error" and text.startswith("县级同步停止，待发 2 条") and "不再接受" in text, text
    assert "县网不通" not in text


def test_cli_enrol_sync_status_with_clear_messages(county, tmp_path, monkeypatch):
    from tests.conftest import run_cli
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    db = str(tmp_path / "cli.db")
    base = ("--db", db, "--user", "tester")
    r = run_cli("county", "status", "--db", db)
    assert r.returncode == 1 and "Traceback" not in r.stderr            # no database yet: one line
    r = run_cli("county", "enrol", "--url", f"postgresql://127.0.0.1:{county['pg'].port + 1}/x",
                "--school", "S001", *base, input="whatever\n")
    assert r.returncode == 1 and "连不上县级服务器" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("county", "enrol", "--url", county["url"], "--school", "S001", *base, input="wrong\n")
    assert r.returncode == 1 and "密钥错了，或已用过" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("county", "enrol", "--url", county["url"], "--school", "S001", *base, input="")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    r = run_cli("county", "status", "--db", db, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["enrolled"] is False
    r = run_cli("county", "enrol", "--url", county["url"], "--school", "S001", *base,
                input=county["secret"] + "\n")
    assert r.returncode == 0, r.stderr
    assert "已登记为县里的学校 S001" in r.stdout and "私有文件" in r.stdout
    assert county["secret"] not in r.stdout + r.stderr
    r = run_cli("county", "status", "--db", db, "--json")
    got = json.loads(r.stdout)
    assert got["enrolled"] is True and got["school"] == "S001" and got["url"] == county["url"]
    r = run_cli("county", "sync", "--once", "--db", db, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["pending"] == 0
    r = run_cli("county", "status", "--db", db)
    assert r.returncode == 0 and "已同步" in r.stdout
    # The secret is spent: a second database is told so, in one line.
    r = run_cli("county", "enrol", "--url", county["url"], "--school", "S001", "--db", str(tmp_path / "b.db"),
                "--user", "tester", input=county["secret"] + "\n")
    assert r.returncode == 1 and "已用过" in r.stderr and "Traceback" not in r.stderr
    # Server down: sync --once fails in one line; status says so.
    county["pg"].stop()
    try:
        r = run_cli("county", "sync", "--once", "--db", db)
        assert r.returncode == 1 and "连不上县级服务器" in r.stderr and "Traceback" not in r.stderr
        r = run_cli("county", "status", "--db", db)
        assert "县网不通" in r.stdout
    finally:
        county["pg"].start()


# --- the app: the background sender and the board's line --------------------------------------

def _banners(app):
    return [str(s.render()) for s in app.screen.query("#board-banners Static")]


def test_board_shows_no_county_line_and_no_sender_when_not_enrolled(db_path, clock):
    import asyncio

    from tests.conftest import make_app

    async def go():
        app = make_app(db_path, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            assert app._county_sender is None
            assert not any("县" in b for b in _banners(app))
    asyncio.run(go())


def test_app_sender_sends_and_the_board_line_follows_the_link(db_path, clock, county, monkeypatch):
    """Server up: the app's own thread sends the new incident; server down: the board says so
    while the officer keeps working; back up: it catches up. Exit stops the thread."""
    import asyncio

    from models.store import open_store
    from tests.conftest import make_app, make_ctx
    from tests.ui_helpers import wait_for
    monkeypatch.setattr(link, "IDLE_S", 0.1)
    monkeypatch.setattr(link, "BACKOFF_MAX_S", 0.5)
    store = open_store(db_path)
    link.enrol(store, county["url"], "S001", county["secret"])
    store.close()

    async def go():
        app = make_app(db_path, clock)
        async with app.run_test(size=(80, 24)) as pilot:
            ctx = make_ctx(app.store, clock)
            _incident(ctx)
            assert await wait_for(pilot, lambda: outbox.pending(app.store) == 0, 10)
            assert await wait_for(pilot, lambda: any(b.endswith("已同步") for b in _banners(app)), 5), _banners(app)
            county["pg"].stop()
            try:
                _incident(ctx, title="断网时记的")
                assert await wait_for(pilot, lambda: "县网不通，待发 1 条" in _banners(app), 10), _banners(app)
            finally:
                county["pg"].start()
            assert await wait_for(pilot, lambda: outbox.pending(app.store) == 0, 15)
            assert await wait_for(pilot, lambda: any(b.endswith("已同步") for b in _banners(app)), 5), _banners(app)
            thread = app._county_sender
            assert thread.is_alive()
        thread.join(3)
        assert not thread.is_alive()
    asyncio.run(go())
    with psycopg.connect(county["admin"]) as conn:
        titles = {r[0] for r in conn.execute("SELECT title FROM county.incident").fetchall()}
    assert titles == {"学籍系统账号异常登录", "断网时记的"}


def test_sync_drain_stops_with_a_message_when_the_credential_is_gone(county, tmp_path, monkeypatch):
    """Waiting does not bring back a deleted password file: --drain says so and exits 1."""
    from models.store import open_store
    from tests.conftest import run_cli
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")
    store = open_store(tmp_path / "duty.db")
    link.enrol(store, county["url"], "S001", county["secret"])
    store.close()
    link.credential_path(tmp_path / "duty.db").unlink()
    r = run_cli("county", "sync", "--drain", "--db", str(tmp_path / "duty.db"), timeout=30)
    assert r.returncode == 1 and "找不到县级服务器的密码" in r.stderr and "Traceback" not in r.stderr


def test_enrol_finishes_after_a_crash_between_the_server_and_the_database(ctx, county, monkeypatch):
    """The server took the secret (password changed, secret marked used) but the local write
    failed: enrolling again with the same secret finishes with the credential kept then."""
    _incident(ctx)
    real = outbox.queue_all

    def crash(store):
        raise RuntimeError("power cut")
    monkeypatch.setattr(outbox, "queue_all", crash)
    with pytest.raises(RuntimeError):
        link.enrol(ctx.store, county["url"], "S001", county["secret"], ctx=ctx)
    assert link.settings_of(ctx.store) == (None, None) and Outbox.select().count() == 0
    monkeypatch.setattr(outbox, "queue_all", real)
    got = link.enrol(ctx.store, county["url"], "S001", county["secret"], ctx=ctx)
    assert got["school"] == "S001" and got["queued"] == 1
    assert link.sync_once(ctx.store)["applied"] == 1
