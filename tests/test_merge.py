"""One field-level merge for every versioned record (issue 14): nothing the user did not touch is written."""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from datetime import timedelta

import pytest

from models import audit
from models.contacts import add_contact, edit_contact, ensure_seeded, get_contact, remove_contact
from models.errors import ConflictError, NotFound
from models.incidents import IncidentInput, create_incident, get_incident, update_incident
from models.merge import three_way
from models.reports import open_report, save_draft
from models.tables import AuditEvent, Report
from tests.conftest import T0, make_ctx, run_cli
from tests.merge_workers import ROUNDS_ENV, run


def _incident(ctx):
    return create_incident(ctx, IncidentInput(title="学籍系统账号异常登录", category="network_attack", grade="IV",
                                              occurred_at=T0 - timedelta(minutes=40),
                                              discovered_at=T0 - timedelta(minutes=20),
                                              location="教务处", asset="学籍系统", description="凌晨异地登录"))


def test_three_way_per_field():
    base = {"a": "1", "b": "1", "c": "1"}
    theirs = {"a": "2", "b": "1", "c": "3"}
    m = three_way(base, theirs, {"a": "2", "b": "mine", "c": "mine"})
    assert m.applied == {"b": "mine"}                         # a: same as theirs; b: only mine changed
    assert [(c.field, c.base, c.theirs, c.mine) for c in m.conflicts] == [("c", "1", "3", "mine")]
    # Chosen in the conflict view, saved from theirs as shown: applied, and marked as a replacement.
    forced = three_way({"c": "3"}, theirs, {"c": "mine"}, resolved={"c"})
    assert forced.applied == {"c": "mine"} and forced.replaced == {"c": ""}
    # ... but if theirs moved again since the view showed it, the view comes back with the fresh value.
    again = three_way({"c": "3"}, {**theirs, "c": "4"}, {"c": "mine"}, resolved={"c"})
    assert not again.applied and again.conflicts[0].theirs == "4"


def test_incident_edits_from_one_base_merge_and_conflict_per_field(ctx, store, clock):
    inc = _incident(ctx)
    other = make_ctx(store, clock, username="wang")
    update_incident(other, inc.id, inc.version, {"description": "王丽补充：已断网"})
    # Same base, a field the colleague did not touch: applied, theirs kept.
    got = update_incident(ctx, inc.id, inc.version, {"location": "机房"})
    assert (got.location, got.description) == ("机房", "王丽补充：已断网") and got.version == inc.version + 2
    # Both changed description: only that field conflicts; title is saved.
    with pytest.raises(ConflictError) as exc:
        update_incident(ctx, inc.id, inc.version, {"description": "我的描述", "title": "新标题"},
                        base={"description": "凌晨异地登录", "title": inc.title})
    e = exc.value
    assert [(c.field, c.base, c.theirs, c.mine, c.by) for c in e.conflicts] == [
        ("description", "凌晨异地登录", "王丽补充：已断网", "我的描述", "wang")]
    assert e.saved == ["title"] and "2026-" in e.message and "report" not in e.message
    now = get_incident(inc.id)
    assert (now.title, now.description) == ("新标题", "王丽补充：已断网")
    # Resolving: keep mine over wang's, from the version the conflict returned; audit keeps both values.
    update_incident(ctx, inc.id, e.current_version, {"description": "我的描述"}, resolved={"description"})
    ev = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert ev.changes["description"] == ["王丽补充：已断网", "我的描述"]
    assert ev.changes["replaced"] == {"description": "wang"}
    from models.merge import replaced_notices
    notes = replaced_notices(other)
    assert [(n["field"], n["by"]) for n in notes] == [("description", "tester")]
    assert audit.verify().ok


def test_incident_edit_from_an_old_version_uses_the_kept_snapshot(ctx):
    inc = _incident(ctx)
    v1 = inc.version
    update_incident(ctx, inc.id, None, {"location": "机房"})
    update_incident(ctx, inc.id, None, {"asset": "学籍系统（学校端）"})
    # From v1 (no base given): location changed since v1 by someone → conflict; title untouched → applied.
    got = update_incident(ctx, inc.id, v1, {"title": "标题二"})
    assert (got.title, got.location, got.asset) == ("标题二", "机房", "学籍系统（学校端）")
    with pytest.raises(ConflictError) as exc:
        update_incident(ctx, inc.id, v1, {"location": "教学楼"})
    assert exc.value.conflicts[0].base == "教务处"


def test_report_draft_keep_mine_on_one_field_leaves_colleagues_fields(ctx, store, clock):
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    other = make_ctx(store, clock, username="wang")
    save_draft(other, r.id, r.version, {"damage": "王丽写的", "threat": "较低"})
    with pytest.raises(ConflictError) as exc:
        save_draft(ctx, r.id, r.version, {"damage": "我写的", "trend": "已控制"})
    e = exc.value
    assert "首报" in e.message and "report" not in e.message and "9" not in e.params["label"]
    assert [c.field for c in e.conflicts] == ["damage"] and e.saved == ["trend"]
    save_draft(ctx, r.id, e.current_version, {"damage": "我写的"}, resolved={"damage"})
    f = Report.get_by_id(r.id).fields
    assert (f["damage"], f["threat"], f["trend"]) == ("我写的", "较低", "已控制")


