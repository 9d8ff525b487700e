"""The incident screen's stage table marks every stage the county signed for (✓签收) in its report
cell, the final report's as well as the first report's, as the line under the table and the report
screen name who signed and when; at 80×24 nothing is cut, in Chinese and English."""
from datetime import timedelta

import pytest
from textual.widgets import DataTable, Static

from models.i18n import set_language
from models.incidents import mark_handled
from models.reports import Submission, open_report, save_draft, submit
from tests.conftest import T0, make_app, make_ctx
from tests.test_county_receipt_school import _receive, _submitted_first
from tests.test_documents_render import STAGES
from tests.test_incident_layout import cells, no_cell_cut
from tests.ui_helpers import screen_text, wait_for

FIRST, FINAL = "school_plan|first|1", "school_plan|final|1"


def first_and_final(app, clock):
    """The first report and, after the handling, the final report: both submitted."""
    ctx = make_ctx(app.store, clock)
    first = _submitted_first(ctx)
    clock.advance(minutes=30)
    inc = mark_handled(ctx, first.incident_id, at=clock.now())
    final = open_report(ctx, inc.id, "school_plan", "final")
    final = save_draft(ctx, final.id, final.version, STAGES[("school_plan", "final")])
    submit(ctx, final.id, final.version, Submission(channel="fax", recipient="县教育局", confirmed_by="王科长"))
    return inc


# In Chinese the whole mark fits at 80 columns; English takes its short form there (✓), the whole
# one from 100 columns up.
@pytest.mark.parametrize("lang, mark", [("zh", "✓签收"), ("en", "✓")])
async def test_every_signed_stage_is_marked_in_the_table(db_path, clock, lang, mark):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        set_language(lang)
        inc = first_and_final(app, clock)
        _receive(app.store, inc.code, stage="first")
        clock.advance(days=1)                                  # both sent on another day: the widest cells
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.3)
        screen = app.screen
        report = dict(cells(screen, "report"))
        assert report[FIRST].endswith(mark) and not report[FINAL].endswith(mark), report
        _receive(app.store, inc.code, stage="final", at=T0 + timedelta(hours=2))
        assert await wait_for(pilot, lambda: dict(cells(screen, "report"))[FINAL].endswith(mark))
        assert no_cell_cut(screen) == []
        screen.query_one("#overview-scroll").scroll_end(animate=False)   # English facts take a line more
        await pilot.pause(0.1)
        shown = screen_text(app)
        for key in (FIRST, FINAL):
            assert dict(cells(screen, "report"))[key] in shown, shown  # whole, on the screen at 80×24
        # The line under the table names who signed and when, for the final report too.
        table = screen.query_one("#stages", DataTable)
        table.move_cursor(row=[k.value for k in table.rows].index(FINAL))
        await pilot.pause()
        hint = str(screen.query_one("#stages-hint", Static).render())
        assert "jijiaoke" in hint and "11-25 12:00" in hint, hint
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.2)
        full = "✓签收" if lang == "zh" else "✓signed"
        assert all(dict(cells(screen, "report"))[k].endswith(full) for k in (FIRST, FINAL))
        assert no_cell_cut(screen) == []


async def test_a_correction_sent_after_the_signature_is_not_marked(db_path, clock):
    from models.reports import start_correction
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = first_and_final(app, clock)
        _receive(app.store, inc.code, stage="final", at=clock.now() + timedelta(minutes=5))
        clock.advance(minutes=10)
        ctx = make_ctx(app.store, clock)
        final = open_report(ctx, inc.id, "school_plan", "final")
        fix = start_correction(ctx, final.id)
        submit(ctx, fix.id, fix.version, Submission(channel="fax", recipient="县教育局", confirmed_by="王科长",
                                                    correction_reason="更正损失情况"))
        await pilot.pause()
        app.open_screen("incident", inc.id)
        await pilot.pause(0.3)
        assert not dict(cells(app.screen, "report"))[FINAL].endswith("✓签收")
