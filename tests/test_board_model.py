"""The board's view model without a screen: order, escalation, countdown text, filter, layout, alarms."""
from datetime import timedelta

import pytest

from models import alarms
from models import board as vm
from models.incidents import IncidentInput, create_incident
from tests.conftest import SH, T0, make_ctx


def _incident(ctx, title, minutes_ago, **kw):
    return create_incident(ctx, IncidentInput(
        title=title, category="network_attack", occurred_at=T0 - timedelta(minutes=minutes_ago),
        discovered_at=T0 - timedelta(minutes=minutes_ago), **kw))


@pytest.mark.parametrize("left, expected", [
    (3600, "normal"), (3599, "due_soon"), (900, "due_soon"), (899, "urgent"), (0, "urgent"),
    (-1, "overdue"), (None, None)])
def test_escalation_levels_at_each_threshold(left, expected):
    assert vm.level(left, 60, 15) == expected


@pytest.mark.parametrize("left, text", [
    (3900, "1h05m"), (601, "10m"), (600, "10m00s"), (59, "0m59s"), (-30, "超时 +<1m"),
    (-720, "超时 +12m"), (-3900, "超时 +1h05m")])
def test_countdown_text(left, text):
    assert vm.countdown_text(left) == text


def test_countdown_changes_once_a_minute_until_the_last_ten_minutes():
    above = {vm.countdown_text(3 * 3600 - s) for s in range(120)}
    assert len(above) <= 3                       # two minute boundaries at most in 120 s
    below = {vm.countdown_text(600 - s) for s in range(120)}
    assert len(below) == 120                     # every second in the last ten minutes
    overdue = {vm.countdown_text(-600 - s) for s in range(120)}
    assert len(overdue) <= 3                     # overdue counts minutes, never seconds


def test_rows_most_urgent_first_one_per_incident_with_hidden_count(ctx):
    _incident(ctx, "late", 20)
    _incident(ctx, "oldest", 170)
    _incident(ctx, "middle", 100, personal_info=True)
    data = vm.snapshot(ctx, T0)
    rows = vm.build_rows(data)
    assert [r.incident.title for r in rows] == ["oldest", "middle", "late"]
    middle = rows[1]
    # oral + first + two PIPL notices are open: one shown, three more under it
    assert middle.more == 3 and middle.stage_name == "口头报告"
    expanded = vm.build_rows(data, expanded={middle.incident.id})
    subs = [r for r in expanded if r.sub]
    assert len(subs) == 3 and all(r.incident.id == middle.incident.id for r in subs)
    keys = [r.key for r in expanded]
    assert keys.index(middle.key) + 1 == keys.index(subs[0].key)


def test_filter_matches_visible_fields_only_and_not_titles_when_locked(ctx):
    _incident(ctx, "学籍账号被盗", 20)
    _incident(ctx, "硬盘故障", 30)
    data = vm.snapshot(ctx, T0)
    assert [r.incident.title for r in vm.build_rows(data, query="账号")] == ["学籍账号被盗"]
    assert vm.build_rows(data, query="账号", locked=True) == []
    assert len(vm.build_rows(data, query="2026-00")) == 2


def test_cells_hide_titles_when_locked_and_mark_drills(ctx):
    _incident(ctx, "钓鱼演练", 20, is_drill=True)
    data = vm.snapshot(ctx, T0)
    row = vm.build_rows(data)[0]
    open_ = vm.cells(row, T0, SH).values
    assert "钓鱼演练" in open_["title"] and "演练" in open_["title"]
    shut = vm.cells(row, T0, SH, locked=True).values
    assert "钓鱼演练" not in shut["title"] and "演练" in shut["title"] and shut["code"].endswith("-001")
    assert shut["left"] == open_["left"] and shut["state"] == open_["state"]


def test_overdue_cells_and_counts(ctx):
    _incident(ctx, "a", 42)          # oral due 30 min after discovery: 12 min overdue
    data = vm.snapshot(ctx, T0)
    c = vm.cells(vm.build_rows(data)[0], T0, SH)
    assert c.values["left"] == "超时 +12m" and c.level == "overdue" and c.values["state"] == "超时"
    n = vm.counts(data, T0)
    assert (n.open_incidents, n.overdue, n.due_within_hour) == (1, 1, 0)
    assert vm.counts(data, T0 - timedelta(minutes=13)).due_within_hour == 1


def test_compact_layout_drops_columns_in_a_fixed_order():
    widths = vm.column_widths(["口头报告", "首报"])
    wide, w_title = vm.layout(160, widths)
    assert wide == list(vm.COLUMNS) and w_title >= vm.TITLE_MIN
    at80, title80 = vm.layout(80, widths)
    assert "category" not in at80 and {"code", "title", "left", "state", "stage"} <= set(at80)
    assert title80 >= vm.TITLE_MIN
    narrow, _ = vm.layout(50, widths)
    dropped = [c for c in vm.COLUMNS if c not in narrow]
    assert len(dropped) >= 2 and set(dropped) == set(vm.DROP_ORDER[:len(dropped)])


