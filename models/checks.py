"""Scheduled prevention checks (隐患排查、安全检查、备份、口令、培训、演练、五看).

Each check is a recurring duty with a cadence, a responsible role or person
and a checklist. Completing it records who, when, the ticks and the findings
as a ``CheckRun`` and moves the due date on by the cadence rule in
``models.cadence`` (from the due date, not from the completion). A finding
can open an incident or a one-off follow-up check in the same transaction.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from models import audit
from models.banners import Banner
from models.cadence import CADENCES as _BASE_CADENCES
from models.cadence import day_start, due_state, first_due_day, local_day, next_due_day
from models.context import Context
from models.errors import NotFound, ValidationError
from models.i18n import get_language, t
from models.prevention_config import school_calendar
from models.roles import require
from models.tables import Check, CheckRun, Draft, Incident
from models.versioning import row_dict, update_versioned
from models.text import clean_text

DEFAULTS_FILE = Path(__file__).resolve().parent.parent / "assets" / "prevention" / "checks.toml"
CADENCES = _BASE_CADENCES + ("once",)
TITLE_MAX = 200
TEXT_MAX = 20000
# Overdue by this many days or more: the board banner turns from amber to red.
ESCALATE_DAYS = 7


def _clean(value: Any, name: str, required: bool = False, limit: int = TEXT_MAX) -> str:
    return clean_text(value, name, required, limit)


def item_text(item: Any) -> str:
    """A checklist item is a plain string (typed by the school) or a {zh, en} pair (shipped)."""
    if isinstance(item, dict):
        lang = get_language()
        return str(item.get(lang) or item.get("zh") or item.get("en") or "")
    return str(item)


@dataclass
class CheckView:
    id: int
    title: str
    cadence: str
    every_days: int | None
    responsible: str
    items: list[str]
    last_done_at: datetime | None
    next_due_at: datetime | None
    active: bool
    builtin: str | None
    version: int
    state: str          # overdue | due_today | upcoming | none | inactive
    days: int           # days overdue, or days until due

    @property
    def is_due(self) -> bool:
        return self.state in ("overdue", "due_today")

    def sort_key(self) -> tuple:
        rank = {"overdue": 0, "due_today": 1, "upcoming": 2, "none": 3, "inactive": 4}[self.state]
        due = self.next_due_at.timestamp() if self.next_due_at else float("inf")
        return (rank, due, self.id)


@lru_cache(maxsize=1)
def _shipped_titles() -> dict[str, dict[str, str]]:
    return {d["id"]: d["title"] for d in load_defaults()}


def display_title(check: Check) -> str:
    """A shipped duty whose title the school left as it was is shown in the user's language."""
    shipped = _shipped_titles().get(check.builtin or "")
    if shipped and check.title == shipped.get("zh"):
        return shipped.get(get_language()) or check.title
    return check.title


def view(check: Check, now: datetime, zone) -> CheckView:
    state, days = due_state(check.next_due_at, now, zone) if check.active else ("inactive", 0)
    return CheckView(id=check.id, title=display_title(check), cadence=check.cadence, every_days=check.every_days,
                     responsible=check.responsible, items=[item_text(i) for i in (check.checklist or [])],
                     last_done_at=check.last_done_at, next_due_at=check.next_due_at, active=check.active,
                     builtin=check.builtin, version=check.version, state=state, days=days)


def responsible_text(responsible: str) -> str:
    """A role id from the shipped duties in the user's language; a typed name as it is."""
    return t(f"prevention.responsible.{responsible}", default=responsible) if responsible else ""


def cadence_text(cadence: str, every_days: int | None = None) -> str:
    return t(f"prevention.cadence.{cadence}", n=every_days or "")


# ---------------------------------------------------------------- defaults


def load_defaults(path: Path = DEFAULTS_FILE) -> list[dict]:
    with path.open("rb") as fh:
        return tomllib.load(fh).get("check", [])


