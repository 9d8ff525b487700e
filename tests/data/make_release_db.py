"""How ``release-0.1.db`` was made: a database written by release 0.1.0 (schema 1), kept as a file.

Run once with the 0.1.0 code (commit 450b6b8) and committed with ``release-0.1.json``, the rows
it held. ``tests/test_migrations.py`` opens a copy with today's code and finds every row intact.
Not run by the suite: the point is a file the *previous* release wrote.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from models.clock import FixedClock
from models.config import Settings
from models.context import Actor, Context
from models.store import open_store
from models.tables import ALL_MODELS

HERE = Path(__file__).resolve().parent
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def make(path: Path) -> None:
    from models.accounts import bootstrap_admin, create_user
    from models.demo import seed_demo
    from models.evidence import add_evidence
    from models.incidents import IncidentInput, close_incident, create_incident, mark_handled
    from models.reports import Submission, open_report, save_draft, submit

    store = open_store(path)
    clock = FixedClock(T0)
    ctx = Context(store=store, actor=Actor(username="admin", role="admin", origin="local"),
                  clock=clock, settings=Settings(school_name="海峰中学"))
    bootstrap_admin(ctx, "admin", "管理员", "correct horse battery")
    create_user(ctx, "wangli", "officer", "王丽", "another good phrase")
    seed_demo(ctx)
    inc = create_incident(ctx, IncidentInput(
        title="学籍系统弱口令", category="network_attack", occurred_at=T0, discovered_at=T0,
        location="教务处", asset="全国学籍系统", reported_by="王丽", description="检查发现弱口令。",
        personal_info=True))
    note = HERE / "evidence-note.txt"
    note.write_text("登录日志摘录\n", encoding="utf-8")
    add_evidence(ctx, inc.id, note, copy=True, note="U 盘导出")
    note.unlink()
    rep = open_report(ctx, inc.id, "school_plan", "first")
    from models.reports import form_fields, prefilled_fields
    values = {f.id: "内容" for f in form_fields(ctx, "school_plan", "first")}
    values.update({k: v for k, v in prefilled_fields(ctx, inc, "school_plan", "first", 1).items() if v})
    values["contact_phone"] = "0874-1234567"
    rep = save_draft(ctx, rep.id, rep.version, values)
    clock.advance(hours=3)
    sub = Submission(at=T0 + timedelta(hours=1), channel="email", recipient="县教育局基教科", confirmed_by="李科长")
    submit(ctx, rep.id, rep.version, sub)
    mark_handled(ctx, inc.id, at=T0 + timedelta(hours=2))
    store.close()


def snapshot(path: Path) -> dict:
    store = open_store(path, create=False)
    out = {}
    for model in ALL_MODELS:
        cur = store.db.execute_sql(f'SELECT * FROM "{model._meta.table_name}" ORDER BY rowid')
        cols = [c[0] for c in cur.description]
        out[model._meta.table_name] = [dict(zip(cols, row)) for row in cur.fetchall()]
    store.close()
    return out


if __name__ == "__main__":
    target = HERE / "release-0.1.db"
    if target.exists():
        sys.exit(f"{target} exists: it is the previous release's file, not to be remade")
    make(target)
    (HERE / "release-0.1.json").write_text(
        json.dumps(snapshot(target), ensure_ascii=False, indent=1, default=str), encoding="utf-8")
