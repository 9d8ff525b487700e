"""The derived grade and personal-information history (models.fact_history, issue 17).

The table must always give what a walk of the audit trail gives, or step aside: written by the
services' own transactions, noticed stale when the incident no longer holds what it was walked
from, noticed behind when a fact event was written without it, filled by the schema step for an
older file, checked by ``xueji-duty check``.
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

from models import fact_history
from models.clock import FixedClock
from models.incidents import (IncidentInput, _HISTORY_CACHE, create_incident, fact_history as history_of,
                              set_grade, update_incident)
from models.integrity import run_checks
from models.store import open_store
from models.tables import AuditEvent, Incident
from tests.conftest import T0, make_ctx, run_cli

DATA = Path(__file__).resolve().parent / "data"


def _walked(ids=None) -> dict:
    q = Incident.select()
    if ids is not None:
        q = q.where(Incident.id.in_(ids))
    return fact_history.walk(list(q))


def _from_table(ids=None) -> tuple[dict, list[int]]:
    q = Incident.select()
    if ids is not None:
        q = q.where(Incident.id.in_(ids))
    found, left = fact_history.read(list(q))
    return found, sorted(i.id for i in left)


def _edit_a_lot(store, seed: int = 7, n: int = 12) -> list[int]:
    """Incidents entered and changed through the services, as officers and leaders do."""
    rnd = random.Random(seed)
    clock = FixedClock(T0)
    ctx = make_ctx(store, clock)
    ids = []
    for i in range(n):
        inc = create_incident(ctx, IncidentInput(
            title=f"学籍系统异常 {i}", category="malware", occurred_at=clock.now() - timedelta(minutes=20),
            discovered_at=clock.now() - timedelta(minutes=10), grade=rnd.choice(["II", "IV", None]),
            personal_info=rnd.choice([True, False, None])))
        ids.append(inc.id)
        for _ in range(rnd.randrange(0, 4)):
            clock.advance(minutes=rnd.choice([5, 50, 600]))
            roll = rnd.random()
            cur = Incident.get_by_id(inc.id)
            if roll < 0.4:
                set_grade(ctx, inc.id, rnd.choice(["I", "III", "IV"]), "领导小组定级")
            elif roll < 0.7:
                update_incident(ctx, inc.id, cur.version, {"personal_info": rnd.choice([True, False, None])})
            elif roll < 0.85:
                update_incident(ctx, inc.id, cur.version, {"location": f"机房 {rnd.random():.3f}"})
            else:
                # Saved from an older version (a colleague saved in between): the merge path.
                update_incident(ctx, inc.id, max(1, cur.version - 1), {"personal_info": rnd.choice([True, False])})
    return ids


def test_every_service_write_keeps_the_table_equal_to_the_walk(tmp_path):
    store = open_store(tmp_path / "duty.db")
    try:
        ids = _edit_a_lot(store)
        found, left = _from_table()
        assert left == []                                   # the table answers for every incident
        walked = _walked()
        assert walked, "the scenario changed no grade: the test would prove nothing"
        assert found == walked
        # Incidents never changed beyond their creation have no row (and no history).
        rows = {r[0] for r in store.db.execute_sql("SELECT incident FROM fact_history").fetchall()}
        assert rows == set(walked)
        assert set(ids) - rows                             # some never changed
        # The mark is the trail's last event.
        last = AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).scalar()
        assert store.meta(fact_history.MARK_KEY) == str(last)
        # And the function every screen calls gives the same.
        _HISTORY_CACHE.clear()
        assert history_of(list(Incident.select())) == walked
    finally:
        store.close()


def test_a_row_the_incident_no_longer_matches_is_not_used(tmp_path):
    """A write that changed the grade without a fact event (none of ours; a hand edit) makes
    the row stale: the trail is walked with today's values instead."""
    store = open_store(tmp_path / "duty.db")
    try:
        _edit_a_lot(store)
        some = sorted(_walked())[0]
        before = _walked([some])[some]
        new = "II" if Incident.get_by_id(some).grade != "II" else "I"
        store.db.execute_sql("UPDATE incident SET grade = ? WHERE id = ?", (new, some))
        found, left = _from_table()
        assert left == [some] and some not in found
        _HISTORY_CACHE.clear()
        now = history_of([Incident.get_by_id(some)])[some]
        assert now == _walked([some])[some] and now[-1].grade == new and now != before
    finally:
        store.close()


