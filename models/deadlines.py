"""Obligations: what must be reported, by when, and where each stands.

``obligations()`` is a pure function of an incident's facts, its reports,
the policy in force and ``now``; the board, the CLI and the documents all
read the same answer. Nothing here touches the database or the clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from models.policy import PolicySet, Stage
from models.taxonomy import GRADE_ORDER

# Open states first, then the ones that need nothing more (or can get nothing more).
STATES = ("overdue", "due_soon", "pending", "conditional", "waiting", "missed", "met_late", "met",
          "not_applicable")
OPEN_STATES = ("overdue", "due_soon", "pending")
# Owed and not (or not in time) delivered: what a close checklist lists.
UNMET_STATES = (*OPEN_STATES, "missed", "met_late")


@dataclass(frozen=True)
class FactChange:
    """The grade and personal-information flag as they stood from ``at`` on."""

    at: datetime
    grade: str | None
    personal_info: bool


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
    created_at: datetime | None = None     # recorded then: nothing is owed in the record before
    closed_at: datetime | None = None      # closed or withdrawn then
    # What a leader gave as the reason for closing over an open obligation: ("regime.stage", reason).
    close_over: tuple[tuple[str, str], ...] = ()
    # Grade and personal-information flag over time, oldest first (empty: they never changed).
    history: tuple[FactChange, ...] = ()


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
    reason: str = ""          # translation key: why not applicable / waiting / missed / conditional
    submitted_at: datetime | None = None
    report_id: int | None = None
    stage_spec: Stage | None = field(default=None, compare=False, repr=False)
    position: int = 0         # the stage's place in the policy: ties are listed in the plan's order
    note: str = ""            # a person's own words (the leader's reason for closing over it)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def key(self) -> str:
        return f"{self.regime}.{self.stage}"

    @property
    def state_key(self) -> str:
        """The catalogue key of the word for this state. A report a leader closed over before
        its deadline came is missed for good, but it was never overdue: it reads 未报, not 逾期未报."""
        if self.state == "missed" and self.reason == "reason.closed_over_before_due":
            return "state.missed_unsent"
        return "state." + self.state

    @property
    def name(self) -> str:
        """The stage's name in the user's language, numbered within a series (续报2)."""
        if self.stage_spec is None:
            return self.key
        name = self.stage_spec.name
        return f"{name}{self.seq}" if self.stage_spec.repeatable and self.seq > 1 else name

    def sort_key(self) -> tuple:
        rank = STATES.index(self.state)
        due = self.due_at.timestamp() if self.due_at else float("inf")
        return (rank if self.state in OPEN_STATES else 10 + rank, due, self.code, self.position)


Key = tuple[str, str, int]
# The services accept a time up to a minute ahead (clocks of two sessions differ a little):
# what was stamped that far ahead of ``now`` already counts, so a report just sent never
# reads unsent for those seconds.
SKEW = timedelta(minutes=1)


def _originals(reports: Sequence[ReportFacts], now: datetime) -> dict[Key, ReportFacts]:
    """Per report, its first submission made by ``now``: a correction keeps the original's time."""
    out: dict[Key, ReportFacts] = {}
    for r in reports:
        if r.status not in ("submitted", "superseded") or r.submitted_at is None or r.submitted_at > now + SKEW:
            continue
        k = (r.regime, r.stage, r.seq)
        if k not in out or r.submitted_at < out[k].submitted_at:
            out[k] = r
    return out


def _latest_submission(originals: dict[Key, ReportFacts], regime: str,
                       stages: Iterable[str]) -> ReportFacts | None:
    wanted = set(stages)
    done = [r for (reg, st, _), r in originals.items() if reg == regime and st in wanted]
    return max(done, key=lambda r: r.submitted_at) if done else None


def _latest_submission_before(originals: dict[Key, ReportFacts], regime: str,
                              stages: Iterable[str], at: datetime) -> datetime | None:
    """The latest first submission of the anchor stages strictly before ``at`` (or None)."""
    wanted = set(stages)
    times = [r.submitted_at for (reg, st, _), r in originals.items()
             if reg == regime and st in wanted and r.submitted_at < at]
    return max(times) if times else None


