"""The demo: a fictional school with an overdue incident, one due within the hour, one awaiting its
final report, an active warning and checks due; in a temporary folder that is deleted afterwards."""
import argparse
from datetime import timedelta

from models.banners import collect
from models.checks import list_checks
from models.demo import DEMO_SCHOOL, seed_demo
from models.incidents import incident_obligations, list_incidents
from models.tables import Contact
from models.warnings import active_warnings
from tests.conftest import make_ctx
from tests.ui_helpers import wait_for


def test_seed_demo_covers_every_screen(store, clock):
    ctx = make_ctx(store, clock)
    demo = seed_demo(ctx)
    now = clock.now()
    assert ctx.settings.school_name == DEMO_SCHOOL and "DEMO" in DEMO_SCHOOL
    states = {inc.id: {(o.stage, o.state) for o in incident_obligations(ctx, inc)} for inc in list_incidents()}
    assert ("first", "overdue") in states[demo.overdue.id]
    first_soon = [o for o in incident_obligations(ctx, demo.due_soon) if o.stage == "first" and o.regime == "school_plan"]
    assert first_soon[0].state == "due_soon" and 0 < first_soon[0].seconds_left <= 3600
    final = [o for o in incident_obligations(ctx, demo.awaiting_final) if o.stage == "final" and o.regime == "school_plan"]
    assert demo.awaiting_final.status == "handled" and final[0].state == "pending"
    assert final[0].due_at == demo.awaiting_final.handling_closed_at + timedelta(days=30)
    assert len(active_warnings(now)) == 1
    due = list_checks(ctx, now, due_only=True)
    assert {v.state for v in due} == {"overdue", "due_today"}
    assert Contact.select().where(Contact.name.contains("演示")).count() >= 5
    levels = {b.key.split("-")[0]: b.level for b in collect(ctx, now)}
    assert levels["warning"] == "orange" and levels["checks"] == "warning" and "accounts" in levels


def test_demo_database_is_temporary_and_not_the_users(tmp_path, monkeypatch):
    from tui.commands import demo as demo_cmd
    from tui.env import Env
    real = tmp_path / "real.db"
    monkeypatch.setenv("XUEJI_DUTY_DB", str(real))
    args = argparse.Namespace(db=str(real), lang="zh", user=None, no_mouse=True, command="demo", keep=False)
    env = Env.from_args(args)
    folder = demo_cmd.prepare(env)
    try:
        assert env.db_path.parent == folder and folder != real.parent
        assert env.db_path.exists() and not real.exists()
        assert "DEMO" in env.settings.school_name
    finally:
        env.close()
        import shutil
        shutil.rmtree(folder)


async def test_demo_app_shows_demo_in_the_header(tmp_path):
    import shutil
    from tui.commands import demo as demo_cmd
    from tui.app import DutyApp
    from tui.env import Env
    args = argparse.Namespace(db=None, lang="zh", user=None, no_mouse=True, command="demo", keep=False)
    env = Env.from_args(args)
    folder = demo_cmd.prepare(env)
    try:
        app = DutyApp(env, actor=demo_cmd.DEMO_ACTOR)
        app.title = "DEMO · 学籍应急值守台"
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            header = str(app.screen.query_one("#board-school").render())
            assert "DEMO" in header
            # Three incidents, and (issue 12) the ransomware one's CAC report under it: grade undecided,
            # its would-be 4-hour deadline from discovery 3 h 30 ago is in its last hour.
            assert app.screen.query_one("#board-table").row_count == 4
            def banners():
                return [str(s.render()) for s in app.screen.query("#board-banners Static")]
            # Banners follow the rows from a worker, a moment after the first paint.
            assert await wait_for(pilot, lambda: any("橙色预警" in b for b in banners())
                               and any("预防检查" in b for b in banners())), banners()
    finally:
        env.close()
        shutil.rmtree(folder)