def test_a_fact_event_written_without_the_table_is_noticed_then_caught_up(tmp_path):
    """An event written around the hook (an earlier build on the same file, a bulk copy): the
    table is behind its mark for that incident, which is walked; the next write catches up."""
    store = open_store(tmp_path / "duty.db")
    try:
        ids = _edit_a_lot(store)
        target = ids[0]
        inc = Incident.get_by_id(target)
        old = inc.grade
        store.db.execute_sql("UPDATE incident SET grade = 'III', version = version + 1 WHERE id = ?", (target,))
        AuditEvent.insert(at=T0 + timedelta(days=3), actor="old-build", origin="local", action="incident.grade",
                          entity="incident", entity_id=str(target), changes={"grade": [old, "III"]},
                          reason="旧版本写入", prev_hash="", hash="").execute()
        found, left = _from_table()
        assert target in left and target not in found
        assert {i for i in found} == set(_walked()) - {target}
        _HISTORY_CACHE.clear()
        assert history_of([Incident.get_by_id(target)])[target] == _walked([target])[target]
        # Any write by this build brings the table up to date.
        other = Incident.get_by_id(ids[1])
        update_incident(make_ctx(store, FixedClock(T0 + timedelta(days=4))), other.id, other.version,
                        {"location": "行政楼"})
        found, left = _from_table()
        assert left == [] and found == _walked()
    finally:
        store.close()


def test_a_file_whose_table_was_never_filled_is_walked(tmp_path):
    store = open_store(tmp_path / "duty.db")
    try:
        _edit_a_lot(store)
        store.db.execute_sql("DELETE FROM schema_meta WHERE key = ?", (fact_history.MARK_KEY,))
        found, left = _from_table()
        assert found == {} and len(left) == Incident.select().count()
        _HISTORY_CACHE.clear()
        assert history_of(list(Incident.select())) == _walked()
    finally:
        store.close()


def test_an_unreadable_row_is_walked_and_a_wrong_one_is_found_by_check(tmp_path):
    path = tmp_path / "duty.db"
    store = open_store(path)
    try:
        _edit_a_lot(store)
        a, b = sorted(_walked())[:2]
        store.db.execute_sql("UPDATE fact_history SET states = '[[1,2' WHERE incident = ?", (a,))
        found, left = _from_table()
        assert left == [a] and found == {k: v for k, v in _walked().items() if k != a}
        # Well-formed but false (a hand edit): only a walk tells; the full check does walk.
        states = json.loads(store.db.execute_sql("SELECT states FROM fact_history WHERE incident = ?",
                                                 (b,)).fetchone()[0])
        states[0][1] = "I" if states[0][1] != "I" else "IV"
        store.db.execute_sql("UPDATE fact_history SET states = ? WHERE incident = ?", (json.dumps(states), b))
        assert _from_table()[0][b] != _walked([b])[b]
        findings = {f.name: f for f in run_checks(make_ctx(store, FixedClock(T0)))}
        f = findings["history"]
        assert not f.ok and f.key == "integrity.history_rebuilt" and f.params["n"] == 1
        assert Incident.get_by_id(b).code in f.params["codes"]
        found, left = _from_table()
        assert left == [] and found == _walked()            # rebuilt from the trail
        again = {f.name: f for f in run_checks(make_ctx(store, FixedClock(T0)))}
        assert again["history"].ok
    finally:
        store.close()
    # The CLI says it too, and exits non-zero while a row was wrong.
    store = open_store(path)
    store.db.execute_sql("UPDATE fact_history SET states = ? WHERE incident = ?", (json.dumps(states), b))
    store.close()
    out = run_cli("--db", str(path), "check")
    assert out.returncode != 0 and "审计记录重建" in out.stdout + out.stderr