def _state_for(due: datetime, now: datetime, due_soon_s: float) -> tuple[str, float]:
    left = (due - now).total_seconds()
    if left < 0:
        return "overdue", left
    if left < due_soon_s:
        return "due_soon", left
    return "pending", left


def _why_not(stage: Stage, grade: str | None, personal_info: bool) -> str | None:
    if stage.grades:
        if grade is None:
            return "reason.grade_undecided"
        if grade not in stage.grades:
            return "reason.grade_below"
    if stage.personal_info is True and not personal_info:
        return "reason.no_personal_info"
    return None


def _applicability(stage: Stage, inc: IncidentFacts) -> str | None:
    # 不确定 at intake counts as involved: the PIPL clocks run until it is decided.
    return _why_not(stage, inc.grade, inc.personal_info or inc.personal_info_unsure)


def as_of(incident: IncidentFacts, now: datetime) -> IncidentFacts:
    """The incident as the record stood at ``now``: later closes, handling ends and grades undone."""
    handling = incident.handling_closed_at
    if handling is not None and handling > now + SKEW:
        handling = None
    status, closed_at = incident.status, incident.closed_at
    if status in ("closed", "withdrawn") and closed_at is not None and closed_at > now:
        status, closed_at = "open", None
    if status in ("open", "handled"):
        status = "handled" if handling is not None else "open"
    grade, pi = incident.grade, incident.personal_info
    if incident.history:
        past = [c for c in incident.history if c.at <= now] or [incident.history[0]]
        grade, pi = past[-1].grade, past[-1].personal_info
    return replace(incident, status=status, closed_at=closed_at, handling_closed_at=handling,
                   grade=grade, personal_info=pi,
                   close_over=incident.close_over if status == "closed" else ())


def _lapsed_at(stage: Stage, history: Sequence[FactChange], now: datetime) -> datetime | None:
    """When the stage last stopped applying (a grade lowered, personal data ruled out), if it did."""
    applied, lapsed = False, None
    for c in history:
        if c.at > now:
            break
        ok = _why_not(stage, c.grade, c.personal_info) is None
        if applied and not ok:
            lapsed = c.at
        applied = ok
    return None if applied else lapsed


