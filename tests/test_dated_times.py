"""Times not today show their date, and English labels end in ": " (issue 15 item 6)."""
from datetime import timedelta

import pytest

from models import accounts
from models.i18n import set_language
from models.incidents import IncidentInput, create_incident
from models.tables import User
from tests.conftest import T0, make_app, make_ctx
from tests.ui_helpers import screen_text


@pytest.mark.parametrize("later, shown", [(timedelta(minutes=10), "锁定至 10:10"),
                                          (timedelta(hours=15), "锁定至 11-26 01:00")])
async def test_an_account_locked_until_tomorrow_shows_the_date(db_path, clock, later, shown):
    app = make_app(db_path, clock, role="admin", username="tester")
    ctx = make_ctx(app.store, clock, username="tester")
    accounts.bootstrap_admin(ctx, "tester", "王老师", "Admin-pass-2026")
    User.update(locked_until=clock.now() + later).where(User.username == "tester").execute()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.open_screen("accounts")
        await pilot.pause(0.3)
        assert shown in screen_text(app)


async def test_english_incident_facts_use_an_ascii_colon(db_path, clock):
    app = make_app(db_path, clock)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            set_language("en")                # after make_app: its Env applies the CLI's --lang zh
            inc = create_incident(make_ctx(app.store, clock), IncidentInput(
                title="勒索病毒加密学籍服务器", category="malware", subcategory="ransomware",
                occurred_at=T0 - timedelta(minutes=50), discovered_at=T0 - timedelta(minutes=20),
                location="教务处机房", asset="学籍服务器", personal_info=False, reported_by="李老师",
                description="屏幕出现勒索信息"))
            await pilot.pause()
            app.open_screen("incident", inc.id)
            await pilot.pause(0.3)
            text = screen_text(app)
            assert "Location: 教务处机房" in text and "Reported by: 李老师" in text and "：" not in text
            await pilot.press("2")              # the timeline: the created incident's fields
            await pilot.pause(0.2)
            timeline = screen_text(app)
            assert "Title: 勒索病毒加密学籍服务器" in timeline and "：" not in timeline
    finally:
        set_language("zh")
