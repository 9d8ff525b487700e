"""Warnings from above (预警) and the school's response (预警响应).

A warning has a level (red/orange/yellow/blue ↔ grades I–IV, the colours
the county plans use), a source, its content, when it was received and until
when it is valid. While it is active (not lifted, not expired) the board of
every session shows it in its level's colour and words; its required actions
become a checklist per department (the plan: 加强对校各部门…检测，做好应急
处理准备); lifting records who and when.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from models import audit
from models.banners import Banner
from models.context import Context
from models.errors import NotFound, ValidationError
from models.i18n import t
from models.prevention_config import warning_departments
from models.roles import require
from models.tables import Warning, WarningAction
from models.timeparse import fmt_local
from models.text import clean_text

LEVELS = ("red", "orange", "yellow", "blue")
GRADE_OF_LEVEL = {"red": "I", "orange": "II", "yellow": "III", "blue": "IV"}
LEVEL_ALIASES = {"红": "red", "红色": "red", "橙": "orange", "橙色": "orange", "黄": "yellow",
                 "黄色": "yellow", "蓝": "blue", "蓝色": "blue", "i": "red", "ii": "orange",
                 "iii": "yellow", "iv": "blue", "1": "red", "2": "orange", "3": "yellow", "4": "blue"}
TEXT_MAX = 20000


def _clean(value: Any, name: str, required: bool = False, limit: int = TEXT_MAX) -> str:
    return clean_text(value, name, required, limit)


def parse_level(text: str) -> str:
    raw = (text or "").strip().lower()
    level = raw if raw in LEVELS else LEVEL_ALIASES.get(raw.removesuffix("预警").strip())
    if level is None:
        raise ValidationError({"warning_level": ("prevention.error.level", {"text": text})})
    return level


def level_words(level: str) -> str:
    """红色预警 / Red warning (grade I)."""
    return t(f"prevention.warning.level.{level}")


def is_active(w: Warning, now: datetime) -> bool:
    return w.lifted_at is None and (w.valid_until is None or w.valid_until > now)


def status_of(w: Warning, now: datetime) -> str:
    if w.lifted_at is not None:
        return "lifted"
    if w.valid_until is not None and w.valid_until <= now:
        return "expired"
    return "active"


def get_warning(ref: Any) -> Warning:
    text = str(ref).strip()
    row = Warning.get_or_none(Warning.id == int(text)) if text.isdigit() else None
    if row is None:
        raise NotFound("prevention.error.warning_not_found", ref=text)
    return row


def list_warnings(now: datetime, include_inactive: bool = False) -> list[Warning]:
    """Active first, most severe first, newest first."""
    q = Warning.select().order_by(Warning.received_at.desc())
    if not include_inactive:
        q = q.where(Warning.lifted_at.is_null() & (Warning.valid_until.is_null() | (Warning.valid_until > now)))
    rows = list(q)
    return sorted(rows, key=lambda w: (not is_active(w, now), LEVELS.index(w.level)
                                       if w.level in LEVELS else 9))


def active_warnings(now: datetime) -> list[Warning]:
    return list_warnings(now)


def actions_of(w: Warning) -> list[WarningAction]:
    return list(WarningAction.select().where(WarningAction.warning == w).order_by(WarningAction.id))


@dataclass
class Progress:
    done: int
    total: int


def progress(w: Warning) -> Progress:
    acts = actions_of(w)
    return Progress(sum(1 for a in acts if a.done_at is not None), len(acts))


def default_actions(ctx: Context) -> list[tuple[str, str]]:
    """The plan's response: every department steps up its checks and gets ready."""
    return [(dept, t("prevention.warning.default_action")) for dept in warning_departments(ctx.settings)]