def test_contact_remove_racing_an_edit_is_refused_or_wins_cleanly(ctx, store, clock):
    ensure_seeded(ctx)
    c = add_contact(ctx, {"role": "leader", "name": "陈云柱", "mobile": "13900000001"})
    other = make_ctx(store, clock, username="wang")
    edit_contact(other, c.id, {"office": "0874-1234567"}, expected_version=c.version)
    with pytest.raises(ConflictError) as exc:
        remove_contact(ctx, c.id, expected_version=c.version)
    assert "陈云柱" in exc.value.message and "wang" in exc.value.message
    assert get_contact(c.id).office == "0874-1234567"
    remove_contact(ctx, c.id)                      # without a version: the remove wins
    with pytest.raises(NotFound) as gone:
        edit_contact(other, c.id, {"notes": "x"}, expected_version=c.version + 1)
    assert gone.value.key in ("error.contacts.contact_not_found", "error.contact_removed")


def _cli_incident(tmp_path):
    env = {"XUEJI_DUTY_DB": str(tmp_path / "cli.db")}
    r = run_cli("incident", "new", "--title", "学籍账号异常登录", "--category", "网络攻击事件",
                "--occurred", "-40m", "--user", "zhang", "--location", "教务处", "--json", env=env)
    assert r.returncode == 0, r.stderr
    return env, json.loads(r.stdout)


def test_cli_incident_edit_merges_and_takes_a_version(tmp_path):
    env, inc = _cli_incident(tmp_path)
    code, v = inc["code"], inc["version"]
    cli = lambda *a: run_cli("incident", "edit", code, "--user", "zhang", *a, env=env)  # noqa: E731
    out = cli("--location", "机房", "--reason", "更正地点")
    assert out.returncode == 0, out.stderr
    assert code in out.stdout and "地点" in out.stdout
    out = cli("--asset", "学籍系统（学校端）", "--no-personal-info", "--reason", "补充", "--version", str(v), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["location"] == "机房" and data["asset"] == "学籍系统（学校端）"
    out = cli("--location", "教学楼", "--reason", "x", "--version", str(v))
    assert out.returncode == 1 and "Traceback" not in out.stderr and "地点" in out.stderr, out.stderr
    out = cli("--occurred", "-50m")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    out = cli("--occurred", "不是时间", "--reason", "x")
    assert out.returncode in (1, 2) and "Traceback" not in out.stderr


def test_cli_report_draft_takes_a_version(tmp_path):
    env, inc = _cli_incident(tmp_path)
    draft = lambda *a: run_cli("report", "draft", inc["code"], "first", "--user", "zhang", *a, env=env)  # noqa: E731
    out = draft("--field", "damage=A", "--json")
    assert out.returncode == 0, out.stderr
    v = json.loads(out.stdout)["version"] - 1       # the version before A's save
    out = draft("--field", "threat=较低", "--version", str(v))
    assert out.returncode == 0, out.stderr
    out = draft("--field", "damage=B", "--version", str(v))
    assert out.returncode == 1 and "首报" in out.stderr and "Traceback" not in out.stderr, out.stderr
    out = draft("--field", "damage=C", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["fields"]["damage"] == "C"
    assert json.loads(out.stdout)["fields"]["threat"] == "较低"


def _rounds() -> int:
    # The figure is 500 rounds: XUEJI_MERGE_ROUNDS=500 (measured: 0 lost, every same-field round one
    # saved value and one field conflict; 66 s and 39 s on the shared 2-core machine);
    # the default keeps this file fast.
    return int(os.environ.get(ROUNDS_ENV, "100"))


@pytest.mark.parametrize("mode", ["different", "same"])
def test_two_processes_lock_step_rounds(ctx, db_path, mode):
    ensure_seeded(ctx)
    inc = _incident(ctx)
    r = open_report(ctx, inc.id, "school_plan", "first")
    c = add_contact(ctx, {"role": "leader", "name": "陈云柱", "mobile": "13900000001"})
    ids = {"incident": inc.id, "report": r.id, "contact": c.id}
    ctx.store.close()
    rounds = _rounds()
    mp = multiprocessing.get_context("spawn")
    barrier, out = mp.Barrier(2, timeout=60), mp.Queue()
    procs = [mp.Process(target=run, args=(str(db_path), who, rounds, mode, ids, barrier, out)) for who in "ab"]
    start = time.monotonic()
    for p in procs:
        p.start()
    results = {res["who"]: res for res in (out.get(timeout=300) for _ in procs)}
    crashes = [res["crash"] for res in results.values() if "crash" in res]
    assert not crashes, "\n".join(crashes)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    elapsed = time.monotonic() - start
    a, b = results["a"], results["b"]
    assert a["lost"] == b["lost"] == 0 and a["errors"] == b["errors"] == 0
    if mode == "different":
        assert a["saved"] == b["saved"] == rounds * 3 and a["conflict"] == b["conflict"] == 0
    else:
        assert all(sorted(pair) == ["conflict", "saved"] for pair in zip(a["rounds"], b["rounds"]))
        assert a["conflict"] + b["conflict"] == rounds * 3
    print(f"{mode}: {rounds} rounds × 3 records in {elapsed:.1f}s")


def test_checks_and_warnings_merge_too(ctx, store, clock):
    from models.checks import add_check, edit_check, get_check
    from models.warnings import add_warning, lift_warning
    c = add_check(ctx, "机房巡检", "weekly", responsible="李老师")
    edit_check(ctx, c.id, c.version, {"responsible": "王老师"})
    got = edit_check(make_ctx(store, clock, username="wang"), c.id, c.version, {"title": "机房与终端巡检"})
    assert (got.title, got.responsible) == ("机房与终端巡检", "王老师")
    with pytest.raises(ConflictError) as exc:
        edit_check(ctx, c.id, c.version, {"responsible": "张老师"})
    assert "机房与终端巡检" in exc.value.message and get_check(c.id).responsible == "王老师"
    w = add_warning(ctx, "orange", source="县教育局", content="勒索病毒预警")
    lifted = lift_warning(ctx, w.id, "已排查", expected_version=w.version)
    assert lifted.lifted_by == "tester"