def obligations(incident: IncidentFacts, reports: Sequence[ReportFacts], policy: PolicySet,
                now: datetime, due_soon_minutes: int = 60) -> list[Obligation]:
    """Every obligation of one incident at ``now``, most urgent first.

    Only what the record held at ``now`` counts: reports submitted by then, the
    status and grade of then; before the incident was recorded nothing is owed.
    """
    if incident.created_at is not None and now + SKEW < incident.created_at:
        return []
    full_history = incident.history
    inc = as_of(incident, now)
    originals = _originals(reports, now)
    out: list[Obligation] = []
    due_soon_s = due_soon_minutes * 60
    over = dict(inc.close_over)

    def add(stage: Stage, seq: int, state: str, due: datetime | None, reason: str = "",
            sub: ReportFacts | None = None, note: str = "") -> None:
        timed = state in OPEN_STATES or state == "conditional"
        left = None if due is None or not timed else (due - now).total_seconds()
        out.append(Obligation(inc.id, inc.code, stage.regime, stage.id, seq, state, due,
                              left, stage.figure, reason, sub.submitted_at if sub else None,
                              sub.id if sub else None, stage, position, note))

    def due_of(stage: Stage, depth: int = 0) -> tuple[datetime | None, str]:
        anchor_reason = ""
        if stage.anchor == "occurred_at":
            anchor = inc.occurred_at
        elif stage.anchor == "discovered_at":
            anchor = inc.discovered_at
        elif stage.anchor == "handling_closed_at":
            anchor = inc.handling_closed_at
            anchor_reason = "reason.awaits_handling_closed"
        elif stage.anchor == "none":
            anchor = None
        else:
            prior = _latest_submission(originals, stage.regime, stage.anchor_stages)
            anchor = prior.submitted_at if prior else None
            anchor_reason = "reason.awaits_stage"
        due = stage.due_from(anchor, policy.zone) if anchor else None
        if stage.capped_by and depth < 3:
            try:
                cap, _ = due_of(policy.stage(stage.regime, stage.capped_by), depth + 1)
            except KeyError:
                cap = None
            if cap is not None and (due is None or cap < due):
                due = cap
        return due, anchor_reason

    for position, stage in enumerate(policy.stages()):
        if stage.optional:
            continue
        if stage.repeatable:
            # Each report of the series already sent stays listed, judged against its own
            # deadline (the latest earlier report of an anchor stage, plus the offset: what the
            # statistics count), then one obligation for the next report. A sent 续报1 must not
            # vanish from the record once 续报2 is owed.
            done = sorted(seq for (reg, st, seq) in originals if reg == stage.regime and st == stage.id)
            for sent_seq in done:
                sent = originals[(stage.regime, stage.id, sent_seq)]
                before = _latest_submission_before(originals, stage.regime, stage.anchor_stages,
                                                   sent.submitted_at)
                sent_due = stage.due_from(before, policy.zone) if before is not None else None
                add(stage, sent_seq, "met_late" if sent_due is not None and sent.submitted_at > sent_due
                    else "met", sent_due, sub=sent)
            seq = (max(done) + 1) if done else 1
        else:
            seq = 1
        due, anchor_reason = due_of(stage)
        sub = None if stage.repeatable else originals.get((stage.regime, stage.id, seq))
        met = ("met_late" if due is not None and sub.submitted_at > due else "met") if sub else ""

        why_not = _applicability(stage, inc)
        if why_not == "reason.grade_undecided":
            if sub:
                add(stage, seq, met, due, sub=sub)
            elif inc.status in ("closed", "withdrawn"):
                add(stage, seq, "not_applicable", None, why_not)
            else:
                # Its clock runs while the leaders decide: it applies if they grade it high enough.
                add(stage, seq, "conditional", due, "reason.conditional")
            continue
        if why_not:
            lapsed = _lapsed_at(stage, full_history, now)
            lapse_reason = ("reason.grade_lowered" if why_not == "reason.grade_below"
                            else "reason.personal_info_ruled_out")
            if lapsed is not None and sub:
                add(stage, seq, met, due, lapse_reason, sub)
            elif lapsed is not None and due is not None and due < lapsed:
                add(stage, seq, "missed", due, lapse_reason)
            else:
                add(stage, seq, "not_applicable", None, why_not)
            continue
        if sub is not None:
            add(stage, seq, met, due, sub=sub)
            continue
        if inc.status == "withdrawn":
            if due is not None and inc.closed_at is not None and due < inc.closed_at:
                add(stage, seq, "missed", due, "reason.withdrawn_after_due")
            else:
                add(stage, seq, "not_applicable", None, "reason.withdrawn")
            continue
        if stage.while_open and inc.handling_closed_at is not None:
            if due is not None and due < inc.handling_closed_at:
                add(stage, seq, "missed", due, "reason.handling_finished_unmet")
            else:
                add(stage, seq, "not_applicable", None, "reason.handling_finished")
            continue
        if inc.status == "closed":
            # Owed at the close and never sent: missed, for good. A leader who closed over it
            # gave the reason; one not yet due at an (older) close without a reason lapsed with it.
            note = over.get(stage.key, "")
            if due is not None and note:
                early = inc.closed_at is not None and due > inc.closed_at
                add(stage, seq, "missed", due, "reason.closed_over_before_due" if early else "reason.closed_over",
                    note=note)
            elif due is not None and inc.closed_at is not None and due < inc.closed_at:
                add(stage, seq, "missed", due, "reason.closed_unmet")
            else:
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
            if incident.discovered_at > stage.due_from(incident.occurred_at, policy.zone):
                return True
    return False


def next_obligation(obls: Sequence[Obligation]) -> Obligation | None:
    open_ = [o for o in obls if o.is_open]
    return min(open_, key=Obligation.sort_key) if open_ else None


def grade_rank(grade: str | None) -> int:
    return GRADE_ORDER.index(grade) + 1 if grade in GRADE_ORDER else 5