def seed_defaults(ctx: Context, path: Path = DEFAULTS_FILE) -> int:
    """Create each shipped duty the database does not have yet (by its id); never touch edited ones."""
    defaults = load_defaults(path)
    have = {c.builtin for c in Check.select(Check.builtin).where(Check.builtin.is_null(False))}
    missing = [d for d in defaults if d["id"] not in have]
    if not missing:
        return 0
    now = ctx.now()
    cal = school_calendar(ctx.settings)
    today = local_day(now, ctx.zone)
    created = 0
    with ctx.store.write():
        have = {c.builtin for c in Check.select(Check.builtin).where(Check.builtin.is_null(False))}
        for d in missing:
            if d["id"] in have:  # the other session seeded it a moment ago
                continue
            title = d["title"]["zh"]  # stored in Chinese, shown in the user's language
            due = first_due_day(d["cadence"], today, every_days=d.get("every_days"), cal=cal)
            row = Check.create(title=title, cadence=d["cadence"], every_days=d.get("every_days"),
                               anchor_day=due.day if d["cadence"] == "monthly" else None,
                               responsible=d.get("responsible", ""), checklist=list(d.get("items", [])),
                               next_due_at=day_start(due, ctx.zone), active=True, builtin=d["id"])
            audit.record(ctx, "check.seed", "check", row.id, {"title": [None, title], "builtin": [None, d["id"]]},
                         actor=ctx.actor.username if ctx.actor.username not in ("", "-") else "system")
            created += 1
    return created


# ---------------------------------------------------------------- reading


def get_check(ref: Any) -> Check:
    text = str(ref).strip()
    row = Check.get_or_none(Check.id == int(text)) if text.isdigit() else None
    if row is None:
        row = Check.get_or_none(Check.builtin == text)
    if row is None:
        raise NotFound("prevention.error.check_not_found", ref=text)
    return row


def list_checks(ctx: Context, now: datetime | None = None, *, due_only: bool = False,
                include_inactive: bool = False) -> list[CheckView]:
    """Due and overdue first (most overdue first), then by due date."""
    now = now or ctx.now()
    q = Check.select()
    if not include_inactive:
        q = q.where(Check.active == True)  # noqa: E712
    views = [view(c, now, ctx.zone) for c in q]
    if due_only:
        views = [v for v in views if v.is_due]
    return sorted(views, key=CheckView.sort_key)


def runs_of(check_ref: Any, limit: int = 50) -> list[CheckRun]:
    check = get_check(check_ref)
    return list(CheckRun.select().where(CheckRun.check == check).order_by(CheckRun.done_at.desc()).limit(limit))


@dataclass
class DueCounts:
    overdue: int = 0
    due_today: int = 0
    worst_days: int = 0


def due_counts(ctx: Context, now: datetime) -> DueCounts:
    counts = DueCounts()
    for v in list_checks(ctx, now, due_only=True):
        if v.state == "overdue":
            counts.overdue += 1
            counts.worst_days = max(counts.worst_days, v.days)
        else:
            counts.due_today += 1
    return counts


def banners(ctx: Context, now: datetime) -> list[Banner]:
    """One line on the board: checks overdue / due today; overdue escalates like a deadline."""
    out = _account_banners(ctx, now)
    c = due_counts(ctx, now)
    if not c.overdue and not c.due_today:
        return out
    if c.overdue:
        level = "error" if c.worst_days >= ESCALATE_DAYS else "warning"
        text = t("prevention.banner.checks_overdue", overdue=c.overdue, days=c.worst_days, today=c.due_today)
    else:
        level = "info"
        text = t("prevention.banner.checks_today", today=c.due_today)
    return [Banner(key="checks-due", text=text, level=level)] + out


def _account_banners(ctx: Context, now: datetime) -> list[Banner]:
    """Registry accounts that need a password change or sealing: part of the same duty."""
    from models.registry_accounts import flagged
    views = flagged(ctx, now)
    if not views:
        return []
    logins = "、".join(v.row.login for v in views[:3]) + ("…" if len(views) > 3 else "")
    return [Banner(key="accounts-flagged", level="warning",
                   text=t("prevention.banner.accounts", count=len(views), logins=logins))]


# ---------------------------------------------------------------- writing


def _validate_cadence(cadence: str, every_days: Any) -> tuple[str, int | None]:
    cadence = (cadence or "").strip()
    if cadence not in CADENCES:
        raise ValidationError({"check_cadence": ("prevention.error.cadence", {"allowed": ", ".join(CADENCES)})})
    if cadence == "every_n_days":
        try:
            n = int(every_days)
        except (TypeError, ValueError):
            n = 0
        if n < 1 or n > 3660:
            raise ValidationError({"check_every_days": ("prevention.error.every_days", {})})
        return cadence, n
    return cadence, None