def test_release_0_1_file_gets_the_table_filled_by_its_step(tmp_path):
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    store = open_store(db)
    try:
        found, left = _from_table()
        assert left == [] and found == _walked()
        last = AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).scalar()
        assert store.meta(fact_history.MARK_KEY) == str(last)
    finally:
        store.close()


def _as_a_build_before_left_it(db: Path, step: str, *sql: str) -> dict:
    """A file with edited incidents, then what an earlier build left: ``sql`` undone, ``step``
    not recorded. Returns the walked histories (what the file must give after its step)."""
    from models.migrations import STEPS_KEY, all_step_names
    store = open_store(db)
    _edit_a_lot(store)
    walked = _walked()
    store.close()
    con = sqlite3.connect(db)
    for statement in sql:
        con.execute(statement)
    con.execute("UPDATE schema_meta SET value = ? WHERE key = ?",
                (json.dumps([n for n in all_step_names() if n != step]), STEPS_KEY))
    con.commit()
    con.close()
    return walked


def test_a_file_from_the_build_before_the_table_gets_it_and_a_read_only_one_still_opens(tmp_path):
    db = tmp_path / "duty.db"
    # What the build before this one left: no table, no mark, no record of the step.
    walked = _as_a_build_before_left_it(db, "_fact_history", "DROP TABLE fact_history",
                                        f"DELETE FROM schema_meta WHERE key = '{fact_history.MARK_KEY}'")
    from tests.test_schema_steps import _make_read_only, _make_writable
    ro = tmp_path / "ro" / "duty.db"
    ro.parent.mkdir()
    shutil.copy(db, ro)
    _make_read_only(ro)
    _make_read_only(ro.parent)
    try:
        reader = open_store(ro)
        try:
            assert reader.read_only and reader.schema_pending == ["_fact_history"]
            _HISTORY_CACHE.clear()
            assert history_of(list(Incident.select())) == walked      # walked: no table to read
        finally:
            reader.close()
    finally:
        _make_writable(ro.parent)
        _make_writable(ro)
    store = open_store(db)
    try:
        found, left = _from_table()
        assert left == [] and found == walked
    finally:
        store.close()


def test_statistics_read_the_table_not_the_trail(tmp_path, caplog):
    """The year's statistics read no audit event beyond the table's mark (the trail is walked
    only for what the table cannot answer): the cost issue 17 measured."""
    import logging
    from models.config import Settings
    from models.stats import compute, period
    store = open_store(tmp_path / "duty.db")
    try:
        _edit_a_lot(store, n=20)
        ctx = make_ctx(store, FixedClock(T0 + timedelta(days=60)))
        reference = compute(ctx, period(Settings(), T0.year), engine=True)
        _HISTORY_CACHE.clear()
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert compute(ctx, period(Settings(), T0.year)) == reference
        trail = [r.msg[0] for r in caplog.records if isinstance(r.msg, tuple) and "audit_event" in r.msg[0]]
        assert trail and all("WHERE id > ?" in sql for sql in trail), trail
        plan = " ".join(str(r[-1]) for r in store.db.execute_sql(
            "EXPLAIN QUERY PLAN " + trail[0], (0,)).fetchall())
        assert "INTEGER PRIMARY KEY" in plan and "SCAN" not in plan, plan
    finally:
        store.close()


