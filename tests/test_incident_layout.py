"""The incident screen's stage table uses the width it has (issue 15 item 6): nothing cut mid-word
at 80×24, columns that grow from 100 columns up, notices that never cover the table, dated times."""
from datetime import timedelta

from rich.cells import cell_len
from textual.widgets import DataTable

from models.i18n import set_language
from models.incidents import IncidentInput, create_incident
from models.tables import Report
from screens.incident import IncidentScreen
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text


def seed(app, clock):
    """A ransomware incident, personal information unsure: conditional CAC stages, PIPL notices."""
    ctx = make_ctx(app.store, clock)
    return create_incident(ctx, IncidentInput(
        title="勒索病毒加密学籍服务器", category="malware", subcategory="ransomware",
        occurred_at=T0 - timedelta(minutes=50), discovered_at=T0 - timedelta(minutes=20),
        location="教务处机房", asset="学籍服务器", personal_info=None, reported_by="李老师",
        description="屏幕出现勒索信息"))


async def open_incident(app, pilot, inc):
    await pilot.pause()
    app.open_screen("incident", inc.id)
    await pilot.pause(0.2)
    assert isinstance(app.screen, IncidentScreen)
    return app.screen


def cells(screen, col):
    table = screen.query_one("#stages", DataTable)
    return [(key.value, str(table.get_cell(key, col))) for key in table.rows]


def content_width(table: DataTable, col: str) -> int:
    column = table.columns[col]
    return column.get_render_width(table) - 2 * table.cell_padding