def _clean_items(items: Any) -> list:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            out.append(item)
        else:
            text = _clean(item, "check_checklist", limit=500)
            if text:
                out.append(text)
    return out


def add_check(ctx: Context, title: str, cadence: str, *, every_days: int | None = None,
              responsible: str = "", checklist: list | None = None, first_due: date | None = None) -> Check:
    require(ctx.actor, "leader")
    return _insert_check(ctx, title, cadence, every_days=every_days, responsible=responsible,
                         checklist=checklist, first_due=first_due)


def _insert_check(ctx: Context, title: str, cadence: str, *, every_days: int | None = None,
                  responsible: str = "", checklist: list | None = None, first_due: date | None = None) -> Check:
    errors = {}
    try:
        title = _clean(title, "title", required=True, limit=TITLE_MAX)
    except ValidationError as exc:
        errors.update(exc.fields)
    try:
        cadence, every_days = _validate_cadence(cadence, every_days)
    except ValidationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    responsible = _clean(responsible, "check_responsible", limit=200)
    items = _clean_items(checklist)
    today = local_day(ctx.now(), ctx.zone)
    cal = school_calendar(ctx.settings)
    due = first_due or (today if cadence == "once" else first_due_day(cadence, today, every_days=every_days, cal=cal))
    with ctx.store.write():
        row = Check.create(title=title, cadence=cadence, every_days=every_days,
                           anchor_day=due.day if cadence == "monthly" else None, responsible=responsible,
                           checklist=items, next_due_at=day_start(due, ctx.zone), active=True)
        audit.record(ctx, "check.create", "check", row.id,
                     {k: [None, v] for k, v in row_dict(row).items() if k not in ("id", "version")})
    return row


EDITABLE = ("title", "cadence", "every_days", "responsible", "checklist", "next_due", "active")


def edit_check(ctx: Context, ref: Any, expected_version: int | None, changes: dict[str, Any]) -> Check:
    """Edit a duty (shipped ones too); ``next_due`` is a local date. Stale versions raise ConflictError."""
    require(ctx.actor, "leader")
    check = get_check(ref)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({k: ("error.not_editable", {}) for k in unknown})
    new: dict[str, Any] = {}
    if "title" in changes:
        new["title"] = _clean(changes["title"], "title", required=True, limit=TITLE_MAX)
    if "cadence" in changes or "every_days" in changes:
        cadence, every = _validate_cadence(changes.get("cadence", check.cadence),
                                           changes.get("every_days", check.every_days))
        new["cadence"], new["every_days"] = cadence, every
    if "responsible" in changes:
        new["responsible"] = _clean(changes["responsible"], "check_responsible", limit=200)
    if "checklist" in changes:
        new["checklist"] = _clean_items(changes["checklist"])
    if "active" in changes:
        new["active"] = bool(changes["active"])
    if changes.get("next_due") is not None:
        due: date = changes["next_due"]
        new["next_due_at"] = day_start(due, ctx.zone)
        if new.get("cadence", check.cadence) == "monthly":
            new["anchor_day"] = due.day
    elif new.get("cadence", check.cadence) == "monthly" and check.anchor_day is None and check.next_due_at:
        new["anchor_day"] = local_day(check.next_due_at, ctx.zone).day
    delta = audit.diff({k: getattr(check, k) for k in new}, new)
    if not delta:
        return check
    # Merged field by field from the version the form read (models.merge): a colleague's edit
    # of another field is kept; only a field both changed differently is a conflict.
    from models.merge import merge_save, plain_view
    names = tuple(new)
    row, _ = merge_save(ctx, Check, check.id, "check", new, base_version=expected_version,
                        view=plain_view(names), columns=lambda row, applied: applied,
                        action="check.update", label=check.title)
    return row


@dataclass
class FollowUp:
    """A one-off check raised by a finding (整改): what, by when, who."""

    title: str
    due: date
    responsible: str = ""


@dataclass
class Completion:
    run: CheckRun
    check: Check
    incident: Incident | None = None
    follow_up: Check | None = None
    late_days: int = 0