def test_statistics_judge_from_the_summaries_and_step_aside_for_a_bad_one(tmp_path):
    """The statistics judge most incidents from a row's latest change and its grades alone; a
    row whose summary is unreadable is walked, and the figures stay the reference's."""
    from models.config import Settings
    from models.stats import compute, period
    store = open_store(tmp_path / "duty.db")
    try:
        _edit_a_lot(store, n=20)
        got = fact_history.summaries([i.id for i in Incident.select()])
        assert got is not None
        summaries, stale = got
        walked = _walked()
        assert stale == set() and set(summaries) == set(walked)
        for iid, (last, facts) in summaries.items():
            assert last == max(fact_history.at_text(c.at) for c in walked[iid])
            assert json.loads(facts) == [[c.grade, c.personal_info] for c in walked[iid]]
        ctx = make_ctx(store, FixedClock(T0 + timedelta(days=60)))
        reference = compute(ctx, period(Settings(), T0.year), engine=True)
        a, b = sorted(walked)[:2]
        store.db.execute_sql("UPDATE fact_history SET last_at = 'x' WHERE incident = ?", (a,))
        store.db.execute_sql("UPDATE fact_history SET facts = NULL WHERE incident = ?", (b,))
        assert fact_history.summaries(list(walked))[1] == {a, b}
        assert compute(ctx, period(Settings(), T0.year)) == reference
    finally:
        store.close()


def test_a_table_from_the_build_before_the_summaries_gets_them(tmp_path):
    """The first build of the table had no ``last_at``/``facts``: its step adds and fills them."""
    db = tmp_path / "duty.db"
    walked = _as_a_build_before_left_it(db, "_fact_history_summary", "ALTER TABLE fact_history DROP COLUMN last_at",
                                        "ALTER TABLE fact_history DROP COLUMN facts")
    store = open_store(db)
    try:
        assert store.backup_made is not None
        summaries, stale = fact_history.summaries(list(walked))
        assert stale == set() and set(summaries) == set(walked)
        found, left = _from_table()
        assert left == [] and found == walked
    finally:
        store.close()


def test_an_edit_that_changes_no_fact_walks_nothing_but_moves_the_mark(tmp_path):
    store = open_store(tmp_path / "duty.db")
    try:
        ids = _edit_a_lot(store, n=3)
        mark = int(store.meta(fact_history.MARK_KEY))
        inc = Incident.get_by_id(ids[0])
        update_incident(make_ctx(store, FixedClock(T0 + timedelta(days=2))), inc.id, inc.version,
                        {"location": "图书馆"})
        assert fact_history._unseen(store.db, mark) == set()          # the edit carried no fact key
        assert int(store.meta(fact_history.MARK_KEY)) > mark
        set_grade(make_ctx(store, FixedClock(T0 + timedelta(days=3))), inc.id, "II", "复核")
        found, left = _from_table()
        assert left == [] and found == _walked() and found[inc.id][-1].grade == "II"
    finally:
        store.close()


def test_history_read_before_a_restore_does_not_pass_for_the_file_after(tmp_path):
    """A restore brings back an older version of an incident; edits after it reuse the version
    numbers with another history. The process's history cache (the incident screen reads it
    every second) must not answer for the restored file with what it read before."""
    path = tmp_path / "duty.db"
    store = open_store(path)
    clock = FixedClock(T0)
    ctx = make_ctx(store, clock)
    inc = create_incident(ctx, IncidentInput(title="学籍系统异常", category="malware", grade="IV",
                                             occurred_at=T0 - timedelta(minutes=20), discovered_at=T0))
    store.close()
    shutil.copy(path, tmp_path / "backup.db")            # the backup: version 1
    store = open_store(path)
    ctx = make_ctx(store, clock)
    clock.advance(hours=1)
    inc = set_grade(ctx, inc.id, "II", "领导小组定级")       # version 2: IV → II
    assert [c.grade for c in history_of([inc])[inc.id]] == ["IV", "II"]
    store.close()
    shutil.copy(tmp_path / "backup.db", path)             # restored
    for extra in ("-wal", "-shm"):
        (tmp_path / f"duty.db{extra}").unlink(missing_ok=True)
    store = open_store(path)
    try:
        ctx = make_ctx(store, clock)
        clock.advance(hours=1)
        again = set_grade(ctx, inc.id, "III", "重新定级")      # version 2 again: IV → III
        assert again.version == inc.version
        assert [c.grade for c in history_of([again])[again.id]] == ["IV", "III"]
    finally:
        store.close()
