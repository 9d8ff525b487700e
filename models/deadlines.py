"""Obligations: what must be reported, by when, and where each stands.

``obligations()`` is a pure function of an incident's facts, its reports,
the policy in force and ``now``; the board, the CLI and the documents all
read the same answer. Nothing here touches the database or the clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from models.policy import PolicySet, Stage
from models.taxonomy import GRADE_ORDER

STATES = ("overdue", "due_soon", "pending", "waiting", "met_late", "met", "not_applicable")
OPEN_STATES = ("overdue", "due_soon", "pending")


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    code: str
    title: str = ""
    category: str = ""
    grade: str | None = None
    occurred_at: datetime | None = None
    discovered_at: datetime | None = None
    handling_closed_at: datetime | None = None
    personal_info: bool = False
    personal_info_unsure: bool = False   # 不确定 at intake: the PIPL stages apply until decided
    status: str = "open"
    is_drill: bool = False


@dataclass(frozen=True)
class ReportFacts:
    regime: str
    stage: str
    seq: int = 1
    status: str = "draft"  # draft | submitted | superseded
    submitted_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class Obligation:
    incident_id: int
    code: str
    regime: str
    stage: str
    seq: int
    state: str
    due_at: datetime | None
    seconds_left: float | None
    figure: str
    reason: str = ""          # translation key for not_applicable / waiting
    submitted_at: datetime | None = None
    report_id: int | None = None
    stage_spec: Stage | None = field(default=None, compare=False, repr=False)
    position: int = 0         # the stage's place in the policy: ties are listed in the plan's order

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def sort_key(self) -> tuple:
        rank = STATES.index(self.state)
        due = self.due_at.timestamp() if self.due_at else float("inf")
        return (rank if self.state in OPEN_STATES else 10 + rank, due, self.code, self.position)


def _latest_submission(reports: Sequence[ReportFacts], regime: str, stages: Iterable[str]) -> ReportFacts | None:
    wanted = set(stages)
    done = [r for r in reports if r.regime == regime and r.stage in wanted
            and r.status == "submitted" and r.submitted_at is not None]
    return max(done, key=lambda r: r.submitted_at) if done else None


def _submitted(reports: Sequence[ReportFacts], regime: str, stage: str, seq: int) -> ReportFacts | None:
    """The submission that meets (regime, stage, seq); a correction keeps the first time."""
    hits = [r for r in reports if r.regime == regime and r.stage == stage and r.seq == seq
            and r.status in ("submitted", "superseded") and r.submitted_at is not None]
    return min(hits, key=lambda r: r.submitted_at) if hits else None


def _state_for(due: datetime, now: datetime, due_soon_s: float) -> tuple[str, float]:
    left = (due - now).total_seconds()
    if left < 0:
        return "overdue", left
    if left < due_soon_s:
        return "due_soon", left
    return "pending", left


def _applicability(stage: Stage, inc: IncidentFacts) -> str | None:
    if stage.grades:
        if inc.grade is None:
            return "reason.grade_undecided"
        if inc.grade not in stage.grades:
            return "reason.grade_below"
    if stage.personal_info is True and not (inc.personal_info or inc.personal_info_unsure):
        return "reason.no_personal_info"
    return None


def obligations(incident: IncidentFacts, reports: Sequence[ReportFacts], policy: PolicySet,
                now: datetime, due_soon_minutes: int = 60) -> list[Obligation]:
    """Every obligation of one incident at ``now``, most urgent first."""
    out: list[Obligation] = []
    due_soon_s = due_soon_minutes * 60
    withdrawn = incident.status == "withdrawn"

    def add(stage: Stage, seq: int, state: str, due: datetime | None, reason: str = "",
            sub: ReportFacts | None = None) -> None:
        left = None if due is None or state not in OPEN_STATES else (due - now).total_seconds()
        out.append(Obligation(incident.id, incident.code, stage.regime, stage.id, seq, state, due,
                              left, stage.figure, reason, sub.submitted_at if sub else None,
                              sub.id if sub else None, stage, position))

    for position, stage in enumerate(policy.stages()):
        if stage.optional:
            continue
        if withdrawn:
            add(stage, 1, "not_applicable", None, "reason.withdrawn")
            continue
        why_not = _applicability(stage, incident)
        if why_not:
            add(stage, 1, "not_applicable", None, why_not)
            continue

        if stage.repeatable:
            # One obligation for the next report in the series; earlier ones are history.
            done = sorted({r.seq for r in reports if r.regime == stage.regime and r.stage == stage.id
                           and r.status in ("submitted", "superseded") and r.submitted_at})
            seq = (max(done) + 1) if done else 1
        else:
            seq = 1

        # Anchor.
        anchor_reason = ""
        if stage.anchor == "occurred_at":
            anchor = incident.occurred_at
        elif stage.anchor == "discovered_at":
            anchor = incident.discovered_at
        elif stage.anchor == "handling_closed_at":
            anchor = incident.handling_closed_at
            anchor_reason = "reason.awaits_handling_closed"
        else:
            prior = _latest_submission(reports, stage.regime, stage.anchor_stages)
            anchor = prior.submitted_at if prior else None
            anchor_reason = "reason.awaits_stage"
        due = anchor + timedelta(minutes=stage.offset_minutes) if anchor else None

        sub = None if stage.repeatable else _submitted(reports, stage.regime, stage.id, seq)
        if sub is not None:
            late = due is not None and sub.submitted_at > due
            add(stage, seq, "met_late" if late else "met", due, sub=sub)
            continue
        if stage.while_open and incident.handling_closed_at is not None:
            add(stage, seq, "not_applicable", None, "reason.handling_finished")
            continue
        if incident.status == "closed":
            add(stage, seq, "not_applicable", None, "reason.closed")
            continue
        if due is None:
            add(stage, seq, "waiting", None, anchor_reason)
            continue
        state, _ = _state_for(due, now, due_soon_s)
        add(stage, seq, state, due)
    out.sort(key=Obligation.sort_key)
    return out


def needs_delay_reason(incident: IncidentFacts, policy: PolicySet) -> bool:
    """True when discovery came after a deadline that runs from occurrence (e.g. the 3 h first report)."""
    if incident.occurred_at is None or incident.discovered_at is None:
        return False
    for stage in policy.stages():
        if stage.late_discovery_needs_reason and stage.anchor == "occurred_at":
            if incident.discovered_at > incident.occurred_at + timedelta(minutes=stage.offset_minutes):
                return True
    return False


def next_obligation(obls: Sequence[Obligation]) -> Obligation | None:
    open_ = [o for o in obls if o.is_open]
    return min(open_, key=Obligation.sort_key) if open_ else None


def grade_rank(grade: str | None) -> int:
    return GRADE_ORDER.index(grade) + 1 if grade in GRADE_ORDER else 5
