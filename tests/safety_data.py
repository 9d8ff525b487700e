"""A database with something of everything in it, for the backup, export and check tests."""
from __future__ import annotations

import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

from models import audit
from models.incidents import IncidentInput, create_incident, update_incident
from models.tables import ALL_MODELS, Evidence, Note, Report
from tests.conftest import T0


def populate(ctx, n_incidents: int = 3) -> None:
    """Incidents, reports, evidence files with their hashes, notes and the audit events of each."""
    for i in range(n_incidents):
        inc = create_incident(ctx, IncidentInput(
            title=f"学籍账号异常登录 {i}", category="network_attack", location="教务处",
            occurred_at=T0 - timedelta(minutes=40 + i), discovered_at=T0 - timedelta(minutes=30),
            description="学生张三的身份证号被查询\n第二行", personal_info=True))
        update_incident(ctx, inc.code, inc.version, {"asset": f"学籍系统 {i}"})
        with ctx.store.write():
            rep = Report.create(incident=inc, regime="school_plan", stage="first", seq=1,
                                fields={"summary": "首报内容", "n": i}, status="submitted",
                                submitted_at=T0, submitted_by="tester", channel="fax",
                                recipient="县教育局基教科", created_at=T0, updated_at=T0)
            audit.record(ctx, "report.submit", "report", rep.id, {"status": [None, "submitted"]})
            folder = ctx.store.evidence_dir / inc.code
            folder.mkdir(parents=True, exist_ok=True)
            data = f"登录日志 {i}\n".encode() * 200 + bytes(range(256))
            (folder / "login.log").write_bytes(data)
            ev = Evidence.create(incident=inc, original_path=f"/var/log/xueji/login{i}.log",
                                 stored_path=f"{inc.code}/login.log", copied=True,
                                 sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                                 collected_by="tester", collected_at=T0, created_at=T0)
            audit.record(ctx, "evidence.add", "evidence", ev.id, {"sha256": [None, ev.sha256]})
            Note.create(incident=inc, author="tester", at=T0, text=f"已电话通知教务处 {i}")
            audit.record(ctx, "note.add", "incident", inc.id, None)


def dump(db_path: Path, skip_audit_after: int | None = None) -> dict[str, list[tuple]]:
    """Every row of every table, as SQLite stores it."""
    con = sqlite3.connect(str(db_path))
    try:
        out = {}
        for model in ALL_MODELS:
            name = model._meta.table_name
            rows = con.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()
            out[name] = rows
        return out
    finally:
        con.close()


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
