"""Call trees: who to phone, in what order, for each situation.

A step names a role (any active contact holding it will do) or one
particular contact. ``progress`` is a pure function of the steps, the
contacts and an incident's calls: it says which steps are done, which were
tried without an answer, and who to call next.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from peewee import fn

from models import audit
from models.contacts import (dial_number, display_name, get_contact, is_placeholder, load_defaults, resolve_role,
                             role_label)
from models.errors import ConflictError, ValidationError
from models.i18n import pick
from models.roles import require
from models.tables import CallLog, CallTreeStep, Contact

DEFAULT_SITUATION = "new_incident"
_SITUATION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def situation_name(situation: str) -> str:
    for tree in load_defaults().trees:
        if tree.id == situation:
            return tree.name
    return situation


def situations() -> list[str]:
    """The shipped situations first (in the file's order), then any an admin added."""
    stored = {s for (s,) in CallTreeStep.select(CallTreeStep.situation).distinct().tuples()}
    shipped = [t.id for t in load_defaults().trees if t.id in stored]
    return shipped + sorted(stored - set(shipped))


def steps(situation: str) -> list[CallTreeStep]:
    return list(CallTreeStep.select().where(CallTreeStep.situation == situation)
                .order_by(CallTreeStep.position, CallTreeStep.id))


def tree_version(situation: str) -> int:
    """Every save stamps all of a tree's rows with one higher version: this is the tree's version."""
    return CallTreeStep.select(fn.MAX(CallTreeStep.version)).where(
        CallTreeStep.situation == situation).scalar() or 0


def step_label(step: CallTreeStep) -> str:
    if step.contact_id is not None:
        c = Contact.get_or_none(Contact.id == step.contact_id)
        if c is not None:
            return f"{role_label(c.role)} {c.name}".strip() if c.name else role_label(c.role)
    return role_label(step.role)


def parse_entry(token: str) -> dict[str, Any]:
    """``registrar`` / ``学籍管理员`` (a role) or ``#12`` (one contact)."""
    text = (token or "").strip()
    if text.startswith("#"):
        c = get_contact(text)
        return {"contact": c.id, "role": None}
    return {"role": resolve_role(text), "contact": None}


def _check_entry(entry: dict) -> dict[str, Any]:
    if entry.get("contact") is not None:
        return {"contact": get_contact(f"#{int(entry['contact'])}").id, "role": None}
    return {"role": resolve_role(entry.get("role") or ""), "contact": None}


def set_tree(ctx, situation: str, entries: Sequence[str | dict], expected_version: int | None = None) -> list[CallTreeStep]:
    """Replace one situation's call order as a whole; a stale ``expected_version`` is refused."""
    require(ctx.actor, "admin")
    situation = (situation or "").strip()
    if not _SITUATION_ID.match(situation):
        raise ValidationError({"call_tree.situation": ("error.contacts.situation_invalid", {"value": situation})})
    parsed = [parse_entry(e) if isinstance(e, str) else _check_entry(e) for e in entries]
    before = [step_label(s) for s in steps(situation)]
    with ctx.store.write():
        current = tree_version(situation)
        wanted = [(e.get("role"), e.get("contact")) for e in parsed]
        stored = [(s.role, s.contact_id) for s in steps(situation)]
        if wanted == stored:
            return steps(situation)       # the same order already: nothing to write, no conflict
        if expected_version is not None and expected_version != current:
            # The order is one field: changed by both, differently, it is a conflict for it.
            from models.merge import FieldConflict
            raise ConflictError("call_tree", situation, expected_version, current,
                                current={"steps": before}, label=situation_name(situation),
                                conflicts=[FieldConflict("steps", None, before, [str(e) for e in entries])])
        CallTreeStep.delete().where(CallTreeStep.situation == situation).execute()
        for pos, e in enumerate(parsed, start=1):
            CallTreeStep.create(situation=situation, position=pos, role=e.get("role"),
                                contact=e.get("contact"), version=current + 1)
        after = [step_label(s) for s in steps(situation)]
        audit.record(ctx, "call_tree.update", "call_tree", situation, {"steps": [before, after]})
    return steps(situation)


# ---------------------------------------------------------------- progress for one incident

@dataclass
class StepStatus:
    position: int
    role: str | None
    label: str
    contacts: list[Contact]
    state: str                      # reached | tried | pending | empty
    attempts: int = 0
    reached_by: CallLog | None = None
    next_contact: Contact | None = None
    last_outcome: str | None = None


@dataclass
class TreeProgress:
    situation: str
    steps: list[StepStatus] = field(default_factory=list)

    @property
    def next_step(self) -> StepStatus | None:
        for s in self.steps:
            if s.state in ("pending", "tried"):
                return s
        return None

    @property
    def next_contact(self) -> Contact | None:
        step = self.next_step
        return step.next_contact if step else None

    @property
    def reached_contact_ids(self) -> set[int]:
        return {s.reached_by.contact_id for s in self.steps if s.reached_by and s.reached_by.contact_id}


def _step_contacts(step: CallTreeStep, contacts: Sequence[Contact]) -> list[Contact]:
    if step.contact_id is not None:
        return [c for c in contacts if c.id == step.contact_id and c.active]
    holders = [c for c in contacts if c.role == step.role and c.active]
    holders.sort(key=lambda c: (c.sort, c.id))
    filled = [c for c in holders if not is_placeholder(c)]
    return filled or holders


def _matches(step: CallTreeStep, call: CallLog) -> bool:
    if step.contact_id is not None:
        return call.contact_id == step.contact_id
    return call.contact_role == step.role


def progress(tree_steps: Sequence[CallTreeStep], contacts: Sequence[Contact], calls: Iterable[CallLog],
             situation: str = DEFAULT_SITUATION) -> TreeProgress:
    """Where the call tree stands, given the calls made so far (oldest first)."""
    calls = sorted(calls, key=lambda c: (c.at, c.id))
    out = TreeProgress(situation)
    for step in tree_steps:
        people = _step_contacts(step, contacts)
        mine = [c for c in calls if _matches(step, c)]
        reached = next((c for c in mine if c.outcome == "reached"), None)
        tried = {c.contact_id for c in mine}
        callable_ = [p for p in people if dial_number(p)]
        if reached:
            state = "reached"
        elif not callable_:
            state = "empty"     # nobody with a number: shown as ∅, skipped when choosing who is next
        elif mine:
            state = "tried"
        else:
            state = "pending"
        nxt = None
        if state in ("pending", "tried"):
            untried = [p for p in callable_ if p.id not in tried]
            nxt = untried[0] if untried else callable_[0]
        label = (display_name(people[0]) if step.contact_id is not None and people else None)
        out.steps.append(StepStatus(
            position=step.position, role=step.role if step.contact_id is None else (people[0].role if people else step.role),
            label=f"{role_label(people[0].role)} {label}" if label else role_label(step.role),
            contacts=people, state=state, attempts=len(mine) - (1 if reached else 0),
            reached_by=reached, next_contact=nxt, last_outcome=mine[-1].outcome if mine else None))
    return out


def incident_progress(incident_id: int | None, situation: str = DEFAULT_SITUATION) -> TreeProgress:
    calls = list(CallLog.select().where(CallLog.incident == incident_id)) if incident_id else []
    return progress(steps(situation), list(Contact.select()), calls, situation)


def tree_names() -> list[tuple[str, str]]:
    return [(s, situation_name(s)) for s in situations()]


def describe(situation: str) -> str:
    return pick("、", ", ").join(step_label(s) for s in steps(situation))


SERIOUS_GRADES = ("I", "II", "III")      # 较大（III）及以上
_POLICE_YES = re.compile(r"^\s*(是|已|yes|y\b)", re.IGNORECASE)


def situation_for(incident) -> str:
    """The call tree that fits an incident: a suspected crime (a report says the police were
    called: 是否已报警 是/已报警) → ``suspected_crime``; grade III or above → ``serious_incident``;
    otherwise the new-incident tree. A tree an admin removed falls back to the default."""
    if incident is None:
        return DEFAULT_SITUATION
    from models.tables import Report
    have = set(situations())
    fields = [r.fields or {} for r in Report.select(Report.fields).where(Report.incident == incident.id)]
    if "suspected_crime" in have and any(_POLICE_YES.match(str(f.get("police_reported") or ""))
                                         for f in fields):
        return "suspected_crime"
    if "serious_incident" in have and incident.grade in SERIOUS_GRADES:
        return "serious_incident"
    return DEFAULT_SITUATION
