"""Every change leaves a hash-chained audit event; tampering is found and named."""
import sqlite3

from models import audit
from models.incidents import IncidentInput, create_incident, update_incident
from tests.conftest import T0, run_cli
from datetime import timedelta


def new(ctx, title="学籍系统无法登录"):
    return create_incident(ctx, IncidentInput(title=title, category="facility_failure",
                                              occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))


def test_changes_are_audited_field_by_field(ctx):
    inc = new(ctx)
    update_incident(ctx, inc.code, inc.version, {"location": "教务处 学籍专用电脑"})
    events = audit.events_for("incident", inc.id)
    assert [e.action for e in events] == ["incident.update", "incident.create"]
    assert events[0].changes == {"location": ["", "教务处 学籍专用电脑"]}
    assert events[0].actor == "tester"
    assert audit.verify().ok


def test_time_change_requires_reason_and_records_it(ctx):
    inc = new(ctx)
    import pytest
    from models.errors import ValidationError
    with pytest.raises(ValidationError) as exc:
        update_incident(ctx, inc.code, inc.version, {"occurred_at": T0 - timedelta(hours=1)})
    assert "reason" in exc.value.fields
    update_incident(ctx, inc.code, inc.version, {"occurred_at": T0 - timedelta(hours=1)}, reason="查日志确认")
    assert audit.events_for("incident", inc.id)[0].reason == "查日志确认"


def test_tampering_with_one_row_is_detected_by_cli(ctx, db_path):
    for i in range(3):
        new(ctx, f"事件{i}")
    assert run_cli("audit", "verify", "--db", str(db_path)).returncode == 0
    ctx.store.close()
    con = sqlite3.connect(db_path)
    second = con.execute("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 1").fetchone()[0]
    con.execute("UPDATE audit_event SET actor='someone_else' WHERE id=?", (second,))
    con.commit()
    con.close()
    r = run_cli("audit", "verify", "--db", str(db_path))
    assert r.returncode == 1
    assert f"第 {second} 条" in r.stderr
    assert "Traceback" not in r.stderr


def test_deleting_a_row_breaks_the_chain(ctx, db_path):
    for i in range(3):
        new(ctx, f"事件{i}")
    ctx.store.db.execute_sql("DELETE FROM audit_event WHERE id = 2")
    report = audit.verify()
    assert not report.ok and report.broken_id == 3 and report.problem == "prev_hash"
