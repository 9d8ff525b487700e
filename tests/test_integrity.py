"""``check``: integrity_check, audit chain, evidence hashes, schema version, backup age; the start-up form."""

from models.backup import create_backup
from models.integrity import run_checks, startup_banners
from models.tables import AuditEvent, Evidence
from models.i18n import t
from tests.conftest import env_for, make_app, run_cli
from tests.safety_data import populate
from tests.ui_helpers import wait_for
from tui.commands import _integrity


def by_name(findings):
    return {f.name: f for f in findings}


def test_all_good_after_a_backup(ctx, tmp_path):
    populate(ctx)
    create_backup(ctx, tmp_path / "b")
    f = by_name(run_checks(ctx))
    assert all(x.ok for x in f.values()), [x.message for x in f.values() if not x.ok]
    assert set(f) == {"sqlite", "schema", "foreign_keys", "audit", "evidence", "history", "backup"}
    assert "3" in f["evidence"].message


def test_each_problem_is_found(ctx, tmp_path):
    populate(ctx)
    f = by_name(run_checks(ctx))
    assert not f["backup"].ok and "从未成功备份" in f["backup"].message
    create_backup(ctx, tmp_path / "b")
    ctx.clock.advance(days=3)
    assert not by_name(run_checks(ctx))["backup"].ok
    # Somebody edits the trail by hand, and an evidence file changes on disk.
    ev = AuditEvent.get_by_id(2)
    AuditEvent.update(actor="mallory").where(AuditEvent.id == ev.id).execute()
    one = Evidence.select().first()
    path = ctx.store.evidence_dir / one.stored_path
    data = bytearray(path.read_bytes())
    data[10] ^= 1
    path.write_bytes(bytes(data))
    (ctx.store.evidence_dir / Evidence.get_by_id(2).stored_path).unlink()
    f = by_name(run_checks(ctx))
    assert not f["audit"].ok and "2" in f["audit"].message
    assert not f["evidence"].ok and "SHA-256" in f["evidence"].message and "缺失" in f["evidence"].message
    quick = by_name(run_checks(ctx, quick=True))
    assert not quick["evidence"].ok and "缺失" in quick["evidence"].message
    assert f["sqlite"].ok and f["schema"].ok


def test_check_command_exit_codes(ctx, db_path, tmp_path, capsys):
    populate(ctx)
    ctx.store.close()
    env = env_for(db_path)
    env.clock = ctx.clock
    assert _integrity.run(env) == 1                      # never backed up
    out = capsys.readouterr().out
    assert "✗" in out and "从未成功备份" in out and "审计链完整" in out
    officer = env.context()
    officer.actor = ctx.actor   # a backup by hand is an officer's act (issue 13)
    create_backup(officer, tmp_path / "b")
    assert _integrity.run(env) == 0
    assert "全部检查通过" in capsys.readouterr().out
    env.close()


def test_a_damaged_database_file_is_reported_not_raised(ctx, db_path):
    populate(ctx, 30)
    ctx.store.close()
    data = bytearray(db_path.read_bytes())
    size = len(data)
    for pos in range(4096 * 3, size - 4096, 4096):   # wreck the middle of several pages
        data[pos + 100:pos + 300] = b"\x00" * 200
    db_path.write_bytes(bytes(data))
    from models.store import open_store
    from models.errors import StoreError
    try:
        s = open_store(db_path)
    except StoreError as exc:                            # damaged beyond opening: a message
        assert exc.key in ("error.db_corrupt", "error.db_not_ours")
        return
    from tests.conftest import make_ctx
    f = by_name(run_checks(make_ctx(s, ctx.clock)))
    assert not all(x.ok for x in f.values())
    s.close()


async def test_start_up_check_problem_becomes_a_banner_not_a_crash(ctx, db_path, clock):
    populate(ctx)
    (ctx.store.evidence_dir / Evidence.select().first().stored_path).unlink()
    ctx.store.close()
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        # The check starts a moment after the first paint (tui/safety.py DELAY_S).
        assert await wait_for(pilot, lambda: app.safety_done, timeout=10)
        await pilot.pause()
        banners = startup_banners(app.ctx)
        assert banners and "启动自检" in banners[0].text and "缺失" in banners[0].text
        from models.banners import collect
        assert any(b.key == "integrity.evidence" for b in collect(app.ctx, clock.now()))
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_daily_backup_runs_at_app_start(ctx, db_path, clock, monkeypatch, tmp_path):
    monkeypatch.setenv("XUEJI_DUTY_AUTO_BACKUP", "1")
    populate(ctx)
    ctx.store.close()
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await wait_for(pilot, lambda: app.safety_done, timeout=10)
        await pilot.pause()
        from models.banners import collect
        texts = [b.text for b in collect(app.ctx, clock.now())]
        assert any("今日备份已完成" in t for t in texts), texts
        await pilot.press("ctrl+q")
    backups = list((db_path.parent / "duty-backups").glob("*-auto.zip"))
    assert len(backups) == 1


def test_every_check_has_a_name_in_both_languages_and_the_cli_lines_up(ctx, db_path):
    """The names are looked up by each finding's name (a key no static scan sees): the history
    check once printed as integrity.name.history. The columns line up in terminal cells."""
    from rich.cells import cell_len
    from models.i18n import set_language
    names = [f.name for f in run_checks(ctx)]
    assert "history" in names
    try:
        for lang in ("zh", "en"):
            set_language(lang)
            for name in names:
                assert t(f"integrity.name.{name}") != f"integrity.name.{name}", (lang, name)
    finally:
        set_language("zh")
    out = run_cli("--db", str(db_path), "check")
    lines = [ln for ln in out.stdout.splitlines() if ln[:1] in ("✓", "✗", "!")]
    assert len(lines) == len(names)
    starts = set()
    for ln in lines:
        message = next(f for f in run_checks(ctx) if ln.endswith(f.message)).message
        starts.add(cell_len(ln[: len(ln) - len(message)]))
    assert len(starts) == 1, lines