def test_alarm_thresholds_fire_once_across_sessions_and_acknowledge(store, clock, ctx):
    inc = _incident(ctx, "a", 0)                 # oral report due in 30 min
    data = vm.snapshot(ctx, T0)
    obls = list(data.open_obligations())
    due = alarms.due_alarms(obls, set(), [60, 30, 10, 0], T0)
    # 30 min left: the 60 and 30 thresholds are reached for the oral report; none for the 3 h first report
    assert {(k.stage, k.threshold) for k in due} == {("oral", 60), ("oral", 30)}
    other = make_ctx(store, clock, username="colleague")
    assert len(alarms.fire(ctx, due, T0)) == 2
    assert alarms.fire(other, due, T0) == []        # the other session finds them recorded
    fired = alarms.fired_keys([inc.id])
    assert alarms.due_alarms(obls, fired, [60, 30, 10, 0], T0) == []
    later = T0 + timedelta(minutes=21)
    assert [(k.stage, k.threshold) for k in alarms.due_alarms(obls, fired, [60, 30, 10, 0], later)] == [("oral", 10)]
    pend = alarms.pending([inc.id])
    assert len(pend) == 1 and pend[0].threshold == 30   # one notice per obligation, the latest threshold
    assert alarms.acknowledge(other, inc.id, "school_plan", "oral", 1) == 2
    assert alarms.pending([inc.id]) == []
    assert alarms.who_to_call(ctx, inc.id, "school_plan", "oral")


def test_board_countdowns_change_together_on_the_wall_clock_minute():
    """Deadlines at odd seconds still change their minute text when the header clock does."""
    now0 = T0                                            # 10:00:00 local, on a minute
    dues = [T0 + timedelta(minutes=m, seconds=s) for m, s in ((25, 7), (47, 33), (130, 51))]
    changes = set()
    for sec in range(1, 180):
        before = [vm.countdown_at(d, now0 + timedelta(seconds=sec - 1)) for d in dues]
        after = [vm.countdown_at(d, now0 + timedelta(seconds=sec)) for d in dues]
        if before != after:
            changes.add(sec)
    assert changes == {60, 120}
    # never more time shown than is left, never less overdue than it is
    assert vm.countdown_at(T0 + timedelta(minutes=25, seconds=59), T0) == "25m"
    assert vm.countdown_at(T0 - timedelta(minutes=12, seconds=1), T0) == "超时 +13m"
    assert vm.countdown_at(T0 + timedelta(minutes=9, seconds=59), T0) == "9m59s"


def test_who_to_call_prefers_the_contact_panel(ctx):
    from models.tables import Contact
    inc = _incident(ctx, "a", 0)
    fallback = alarms.who_to_call(ctx, inc.id, "school_plan", "oral")
    assert fallback == ctx.settings.bureau          # no contact with a number yet: the policy's recipient
    Contact.create(name="李科长", role="bureau", mobile="13800000001")
    who = alarms.who_to_call(ctx, inc.id, "school_plan", "oral")
    assert "李科长" in who and "13800000001" in who


def _row_due(row, due):
    from dataclasses import replace
    return replace(row, obligation=replace(row.obligation, due_at=due, state="pending"))


@pytest.mark.parametrize("due_offset", [
    timedelta(minutes=25, seconds=7), timedelta(minutes=61, seconds=33), timedelta(minutes=15, seconds=41),
    timedelta(minutes=10, seconds=19), timedelta(minutes=3), timedelta(seconds=-37),
    timedelta(minutes=-70, seconds=-5), timedelta(hours=20, minutes=1, seconds=13),
    timedelta(hours=-19, minutes=-59, seconds=-30)])
def test_no_cell_changes_before_next_change(ctx, due_offset):
    """The tick skips a row until ``next_change``: checked second by second over four minutes."""
    _incident(ctx, "a", 0)
    base = vm.build_rows(vm.snapshot(ctx, T0))[0]
    row = _row_due(base, T0 + due_offset)
    now, end = T0, T0 + timedelta(minutes=4)
    skipped = 0
    while now < end:
        until = vm.next_change(row, now)
        expected = vm.cells(row, now, SH)
        t = now + timedelta(seconds=1)
        while t < min(until, end):
            assert vm.cells(row, t, SH) == expected, (now, t, until)
            t += timedelta(seconds=1)
            skipped += 1
        now = max(until, now + timedelta(seconds=1))
    if due_offset > timedelta(minutes=11):
        assert skipped > 200        # a minute countdown is looked at about once a minute


def test_nothing_open_never_changes_by_time(ctx):
    _incident(ctx, "a", 0)
    base = vm.build_rows(vm.snapshot(ctx, T0))[0]
    from dataclasses import replace
    done = replace(base, obligation=replace(base.obligation, state="met"))
    assert vm.next_change(done, T0) is None


def test_counts_do_not_change_before_counts_change(ctx):
    _incident(ctx, "a", 0)           # oral due in 30 min, first report in 3 h
    _incident(ctx, "b", 100)
    data = vm.snapshot(ctx, T0)
    now = T0 - timedelta(minutes=30)
    for _ in range(6):
        until = vm.counts_change(data, now)
        assert until is not None and until > now
        here = vm.counts(data, now)
        for s in range(1, int((until - now).total_seconds()), 17):
            assert vm.counts(data, now + timedelta(seconds=s)) == here
        # It does change there (an edge is a threshold: at it, or a microsecond after).
        assert vm.counts(data, until + timedelta(microseconds=1)) != here
        now = until


def test_next_alarm_is_when_due_alarms_first_has_something(ctx):
    _incident(ctx, "a", 0)
    obls = list(vm.snapshot(ctx, T0).open_obligations())
    thresholds = [60, 30, 10, 0]
    fired = {k for k in alarms.due_alarms(obls, set(), thresholds, T0)}   # as if fired at T0
    at = alarms.next_alarm_at(obls, fired, thresholds, T0)
    assert at == T0 + timedelta(minutes=20)                               # the oral report's 10-minute alarm
    for s in (1, 600, 1199):
        assert alarms.due_alarms(obls, fired, thresholds, T0 + timedelta(seconds=s)) == []
    assert [k.threshold for k in alarms.due_alarms(obls, fired, thresholds, at)] == [10]
    everything = {alarms.AlarmKey(o.incident_id, o.regime, o.stage, o.seq, m) for o in obls for m in thresholds}
    assert alarms.next_alarm_at(obls, everything, thresholds, T0) is None
