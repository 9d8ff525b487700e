"""The backup screen at 80×24 by keys: back up (plain, encrypted), verify, restore with the CLI's
safety; a viewer cannot open it and an officer cannot restore."""
from models.tables import Incident
from tests.conftest import make_app, make_ctx
from tests.test_stats import seed_year
from tests.ui_helpers import fill_form, screen_text


async def _fill(pilot, app, **values):
    """The form's fields in their order, typed by keys (the names say which field is which)."""
    await fill_form(pilot, *values.values())


async def test_backup_verify_and_restore_as_admin(db_path, clock):
    app = make_app(db_path, clock, role="admin", username="tester")
    seed_year(make_ctx(app.store, clock))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "b")
        await pilot.pause()
        assert type(app.screen).__name__ == "BackupScreen"
        assert "还没有自动备份" in screen_text(app)
        footer = screen_text(app).splitlines()[-1]
        assert "b 立即备份" in footer and "r 恢复" in footer and len(footer) <= 80
        await pilot.press("b")
        await pilot.pause()
        await _fill(pilot, app, passphrase="", passphrase2="")
        assert "已备份（明文" in screen_text(app)
        await pilot.press("b")
        await pilot.pause()
        await _fill(pilot, app, passphrase="Haifeng-backup-1", passphrase2="Haifeng-backup-2")
        assert "不一致" in screen_text(app)                    # the form stays, nothing written
        await _fill(pilot, app, passphrase="Haifeng-backup-1", passphrase2="Haifeng-backup-1")
        assert "已加密备份" in screen_text(app)
        screen = app.screen
        assert len(screen._paths) == 2 and screen._paths[0].suffix == ".xjbak", screen._paths
        # The newest (encrypted) first: verify it with a wrong passphrase, then the right one.
        await pilot.press("up", "v")
        await pilot.pause()
        await _fill(pilot, app, passphrase="wrong-passphrase")
        assert "未通过" in screen_text(app)
        await pilot.press("v")
        await pilot.pause()
        await _fill(pilot, app, passphrase="Haifeng-backup-1")
        assert "验证通过" in screen_text(app)
        # Change the record, then restore the encrypted backup: the change is gone.
        before = Incident.select().count()
        Incident.delete().where(Incident.title == "事件B：首报迟了").execute()
        await pilot.press("r")
        await pilot.pause()
        await _fill(pilot, app, passphrase="Haifeng-backup-1")
        await _fill(pilot, app, confirm="好")
        assert "恢复" in screen_text(app) and type(app.screen).__name__ != "BackupScreen"
        # Another session (a board on another terminal) has the database open: refused, unchanged.
        import sqlite3
        other = sqlite3.connect(str(db_path))
        other.execute("SELECT count(*) FROM incident").fetchone()
        await _fill(pilot, app, confirm="恢复")
        assert "正被另一会话打开" in screen_text(app) and Incident.select().count() == before - 1
        other.close()
        await _fill(pilot, app, confirm="恢复")
        assert type(app.screen).__name__ == "BackupScreen", screen_text(app)
        status = str(app.screen.query_one("#backup-status").render())
        assert "已从" in status and "pre-restore" in status
        assert Incident.select().count() == before
        from models.tables import AuditEvent
        assert AuditEvent.select().where(AuditEvent.action == "backup.restore").count() == 1


async def test_roles_viewer_refused_officer_cannot_restore(db_path, clock):
    app = make_app(db_path, clock, role="viewer", username="viewer")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await pilot.press("g", "b")
        await pilot.pause()
        assert type(app.screen).__name__ == "GotoScreen"       # marked （需值班员权限）: refused in the menu
        assert any("值班员" in n.message for n in app._notifications)
    app = make_app(db_path, clock, role="officer", username="li")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("g", "b")
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        await _fill(pilot, app, passphrase="", passphrase2="")
        await pilot.press("r")
        await pilot.pause()
        assert type(app.screen).__name__ == "BackupScreen" and "管理员" in screen_text(app)
