"""Warnings from above: levels and words, active/expired/lifted, per-department actions, banners."""
from datetime import timedelta

import pytest

from models import audit
from models.banners import collect
from models.errors import ValidationError
from models.tables import AuditEvent, WarningAction
from models.warnings import (active_warnings, add_warning, actions_of, lift_warning, list_warnings, parse_level,
                             progress, set_action_done, status_of)
from tests.conftest import T0


@pytest.mark.parametrize("text,level", [("red", "red"), ("红", "red"), ("红色预警", "red"), ("II", "orange"),
                                        ("黄色", "yellow"), ("4", "blue"), ("Blue", "blue")])
def test_level_aliases(text, level):
    assert parse_level(text) == level


def test_default_actions_reach_every_department_of_the_plan(ctx):
    w = add_warning(ctx, "orange", source="县教育局", content="近期勒索病毒活跃")
    depts = {a.department for a in actions_of(w)}
    assert depts == {"教务处", "行政办", "政教处", "总务处", "学籍管理员"}
    assert progress(w).done == 0 and progress(w).total == 5


def test_banner_in_level_colour_and_words_until_lifted(ctx, clock):
    w = add_warning(ctx, "red", source="县教育局", content="学籍系统遭攻击预警\n详见通知",
                    valid_until=T0 + timedelta(days=2), actions=[("教务处", "全面排查"), ("学籍管理员", "更换口令")])
    [b] = collect(ctx, T0)
    assert b.level == "red" and b.key == f"warning-{w.id}"
    assert b.text.startswith("红色预警（Ⅰ级）") and "学籍系统遭攻击预警" in b.text and "0/2" in b.text
    assert "详见通知" not in b.text   # first line only on the board
    set_action_done(ctx, actions_of(w)[0].id)
    set_action_done(ctx, actions_of(w)[0].id)   # twice changes nothing
    assert "1/2" in collect(ctx, T0)[0].text
    assert AuditEvent.select().where(AuditEvent.action == "warning.action_done").count() == 1
    clock.advance(hours=1)
    lifted = lift_warning(ctx, w.id, "上级通知解除")
    assert lifted.lifted_by == "tester" and lifted.lifted_at == T0 + timedelta(hours=1)
    assert collect(ctx, clock.now()) == []
    assert status_of(lifted, clock.now()) == "lifted"
    with pytest.raises(ValidationError):
        lift_warning(ctx, w.id)
    assert audit.verify().ok


def test_expired_warning_leaves_the_board_but_stays_listed(ctx):
    w = add_warning(ctx, "blue", source="县教育局", content="节假日值守提醒", valid_until=T0 + timedelta(hours=3))
    assert active_warnings(T0 + timedelta(hours=2))
    later = T0 + timedelta(hours=4)
    assert active_warnings(later) == []
    assert [x.id for x in list_warnings(later, include_inactive=True)] == [w.id]
    assert status_of(w, later) == "expired"


def test_most_severe_first(ctx):
    add_warning(ctx, "blue", source="a", content="b")
    add_warning(ctx, "red", source="a", content="r")
    add_warning(ctx, "yellow", source="a", content="y")
    assert [w.level for w in active_warnings(T0)] == ["red", "yellow", "blue"]
    assert [b.level for b in collect(ctx, T0)] == ["red", "yellow", "blue"]


def test_bad_input_names_every_field_and_writes_nothing(ctx):
    with pytest.raises(ValidationError) as err:
        add_warning(ctx, "purple", source="", content="", received_at=T0 + timedelta(hours=1))
    assert set(err.value.fields) == {"warning_level", "warning_source", "warning_content", "warning_received_at"}
    with pytest.raises(ValidationError) as err:
        add_warning(ctx, "red", source="x", content="y", valid_until=T0 - timedelta(hours=1))
    assert "warning_valid_until" in err.value.fields
    assert WarningAction.select().count() == 0