def complete_check(ctx: Context, ref: Any, *, findings: str = "", ticks: dict[str, bool] | None = None,
                   done_at: datetime | None = None, expected_version: int | None = None,
                   incident=None, follow_up: FollowUp | None = None) -> Completion:
    """Record a completed check and move its due date on.

    ``ticks`` maps each checklist item's text to ticked or not (missing = ticked);
    an unticked item is a finding and needs a word of explanation in ``findings``.
    ``incident`` is an ``IncidentInput`` to open from a finding, in the same transaction.
    """
    require(ctx.actor, "officer")
    check = get_check(ref)
    now = ctx.now()
    when = done_at or now
    if when > now + timedelta(minutes=1):
        raise ValidationError({"check_done_at": ("error.time_future", {})})
    findings = _clean(findings, "check_findings")
    items = [item_text(i) for i in (check.checklist or [])]
    ticks = dict(ticks or {})
    marks = {text: bool(ticks.get(text, True)) for text in items}
    if not all(marks.values()) and not findings:
        raise ValidationError({"check_findings": ("prevention.error.findings_for_unticked", {})})
    if not check.active:
        raise ValidationError({"check": ("prevention.error.check_inactive", {})})
    if follow_up is not None:
        follow_up.title = _clean(follow_up.title, "check_follow_up", required=True, limit=TITLE_MAX)
    cal = school_calendar(ctx.settings)
    done_day = local_day(when, ctx.zone)
    due_day = local_day(check.next_due_at, ctx.zone) if check.next_due_at else None
    late_days = (done_day - due_day).days if due_day and done_day > due_day else 0
    if check.cadence == "once":
        changes = {"last_done_at": when, "next_due_at": None, "active": False}
    else:
        nxt = next_due_day(check.cadence, due_day, done_day, every_days=check.every_days,
                           anchor_day=check.anchor_day, cal=cal)
        changes = {"last_done_at": when, "next_due_at": day_start(nxt, ctx.zone)}
    version = check.version if expected_version is None else expected_version
    with ctx.store.write():
        inc = None
        if incident is not None:
            from models.incidents import create_incident
            inc = create_incident(ctx, incident)
        fu = None
        if follow_up is not None:
            fu = _insert_check(ctx, follow_up.title, "once", responsible=follow_up.responsible,
                           first_due=follow_up.due)
        before = {k: getattr(check, k) for k in changes}
        check = update_versioned(Check, check.id, version, changes, "check")
        run = CheckRun.create(check=check, done_at=when, done_by=ctx.actor.username, findings=findings,
                              items=marks, due_at=before["next_due_at"], incident=inc, follow_up=fu)
        audit.record(ctx, "check.done", "check", check.id,
                     {**audit.diff(before, changes), "run": [None, run.id],
                      "unticked": [None, [k for k, v in marks.items() if not v]]},
                     findings or None)
    return Completion(run=run, check=check, incident=inc, follow_up=fu, late_days=late_days)


# ---------------------------------------------------------------- the completion form's draft

DRAFT_KIND = "check_done"


def save_form_draft(ctx: Context, check_id: int, payload: dict) -> None:
    """What was typed in the completion form, so a dropped SSH session loses a few seconds at most.

    Drafts are per user and check; they are not records (no audit, no version).
    """
    now = ctx.now()
    with ctx.store.write():
        (Draft.insert(owner=ctx.actor.username, kind=DRAFT_KIND, key=str(check_id), payload=payload, updated_at=now)
         .on_conflict(conflict_target=[Draft.owner, Draft.kind, Draft.key],
                      update={Draft.payload: payload, Draft.updated_at: now})
         .execute())


def load_form_draft(ctx: Context, check_id: int) -> dict | None:
    with ctx.store.read():
        row = Draft.get_or_none((Draft.owner == ctx.actor.username) & (Draft.kind == DRAFT_KIND)
                                & (Draft.key == str(check_id)))
    return dict(row.payload or {}) if row else None


def discard_form_draft(ctx: Context, check_id: int) -> None:
    with ctx.store.write():
        Draft.delete().where((Draft.owner == ctx.actor.username) & (Draft.kind == DRAFT_KIND)
                             & (Draft.key == str(check_id))).execute()
