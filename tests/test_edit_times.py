"""Correcting an incident's times cannot put what was already done before it (issue 12, item 4)."""
from datetime import timedelta

import pytest

from models.errors import ValidationError
from models.incidents import get_incident, mark_handled, update_incident
from models.reports import Submission, open_report, save_draft, submit
from tests.conftest import T0
from tests.test_reports import FIRST_FULL, _incident


def _sent_first(ctx, clock):
    inc = _incident(ctx)                                   # occurred T0−40 min, discovered T0−20 min
    r = open_report(ctx, inc.id, "school_plan", "first")
    r = save_draft(ctx, r.id, r.version, FIRST_FULL)
    submit(ctx, r.id, r.version, Submission(before_oral_reason="电话未接通", channel="fax",
                                            recipient="县教育局基教科", at=T0 - timedelta(minutes=10)))
    return get_incident(inc.id)


def test_occurrence_moved_after_a_sent_report_is_refused_naming_both_times(ctx, clock):
    inc = _sent_first(ctx, clock)
    with pytest.raises(ValidationError) as exc:
        update_incident(ctx, inc.id, inc.version, {"occurred_at": T0 - timedelta(minutes=5),
                                                   "discovered_at": T0 - timedelta(minutes=4)},
                        reason="核对监控后更正")
    key, params = exc.value.fields["occurred_at"]
    assert key == "error.order.edit_after_report"
    assert params["stage"] == "首报" and "09:50" in params["at"] and "09:55" in params["time"]
    assert get_incident(inc.id).occurred_at == T0 - timedelta(minutes=40)      # nothing written
    # Earlier is fine: the report still comes after the incident.
    ok = update_incident(ctx, inc.id, inc.version, {"occurred_at": T0 - timedelta(minutes=50)},
                         reason="核对监控后更正")
    assert ok.occurred_at == T0 - timedelta(minutes=50)


def test_occurrence_moved_after_handling_finished_is_refused(ctx, clock):
    inc = _incident(ctx)
    inc = mark_handled(ctx, inc.id, at=T0 - timedelta(minutes=15))
    with pytest.raises(ValidationError) as exc:
        update_incident(ctx, inc.id, inc.version, {"occurred_at": T0 - timedelta(minutes=12),
                                                   "discovered_at": T0 - timedelta(minutes=11)},
                        reason="更正")
    assert exc.value.fields["occurred_at"][0] == "error.order.edit_after_handled"
