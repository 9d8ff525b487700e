"""Databases for the benchmarks, written in bulk (the services would take minutes for 10,000 rows)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from models.store import open_store
from models.tables import AlarmState, Incident, Report

THRESHOLDS = (60, 30, 10, 0)


def seed(path: Path, open_n: int, closed_n: int, now: datetime | None = None,
         first_due_min: float = 20, first_due_max: float = 180) -> list[str]:
    """``open_n`` open incidents whose next deadline (the first report) lies between the two bounds,
    their oral reports already made and their alarms already acknowledged (an idle board), and
    ``closed_n`` closed incidents. Returns the open incidents' codes, most urgent first."""
    now = now or datetime.now(timezone.utc)
    store = open_store(path)
    codes = []
    with store.db.atomic():
        rows = []
        for i in range(closed_n):
            at = now - timedelta(days=400) + timedelta(minutes=i)
            rows.append(dict(code=f"2025-{i + 1:05d}", title=f"已结案事件 {i + 1}", category="malware",
                             occurred_at=at, discovered_at=at, status="closed", closed_at=at,
                             handling_closed_at=at, created_at=at, updated_at=at, grade="IV",
                             grade_decided=True))
        for start in range(0, len(rows), 500):
            Incident.insert_many(rows[start:start + 500]).execute()
        span = (first_due_max - first_due_min) / max(open_n - 1, 1)
        for i in range(open_n):
            due = now + timedelta(minutes=first_due_min + i * span)
            occurred = due - timedelta(hours=3)
            code = f"2026-{9001 + i}"
            inc = Incident.create(code=code, title=f"学籍系统异常 {i + 1}", category="network_attack",
                                  occurred_at=occurred, discovered_at=occurred, created_at=now,
                                  updated_at=now)
            Report.create(incident=inc, regime="school_plan", stage="oral", seq=1, status="submitted",
                          submitted_at=occurred + timedelta(minutes=5), created_at=now, updated_at=now,
                          fields={})
            for m in THRESHOLDS:
                AlarmState.create(incident=inc, regime="school_plan", stage="first", seq=1, threshold=m,
                                  fired_at=now, acked_at=now, acked_by="bench")
            codes.append(code)
    store.close()
    return codes


def add_account(path: Path, username: str = "officer", password: str = "Bench-passw0rd!") -> None:
    """One officer account, so that the app starts on the login screen as it does at a school."""
    from models.clock import Clock
    from models.config import Settings
    from models.context import Actor, Context
    from models.accounts import create_user
    store = open_store(path)
    ctx = Context(store=store, actor=Actor("bench", "admin", "bench", "local"), clock=Clock(),
                  settings=Settings())
    create_user(ctx, username, "officer", "值班员", password)
    store.close()
