"""The drill summary screen: shows the summary, ends the drill with findings, saves the docx."""
import zipfile
from datetime import timedelta

from textual.widgets import Input

from models.incidents import IncidentInput, create_incident, get_incident
from tests.conftest import T0, make_app, make_ctx


async def test_end_a_drill_and_save_its_summary(db_path, clock, tmp_path):
    app = make_app(db_path, clock)
    ctx = make_ctx(app.store, clock)
    drill = create_incident(ctx, IncidentInput(title="学籍数据泄露", category="data_security",
                                               occurred_at=T0 - timedelta(minutes=30),
                                               discovered_at=T0 - timedelta(minutes=20), is_drill=True))
    real = create_incident(ctx, IncidentInput(title="真实", category="malware", occurred_at=T0, discovered_at=T0))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.open_screen("drill", drill.id)
        await pilot.pause()
        screen = app.screen
        assert "演练" in str(screen.query_one("#drill-title").render())
        assert [r.name for r in screen.summary.stages][0] == "口头报告"
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one(Input).value = "通讯录过期"
        await pilot.press("enter")
        await pilot.pause()
        assert get_incident(drill.id).status == "closed"
        assert any("通讯录过期" in n[2] for n in screen.summary.notes)
        out = tmp_path / "s.docx"
        await pilot.press("s")
        await pilot.pause()
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        await pilot.pause()
        with zipfile.ZipFile(out) as z:
            assert "演练" in z.read("word/document.xml").decode("utf-8")
        await pilot.press("escape")
        await pilot.pause()
        assert app.open_screen("drill", real.id)
        await pilot.pause()
        assert app.screen.summary is None     # a real incident has no drill summary: a message, no crash