def parse_actions(text: str) -> list[tuple[str, str]]:
    """``部门：措施`` (or ``DEPT: action``) per line; a line without a department is refused."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        dept, sep, action = line.partition("：")
        if not sep:
            dept, sep, action = line.partition(":")
        if not sep or not dept.strip() or not action.strip():
            raise ValidationError({"warning_action": ("prevention.error.action_spec", {"text": line.strip()})})
        out.append((dept.strip(), action.strip()))
    return out


def add_warning(ctx: Context, level: str, *, source: str, content: str, received_at: datetime | None = None,
                valid_until: datetime | None = None,
                actions: Iterable[tuple[str, str]] | None = None) -> Warning:
    require(ctx.actor, "officer")
    now = ctx.now()
    errors = {}
    clean: dict[str, Any] = {}
    for name, fn in (("warning_level", lambda: parse_level(level)),
                     ("warning_source", lambda: _clean(source, "warning_source", True, 200)),
                     ("warning_content", lambda: _clean(content, "warning_content", True))):
        try:
            clean[name.removeprefix("warning_")] = fn()
        except ValidationError as exc:
            errors.update(exc.fields)
    received = received_at or now
    if received > now + timedelta(minutes=1):
        errors["warning_received_at"] = ("error.time_future", {})
    if valid_until is not None and valid_until <= received:
        errors["warning_valid_until"] = ("prevention.error.valid_until", {})
    acts = list(actions) if actions is not None else default_actions(ctx)
    clean_acts = []
    for dept, action in acts:
        try:
            clean_acts.append((_clean(dept, "warning_department", True, 100), _clean(action, "warning_action", True, 1000)))
        except ValidationError as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationError(errors)
    with ctx.store.write():
        w = Warning.create(level=clean["level"], source=clean["source"], content=clean["content"],
                           received_at=received, valid_until=valid_until, created_by=ctx.actor.username)
        for dept, action in clean_acts:
            WarningAction.create(warning=w, department=dept, action=action)
        audit.record(ctx, "warning.create", "warning", w.id,
                     {"level": [None, w.level], "source": [None, w.source], "content": [None, w.content],
                      "received_at": [None, received.isoformat()],
                      "valid_until": [None, valid_until.isoformat() if valid_until else None],
                      "actions": [None, [f"{d}: {a}" for d, a in clean_acts]]})
    return w


def add_action(ctx: Context, ref: Any, department: str, action: str) -> WarningAction:
    require(ctx.actor, "officer")
    w = get_warning(ref)
    dept = _clean(department, "warning_department", True, 100)
    text = _clean(action, "warning_action", True, 1000)
    with ctx.store.write():
        row = WarningAction.create(warning=w, department=dept, action=text)
        audit.record(ctx, "warning.action_add", "warning", w.id, {"action": [None, f"{dept}: {text}"]})
    return row


def set_action_done(ctx: Context, action_id: int, done: bool = True) -> WarningAction:
    """Tick (or untick) a department's action; recording it twice changes nothing."""
    require(ctx.actor, "officer")
    row = WarningAction.get_or_none(WarningAction.id == action_id)
    if row is None:
        raise NotFound("prevention.error.action_not_found", ref=action_id)
    if (row.done_at is not None) == done:
        return row
    now = ctx.now()
    with ctx.store.write():
        cond = WarningAction.done_at.is_null(True) if done else WarningAction.done_at.is_null(False)
        changes = {"done_at": now, "done_by": ctx.actor.username} if done else {"done_at": None, "done_by": None}
        WarningAction.update(changes).where((WarningAction.id == row.id) & cond).execute()
        audit.record(ctx, "warning.action_done" if done else "warning.action_undone", "warning",
                     row.warning_id, {"action": [None, f"{row.department}: {row.action}"]})
    return WarningAction.get_by_id(row.id)


def lift_warning(ctx: Context, ref: Any, reason: str = "", expected_version: int | None = None) -> Warning:
    require(ctx.actor, "officer")
    w = get_warning(ref)
    if w.lifted_at is not None:
        raise ValidationError({"warning": ("prevention.error.already_lifted", {})})
    reason = _clean(reason, "reason", limit=2000)
    version = w.version if expected_version is None else expected_version
    now = ctx.now()
    # Merged from the version read (models.merge): lifting is kept apart from edits of other
    # fields; lifted twice at once, the second one is a conflict naming who lifted it first.
    from models.merge import merge_save, plain_view
    w, _ = merge_save(ctx, Warning, w.id, "warning", {"lifted_at": now, "lifted_by": ctx.actor.username},
                      base_version=version, view=plain_view(("lifted_at", "lifted_by")),
                      columns=lambda row, applied: applied, action="warning.lift", reason=reason,
                      label=(w.content or w.source or "")[:20])
    return w


def progress_many(ids: list[int]) -> dict[int, Progress]:
    """Done/total per warning in one query (the board asks on every re-read)."""
    from peewee import fn
    out = {i: Progress(0, 0) for i in ids}
    if not ids:
        return out
    q = (WarningAction.select(WarningAction.warning, fn.COUNT(WarningAction.id).alias("total"),
                              fn.COUNT(WarningAction.done_at).alias("done"))
         .where(WarningAction.warning.in_(ids)).group_by(WarningAction.warning))
    for row in q:
        out[row.warning_id] = Progress(row.done, row.total)
    return out


def banner_text(ctx: Context, w: Warning, p: Progress | None = None) -> str:
    p = p or progress(w)
    until = (fmt_local(w.valid_until, ctx.zone, with_zone=False)[5:] if w.valid_until
             else t("prevention.warning.until_lifted"))
    return t("prevention.banner.warning", level=level_words(w.level), source=w.source,
             content=w.content.splitlines()[0] if w.content else "", done=p.done, total=p.total, until=until)


def banners(ctx: Context, now: datetime) -> list[Banner]:
    """Every active warning, most severe first, in its level's colour."""
    active = active_warnings(now)
    prog = progress_many([w.id for w in active])
    return [Banner(key=f"warning-{w.id}", text=banner_text(ctx, w, prog[w.id]), level=w.level) for w in active]
