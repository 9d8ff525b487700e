"""Type-ahead in a real pseudo-terminal (issue 15 item 3): bursts of ``text⇥text⇥time⏎`` written in
one go, as a laggy SSH link delivers them, land in the fields they were typed for.

The real program (``python -m tui``) on an 80×24 pty, first run: the setup form, then the board's
new-incident form, then a report; the stored values are read back from the database afterwards."""
import os
import sys
import time

import pytest

from models.i18n import t

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal and /proc")

PASSWORD = "Duty-pass-2026"


def _send(app, text: str) -> None:
    os.write(app.master, text.encode("utf-8"))       # one write: the app reads it as one burst


def step(app, keys: str, marker: str, timeout: float = 30.0) -> None:
    """Send a burst, then wait for what the next screen shows."""
    mark = app.size()
    _send(app, keys)
    assert app.wait_for(marker, timeout=timeout, since=mark) is not None, marker


def _report_saved(db, text: str, timeout: float) -> bool:
    """Poll the database (read-only, beside the running app) until a report's fields hold ``text``."""
    import sqlite3
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0)
            try:
                if any(text in (row[0] or "") for row in con.execute("SELECT fields FROM report")):
                    return True
            finally:
                con.close()
        except sqlite3.Error:
            pass
        time.sleep(0.1)
    return False


def test_bursts_land_in_their_fields_of_setup_new_incident_and_report(tmp_path):
    from bench.ptyrun import PtyApp
    db = tmp_path / "burst.db"
    app = PtyApp(command=[sys.executable, "-m", "tui", "--db", str(db), "--no-mouse"],
                 env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                      "XUEJI_DUTY_CONFIG": str(tmp_path / "none.toml"), "XUEJI_DUTY_AUTO_BACKUP": "0"})
    try:
        assert app.wait_for(t("setup.school"), timeout=60) is not None   # typed at once: no pause
        # Setup: school, bureau, timezone (kept), user, name, password, again, Enter saves.
        step(app, f"海峰中学\t县教育局\t\tduty\t张老师\t{PASSWORD}\t{PASSWORD}\r", "新建")
        step(app, "n", "登记（先确认）")                # the board's new-incident form
        _send(app, "勒索病毒加密\t-40m\t-10m\r教务处\t学籍服务器\t")     # text⇥time⇥time⏎text⇥text⇥
        step(app, "恶意程序", "有害程序事件")           # the category picker lists its match
        _send(app, "\r\t\t")                          # pick, past subcategory and grade
        step(app, "u\t李老师\t凌晨发现\x13", "确认登记")   # 不确定, reporter, description, ctrl+s
        step(app, "\r", "概况与报告")                  # the one-line summary confirmed
        # The written first report (second stage) opened by Enter, and in the same burst, from
        # its first field (the time of occurrence, replaced): time⇥(discovery kept)⇥place⇥
        # source⏎category. The report screen focuses its first field only after its first
        # repaint: the keys wait for that (tui.type_ahead.KeysInOrder).
        _send(app, "\x1b[B\r2026年12月1日17时20分\t\t机房A\t值班电话\r网络攻击")
        assert _report_saved(db, "网络攻击", timeout=30.0)   # the report saves itself (its autosave)
        app.quit()
    finally:
        if app.proc.poll() is None:
            app.proc.kill()
    from models.store import open_store
    from models.tables import Incident, Report, User
    store = open_store(db)
    try:
        user = User.get(User.username == "duty")
        assert user.display_name == "张老师"
        inc = Incident.get()
        assert (inc.title, inc.location, inc.asset, inc.reported_by, inc.description) == \
            ("勒索病毒加密", "教务处", "学籍服务器", "李老师", "凌晨发现")
        assert round((inc.discovered_at - inc.occurred_at).total_seconds()) == 30 * 60
        assert inc.category == "malware" and inc.personal_info_unsure
        report = Report.get()
        fields = report.fields
        assert (report.stage, fields.get("occurred_at"), fields.get("location"), fields.get("info_source"),
                fields.get("event_category")) == ("first", "2026年12月1日17时20分", "机房A", "值班电话", "网络攻击")
    finally:
        store.close()
