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


CATEGORIES = ("malware", "network_attack", "data_security", "facility_failure", "force_majeure",
              "content_security", "violating_operation", "security_hazard", "abnormal_behaviour", "other")
TITLE_WORDS = ("勒索病毒", "异常登录", "数据外传", "服务器宕机", "网页篡改", "弱口令", "钓鱼邮件", "停电")


# What an officer writes: a report's fields (~2 KB of Chinese, as a first report's sixteen fields
# hold) and an incident's description (~0.5 KB). The rows are as long as a school's, so SQLite
# reads as many pages as it would there.
REPORT_TEXT = {name: ("学籍系统服务器出现异常登录，已断网隔离并保全日志，正在核查受影响的学生记录。" * 2)[:length]
               for name, length in (("summary", 70), ("affected_scope", 50), ("damage", 30), ("threat", 40),
                                    ("trend", 40), ("measures_taken", 80), ("scene_preservation", 50),
                                    ("next_steps", 60), ("support_requested", 40), ("location", 20),
                                    ("info_source", 30), ("event_category", 10), ("event_level", 6),
                                    ("police_reported", 4), ("contact", 20), ("signed_by", 10))}
DESCRIPTION = ("值班员巡检时发现学籍系统后台存在异常登录记录，来源地址不明，涉及部分学生的学籍信息；"
               "已按预案断开网络、保全日志并报告分管领导，正在会同技术人员核查影响范围。") * 2


def seed_year(path: Path, year: int, incidents: int = 10_000, reports: int = 50_000,
              full_rows: bool = True) -> tuple[int, int]:
    """A year of history: ``incidents`` spread over the year (mostly closed, some withdrawn, some
    drills, a few open), and ``reports`` submitted reports among them — oral, first, follow-up,
    continuing, final — some on time, some late. ``full_rows``: the reports' fields and the
    incidents' descriptions filled as an officer fills them (else empty), and the audit trail the
    services write for the facts: each incident's creation (its whole row) and, for 85 %, the
    leaders' decision on the grade (the same grade or another). Returns (incidents, reports)
    written."""
    import random
    rnd = random.Random(year)
    fields = REPORT_TEXT if full_rows else {}
    description = DESCRIPTION if full_rows else ""
    store = open_store(path)
    start = datetime(year, 1, 1, tzinfo=timezone.utc)
    span = 365 * 24 * 60
    per = max(1, reports // max(incidents, 1))
    stages = [("oral", 20, 40), ("first", 120, 240), ("follow_up", 1200, 1800),
              ("continuing", 2400, 3400), ("final", 20000, 50000)]
    written = 0
    with store.db.atomic():
        rows = []
        for i in range(incidents):
            at = start + timedelta(minutes=(i * span) // incidents + rnd.randrange(0, 30))
            roll = rnd.random()
            status = "open" if roll < 0.02 else "withdrawn" if roll < 0.07 else "closed"
            rows.append(dict(code=f"{year}-{i + 1:05d}", title=f"{rnd.choice(TITLE_WORDS)} {i + 1}",
                             category=rnd.choice(CATEGORIES), grade=rnd.choice(("II", "III", "IV", "IV", None)),
                             occurred_at=at, discovered_at=at + timedelta(minutes=rnd.randrange(0, 20)),
                             status=status, is_drill=rnd.random() < 0.03,
                             handling_closed_at=at + timedelta(days=1) if status == "closed" else None,
                             closed_at=at + timedelta(days=3) if status == "closed" else None,
                             created_at=at, updated_at=at, grade_decided=True, description=description))
        for s in range(0, len(rows), 500):
            Incident.insert_many(rows[s:s + 500]).execute()
        ids = [r[0] for r in Incident.select(Incident.id, Incident.occurred_at).where(
            Incident.code.startswith(f"{year}-")).order_by(Incident.id).tuples()]
        if full_rows:
            _audit_trail(rnd, ids, rows)
            # What each service's write does before its commit (models.fact_history's hook), done
            # once for the bulk-written trail: the derived grade history a school's file holds.
            from models import fact_history
            fact_history.catch_up(store.db)
        occurred = {r["code"]: r["occurred_at"] for r in rows}
        codes = [r["code"] for r in rows]
        batch = []
        for iid, code in zip(ids, codes):
            occ = occurred[code]
            for stage, lo, hi in stages[:per]:
                if written >= reports:
                    break
                at = occ + timedelta(minutes=rnd.randrange(lo, hi))
                batch.append(dict(incident=iid, regime="school_plan", stage=stage, seq=1, fields=fields,
                                  status="submitted", submitted_at=at, created_at=at, updated_at=at))
                written += 1
            if len(batch) >= 1000:
                Report.insert_many(batch).execute()
                batch = []
        if batch:
            Report.insert_many(batch).execute()
    store.close()
    return len(rows), written


def _audit_trail(rnd, ids: list[int], rows: list[dict]) -> None:
    """``incident.create`` with the row (as ``create_incident`` records it) and, for most, an
    ``incident.grade`` a day later (as ``set_grade`` records it), written in bulk (unchained:
    the benches do not verify the trail)."""
    from models.tables import AuditEvent
    from models.versioning import _json_default
    events, decided = [], []
    for iid, row in zip(ids, rows):
        at = row["created_at"]
        created = {k: [None, _json_default(v) if isinstance(v, datetime) else v] for k, v in row.items()}
        created["grade"] = [None, rnd.choice([row["grade"], None, "IV"])]    # the officer's first guess
        events.append(dict(at=at, actor="officer", origin="local", action="incident.create", entity="incident",
                           entity_id=str(iid), changes=created, prev_hash="", hash=""))
        if rnd.random() < 0.85:
            events.append(dict(at=at + timedelta(days=1), actor="leader", origin="local", action="incident.grade",
                               entity="incident", entity_id=str(iid), changes={"grade": [created["grade"][1], row["grade"]]},
                               reason="领导小组定级", prev_hash="", hash=""))
            decided.append(iid)
    for s in range(0, len(events), 500):
        AuditEvent.insert_many(events[s:s + 500]).execute()
    for s in range(0, len(decided), 500):
        Incident.update(version=2).where(Incident.id.in_(decided[s:s + 500])).execute()