async def test_a_report_sent_on_another_day_shows_its_date(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = seed(app, clock)
        sent = clock.now() - timedelta(minutes=5)
        Report.create(incident=inc.id, regime="school_plan", stage="oral", fields={}, status="submitted",
                      submitted_at=sent, created_at=sent, updated_at=sent)
        screen = await open_incident(app, pilot, inc)
        assert dict(cells(screen, "report"))["school_plan|oral|1"] == "已报 09:55"
        clock.advance(days=1)
        screen.reload()
        await pilot.pause()
        assert dict(cells(screen, "report"))["school_plan|oral|1"] == "已报 11-25 09:55"
        assert "已报 11-25 09:55" in screen_text(app)


def no_cell_cut(screen) -> list[str]:
    """Every stage and state cell whose text is wider than its column (so the terminal shows it cut)."""
    table = screen.query_one("#stages", DataTable)
    cut = []
    for col in ("stage", "state", "due", "report"):
        room = content_width(table, col)
        cut += [f"{col}:{text}" for _key, text in cells(screen, col) if cell_len(text) > room]
    return cut


async def check_80(db_path, clock, lang):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        set_language(lang)                   # after make_app: its Env applies the CLI's --lang zh
        inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        assert no_cell_cut(screen) == []
        # English facts take a line more: at 80×24 the overview scrolls by one to show every row.
        screen.query_one("#overview-scroll").scroll_end(animate=False)
        await pilot.pause(0.1)
        shown = screen_text(app)
        for _key, text in cells(screen, "stage") + cells(screen, "state"):
            assert text in shown                      # the whole cell is on the screen, every row
        assert "…" not in "\n".join(shown.splitlines()[3:-1])
        # The highlighted row's whole name and reason are on the line under the table.
        table = screen.query_one("#stages", DataTable)
        keys = [k.value for k in table.rows]
        table.move_cursor(row=keys.index("cac_2025|initial|1"))
        await pilot.pause()
        from models.i18n import t
        detail = screen_text(app)
        stage_full = screen._cells["cac_2025|initial|1"]["stage"][0]
        assert stage_full in detail and t("state.conditional") in detail
        return app, screen, detail
    return None


async def test_no_stage_or_state_cut_at_80_columns_in_chinese(db_path, clock):
    _app, _screen, detail = await check_80(db_path, clock, "zh")
    assert "网信首报·CAC  待定级 · 若定为较大及以上则适用" in detail


async def test_no_stage_or_state_cut_at_80_columns_in_english(db_path, clock):
    try:
        _app, _screen, detail = await check_80(db_path, clock, "en")
        assert "CAC initial report·CAC" in detail and "applies if graded" in detail
    finally:
        set_language("zh")


async def test_a_missed_report_shows_why_in_full_under_the_table(db_path, clock):
    """逾期未报 with a leader's long reason: the cell keeps the word, the line under it the reason."""
    from models.incidents import close_incident, get_incident, mark_handled, set_grade
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        inc = seed(app, clock)
        ctx = make_ctx(app.store, clock)
        set_grade(ctx, inc.id, "IV", "领导定为一般")
        clock.advance(hours=30)               # the oral and first reports are long overdue
        why = "局领导电话通知暂缓书面报告，待网信部门统一口径后再报"
        mark_handled(ctx, inc.id, clock.now(), expected_version=get_incident(inc.id).version)
        close_incident(ctx, inc.id, {"*": why}, expected_version=get_incident(inc.id).version)
        screen = await open_incident(app, pilot, inc)
        assert no_cell_cut(screen) == []
        state = dict(cells(screen, "state"))["school_plan|first|1"]
        assert state == "逾期未报"
        table = screen.query_one("#stages", DataTable)
        table.move_cursor(row=[k.value for k in table.rows].index("school_plan|first|1"))
        await pilot.pause()
        assert why in screen_text(app).replace("\n ", "")


async def test_stage_columns_grow_with_the_width(db_path, clock):
    from models.incidents import get_incident
    widths, code = {}, None
    for size in ((80, 24), (100, 30), (120, 40)):
        app = make_app(db_path, clock)
        async with app.run_test(size=size) as pilot:
            inc = seed(app, clock) if code is None else get_incident(code)
            code = inc.code
            screen = await open_incident(app, pilot, inc)
            table = screen.query_one("#stages", DataTable)
            widths[size] = {c: content_width(table, c) for c in ("stage", "state")}
            total = sum(col.get_render_width(table) for col in table.columns.values())
            assert total >= size[0] - 4                      # the table uses the width it has
            assert no_cell_cut(screen) == []
            full = {k: r["stage"][0] for k, r in screen._cells.items()}
            if size[0] >= 100:                               # the whole names from 100 columns up
                assert set(full.values()) <= set(t for _k, t in cells(screen, "stage"))
                assert "待定级 · 若定为较大及以上则适用" in screen_text(app)
    assert widths[(80, 24)]["state"] < widths[(100, 30)]["state"] < widths[(120, 40)]["state"]
    assert widths[(80, 24)]["stage"] < widths[(100, 30)]["stage"]


async def _notice_clear_of(app, pilot, table) -> None:
    from textual.widgets._toast import Toast
    await pilot.pause(0.5)          # the board's alarm notice comes first; the newest is on top
    app.notify("已添加证据 #3（sha256 0123456789abcdef）：保管说明已记录，原件仍在服务器上")
    await pilot.pause(0.3)
    toasts = list(app.screen.query(Toast))
    assert toasts and all(toast.region.height > 0 for toast in toasts)
    for toast in toasts:
        assert not toast.region.overlaps(table.region), (toast.region, table.region)
    assert "已添加证据 #3" in screen_text(app)


async def test_a_notice_never_covers_the_stage_table(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        inc = seed(app, clock)
        screen = await open_incident(app, pilot, inc)
        await _notice_clear_of(app, pilot, screen.query_one("#stages", DataTable))


async def test_a_notice_never_covers_the_board_table(db_path, clock):
    app = make_app(db_path, clock)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        ctx = make_ctx(app.store, clock)
        for n in range(20):      # a full board: the table reaches down to the rows above the footer
            create_incident(ctx, IncidentInput(title=f"学籍异常{n}", category="network_attack",
                                               occurred_at=T0 - timedelta(minutes=n), discovered_at=T0,
                                               personal_info=False))
        await pilot.pause(0.5)
        await _notice_clear_of(app, pilot, app.screen.query_one("#board-table"))
