"""Turning an incident's stored values into short, literal, readable text for its screens."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from models.errors import ValidationError
from models.i18n import t
from models.taxonomy import load_taxonomy
from models.timeparse import fmt_duration, fmt_local

HIDDEN = "▒▒▒▒"
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
SECRET_FIELDS = {"title", "description", "reported_by", "text", "collected_by", "created_by", "contact",
                 "custody_note", "delay_reason"}
SKIP_FIELDS = {"created_at", "updated_at", "version", "id", "code", "is_drill", "grade_decided", "note",
               "evidence"}
# What a report event or an oral report logged by phone is worth showing; the rest is in the report.
SHOWN_FIELDS = {"report.": ("channel", "recipient", "late", "revision"), "call.oral_report": ("recipient",)}
CREATE_FIELDS = ("title", "category", "subcategory", "grade", "occurred_at", "discovered_at", "personal_info")
STYLE = {"overdue": "bold white on red", "urgent": "bold red", "due_soon": "bold yellow", "pending": "",
         "met": "green", "met_late": "dark_orange", "waiting": "dim", "not_applicable": "dim"}


def masked(value: Any, hide: bool) -> str:
    text = "" if value is None else str(value)
    return HIDDEN if hide and text else text


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def escalation(ob, settings) -> tuple[str, str]:
    """The board's words: overdue with how long, urgent inside the last minutes, due soon, …"""
    state = ob.state
    if state == "due_soon" and ob.seconds_left is not None and ob.seconds_left < settings.urgent_minutes * 60:
        state = "urgent"
    if state == "overdue" and ob.seconds_left is not None:
        return f"{t('state.overdue')} +{fmt_duration(-ob.seconds_left)}", STYLE[state]
    return t(ob.state_key if state == ob.state else "state." + state), STYLE.get(state, "")


def _value(field: str, value: Any, ctx, category: str | None = None) -> str:
    if field == "personal_info" and value is None:
        return t("incident.pi.unsure")
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("incident.yes") if value else t("incident.no")
    tax = load_taxonomy()
    try:
        if field == "category":
            return tax.category(str(value)).name
        if field == "grade":
            g = tax.grade(str(value))
            return f"{g.id} {g.name}" if g else "—"
        if field == "subcategory":   # never the internal id (子类：ransomware)
            # Ids like ``other`` exist in every category: the incident's own category first.
            own = [c for c in tax.categories if c.id == category]
            sub = next((s for c in own + list(tax.categories) for s in c.subcategories if s.id == value), None)
            if sub is not None:
                return sub.name
    except ValidationError:
        return str(value)
    if field == "channel":
        return t(f"report.channel.{value}", default=str(value))
    if field == "status":
        return t("status." + str(value), default=str(value))
    if field == "sha256":
        return str(value)[:16] + "…"
    if isinstance(value, str) and _INSTANT.match(value):
        try:
            at = datetime.fromisoformat(value)
            if at.tzinfo is not None:
                return fmt_local(at, ctx.zone, with_zone=False)
        except ValueError:
            pass
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"


def change_lines(entry, ctx, locked: bool) -> list[str]:
    """``field: old → new`` per changed field; a creation lists only the facts that matter."""
    changes = entry.changes or {}
    lines = []
    names = CREATE_FIELDS if entry.action.endswith(".create") else list(changes)
    for prefix, shown in SHOWN_FIELDS.items():
        if entry.action.startswith(prefix):
            names = shown
    for name in names:
        if name in SKIP_FIELDS or name not in changes:
            continue
        pair = changes[name]
        old, new = (pair if isinstance(pair, list) and len(pair) == 2 else (None, pair))
        if (entry.action.endswith(".create") or entry.action.startswith("report.")) and new in (None, "", False):
            continue
        hide = locked and name in SECRET_FIELDS
        label = t("field." + name, default=name)
        cats = changes.get("category")
        cats = cats if isinstance(cats, list) and len(cats) == 2 else [cats, cats]
        new_text = masked(_value(name, new, ctx, cats[1]), hide)
        if old is None or entry.action.endswith((".create", ".add")):
            lines.append(t("punct.label", label=label) + new_text)
        else:
            lines.append(t("punct.label", label=label) + f"{masked(_value(name, old, ctx, cats[0]), hide)} → {new_text}")
    return lines


def event_title(entry, ctx) -> str:
    """``首报 · 报送`` for a report's event, the action's name otherwise."""
    head = t(f"audit.action.{entry.action}", default=entry.action)
    key = None
    if entry.subject:
        key = entry.subject
    elif entry.action == "call.oral_report" and isinstance(entry.changes.get("stage"), str):
        regime, _, stage = entry.changes["stage"].partition(".")
        key = (regime, stage, 1)
    if key:
        try:
            stage = ctx.policy.stage(key[0], key[1])
        except Exception:  # a regime switched off since: show the ids
            return f"{key[0]}.{key[1]} · {head}"
        name = stage.name + (str(key[2]) if stage.repeatable and key[2] > 1 else "")
        return f"{name} · {head}"
    return head
