"""The contact panel's people: roles from the plan, contacts an admin fills in.

The roles (and the default call trees) are data in ``assets/contacts_default.toml``
with no personal data; on first use one empty contact per role is seeded so the
panel shows every role of the plan from day one. Names and numbers are the
school's and are only ever typed or imported by an admin.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from models import audit, tomlcache
from models.errors import ConflictError, NotFound, ValidationError
from models.i18n import pick
from models.roles import require
from models.tables import CallTreeStep, Contact, Setting
from models.versioning import row_dict

DEFAULTS_PATH = Path(__file__).resolve().parent.parent / "assets" / "contacts_default.toml"
SEEDED_KEY = "contacts_seeded"
TEXT_FIELDS = ("name", "department", "notes")
EDITABLE = ("name", "role", "department", "mobile", "office", "notes", "quiet_hours", "sort", "active")
LIMITS = {"name": 60, "department": 60, "notes": 500, "mobile": 40, "office": 40, "quiet_hours": 40}


@dataclass(frozen=True)
class RoleSpec:
    id: str
    zh: str
    en: str
    group: str          # plan | upstream
    department: str = ""
    note_zh: str = ""
    note_en: str = ""
    order: int = 0

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)

    @property
    def note(self) -> str:
        return pick(self.note_zh, self.note_en)

    @property
    def upstream(self) -> bool:
        return self.group == "upstream"


@dataclass(frozen=True)
class TreeSpec:
    id: str
    zh: str
    en: str
    roles: tuple[str, ...]

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)


@dataclass(frozen=True)
class Defaults:
    roles: tuple[RoleSpec, ...]
    trees: tuple[TreeSpec, ...]
    recipients: Mapping[str, str] = None  # regime id -> role id


@lru_cache(maxsize=1)
def load_defaults() -> Defaults:
    data = tomlcache.load(DEFAULTS_PATH)
    roles = tuple(RoleSpec(id=r["id"], zh=r["zh"], en=r["en"], group=r.get("group", "plan"),
                           department=r.get("department", ""), note_zh=r.get("note_zh", ""),
                           note_en=r.get("note_en", ""), order=i)
                  for i, r in enumerate(data.get("roles", [])))
    ids = {r.id for r in roles}
    trees = []
    for tr in data.get("trees", []):
        unknown = [r for r in tr["roles"] if r not in ids]
        if unknown:
            raise ValueError(f"{DEFAULTS_PATH.name}: tree {tr['id']} names unknown roles {unknown}")
        trees.append(TreeSpec(id=tr["id"], zh=tr["zh"], en=tr["en"], roles=tuple(tr["roles"])))
    recipients = dict(data.get("recipients", {}))
    bad = {k: v for k, v in recipients.items() if v not in ids}
    if bad:
        raise ValueError(f"{DEFAULTS_PATH.name}: recipients name unknown roles {bad}")
    return Defaults(roles=roles, trees=tuple(trees), recipients=recipients)


def role_spec(role_id: str) -> RoleSpec | None:
    for r in load_defaults().roles:
        if r.id == role_id:
            return r
    return None


def role_label(role_id: str | None) -> str:
    spec = role_spec(role_id or "")
    return spec.name if spec else (role_id or "")


def _strip_brackets(text: str) -> str:
    return re.sub(r"[（(].*?[）)]", "", text).strip()


def resolve_role(text: str) -> str:
    """A role by id, Chinese or English name (with or without the bracketed part)."""
    raw = (text or "").strip()
    if not raw:
        raise ValidationError({"contact.role": ("error.required", {})})
    low = raw.lower()
    for r in load_defaults().roles:
        names = {r.id, r.zh.lower(), r.en.lower(), _strip_brackets(r.zh).lower(), _strip_brackets(r.en).lower()}
        if low in names:
            return r.id
    choices = "、".join(r.id for r in load_defaults().roles)
    raise ValidationError({"contact.role": ("error.contacts.role_unknown", {"value": raw, "choices": choices})})


# ---------------------------------------------------------------- validation

_PHONE_OK = re.compile(r"^\+?[0-9()\- ]+(?:\s*(?:转|ext\.?|x)\s*[0-9]+)?$", re.IGNORECASE)
_QUIET = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–~～至到]\s*(\d{1,2}):(\d{2})$")


def _clean(value: Any, field: str) -> str:
    text = "" if value is None else str(value)
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()
    limit = LIMITS.get(field.split(".")[-1], 200)
    if len(text) > limit:
        raise ValidationError({field: ("error.too_long", {"max": limit})})
    return text


def clean_phone(value: Any, field: str = "contact.mobile") -> str:
    """Full-width digits and dashes (typed with a Chinese IME) become ASCII; letters are refused."""
    text = unicodedata.normalize("NFKC", _clean(value, field)).replace("－", "-")
    text = re.sub(r"\s+", " ", text)
    if not text:
        return ""
    if not _PHONE_OK.match(text) or sum(ch.isdigit() for ch in text) < 3:
        raise ValidationError({field: ("error.contacts.phone_invalid", {"value": text})})
    return text


def _parse_quiet(text: str) -> tuple[time, time] | None:
    m = _QUIET.match(unicodedata.normalize("NFKC", text.strip()))
    if not m:
        return None
    h1, m1, h2, m2 = (int(x) for x in m.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        return None
    return time(h1, m1), time(h2, m2)


def clean_quiet_hours(value: Any) -> str:
    """``22:00-07:00`` (may span midnight); several ranges separated by commas."""
    text = _clean(value, "contact.quiet_hours")
    if not text:
        return ""
    parts = [p.strip() for p in re.split(r"[,，;；]", text) if p.strip()]
    out = []
    for part in parts:
        rng = _parse_quiet(part)
        if rng is None:
            raise ValidationError({"contact.quiet_hours": ("error.contacts.quiet_hours_invalid", {"value": part})})
        out.append(f"{rng[0]:%H:%M}-{rng[1]:%H:%M}")
    return ", ".join(out)


def in_quiet_hours(quiet_hours: str, now: datetime, zone: ZoneInfo) -> bool:
    """Whether ``now`` (in the school's zone) falls inside any of the contact's quiet ranges."""
    if not quiet_hours:
        return False
    local = now.astimezone(zone).time().replace(second=0, microsecond=0)
    for part in quiet_hours.split(","):
        rng = _parse_quiet(part)
        if rng is None:
            continue
        start, end = rng
        if start <= end:
            if start <= local < end:
                return True
        elif local >= start or local < end:
            return True
    return False


def validate_contact(data: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Every field checked at once, so a form or an import row gets all its messages together."""
    errors: dict[str, tuple[str, dict]] = {}
    clean: dict[str, Any] = {}

    def attempt(name: str, fn) -> None:
        if partial and name not in data:
            return
        try:
            clean[name] = fn()
        except ValidationError as exc:
            errors.update(exc.fields)

    attempt("role", lambda: resolve_role(data.get("role", "")))
    for name in TEXT_FIELDS:
        attempt(name, lambda name=name: _clean(data.get(name), "contact." + name))
    attempt("mobile", lambda: clean_phone(data.get("mobile"), "contact.mobile"))
    attempt("office", lambda: clean_phone(data.get("office"), "contact.office"))
    attempt("quiet_hours", lambda: clean_quiet_hours(data.get("quiet_hours")))
    attempt("sort", lambda: _int(data.get("sort", 0), "contact.sort"))
    attempt("active", lambda: _bool(data.get("active", True), "contact.active"))
    if errors:
        raise ValidationError(errors)
    if "role" in clean:
        clean["upstream"] = role_spec(clean["role"]).upstream
    return clean


def _int(value: Any, field: str) -> int:
    if value in (None, ""):
        return 0
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError({field: ("error.contacts.not_a_number", {"value": value})})


_TRUE = {"1", "true", "yes", "y", "是", "在岗", "启用", "on"}
_FALSE = {"0", "false", "no", "n", "否", "停用", "不在岗", "off"}


def _bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return True
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError({field: ("error.contacts.not_yes_no", {"value": value})})


# ---------------------------------------------------------------- reading

def is_placeholder(c: Contact) -> bool:
    """A seeded role with nothing filled in yet."""
    return not (c.name or c.mobile or c.office)


def dial_number(c: Contact) -> str:
    return c.mobile or c.office


def display_name(c: Contact) -> str:
    return c.name or role_label(c.role)


def _order_key(c: Contact) -> tuple:
    spec = role_spec(c.role)
    group = 1 if (spec.upstream if spec else c.upstream) else 0
    return (group, spec.order if spec else 999, c.role, c.sort, c.id)


def list_contacts(include_inactive: bool = True) -> list[Contact]:
    q = Contact.select()
    if not include_inactive:
        q = q.where(Contact.active == True)  # noqa: E712
    return sorted(q, key=_order_key)


def grouped(contacts: Iterable[Contact]) -> list[tuple[RoleSpec, list[Contact]]]:
    """Every role of the plan in the plan's order (empty ones too), then upstream, then unknown roles."""
    by_role: dict[str, list[Contact]] = {}
    for c in contacts:
        by_role.setdefault(c.role, []).append(c)
    out = []
    for spec in sorted(load_defaults().roles, key=lambda r: (r.upstream, r.order)):
        out.append((spec, sorted(by_role.pop(spec.id, []), key=_order_key)))
    for role_id, rows in sorted(by_role.items()):
        out.append((RoleSpec(id=role_id, zh=role_id, en=role_id, group="plan", order=999), rows))
    return out


def get_contact(ref: Any) -> Contact:
    """By number id, exact name, or role (when exactly one active contact holds it)."""
    if isinstance(ref, Contact):
        return ref
    text = str(ref).strip()
    if not text:
        raise NotFound("error.contacts.contact_not_found", ref=text)
    if text.lstrip("#").isdigit():
        c = Contact.get_or_none(Contact.id == int(text.lstrip("#")))
        if c is not None:
            return c
    named = list(Contact.select().where(Contact.name == text))
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationError({"call.contact": ("error.contacts.contact_ambiguous",
                                           {"ref": text, "ids": ", ".join(f"#{c.id}" for c in named)})})
    try:
        role = resolve_role(text)
    except ValidationError:
        raise NotFound("error.contacts.contact_not_found", ref=text)
    holders = [c for c in Contact.select().where((Contact.role == role) & (Contact.active == True))  # noqa: E712
               .order_by(Contact.sort, Contact.id)]
    filled = [c for c in holders if not is_placeholder(c)] or holders
    if len(filled) == 1:
        return filled[0]
    if not filled:
        raise NotFound("error.contacts.contact_not_found", ref=text)
    raise ValidationError({"call.contact": ("error.contacts.contact_ambiguous",
                                       {"ref": text, "ids": ", ".join(f"#{c.id} {display_name(c)}" for c in filled)})})


# ---------------------------------------------------------------- writing

def ensure_seeded(ctx) -> bool:
    """Seed one empty contact per role and the default call trees, once per database.

    Runs on first use of the panel or the CLI. The marker is checked inside the
    write transaction, so two sessions starting together seed only once; a
    read-only database simply shows the roles without rows.
    """
    if Setting.get_or_none(Setting.key == SEEDED_KEY) is not None:
        return False
    with ctx.store.write():
        if Setting.get_or_none(Setting.key == SEEDED_KEY) is not None:
            return False
        defaults = load_defaults()
        have_roles = {r for (r,) in Contact.select(Contact.role).tuples()}
        made = []
        for spec in defaults.roles:
            if spec.id not in have_roles:
                c = Contact.create(role=spec.id, department=spec.department, upstream=spec.upstream,
                                   sort=0, active=True)
                made.append(spec.id)
        have_trees = {s for (s,) in CallTreeStep.select(CallTreeStep.situation).tuples()}
        trees = []
        for tree in defaults.trees:
            if tree.id in have_trees:
                continue
            for pos, role in enumerate(tree.roles, start=1):
                CallTreeStep.create(situation=tree.id, position=pos, role=role)
            trees.append(tree.id)
        Setting.create(key=SEEDED_KEY, value=True, updated_at=ctx.now())
        audit.record(ctx, "contact.seed", "contact", "", {"roles": made, "trees": trees}, actor="system")
    return True


def add_contact(ctx, data: Mapping[str, Any]) -> Contact:
    require(ctx.actor, "admin")
    clean = validate_contact(data)
    with ctx.store.write():
        c = Contact.create(**clean)
        audit.record(ctx, "contact.create", "contact", c.id,
                     {k: [None, v] for k, v in row_dict(c).items() if k not in ("id", "version")})
    return c


def edit_contact(ctx, ref: Any, changes: Mapping[str, Any], expected_version: int | None = None, *,
                 base: Mapping[str, Any] | None = None, resolved=()) -> Contact:
    """Change some fields, merged field by field from ``expected_version`` (None: the one stored now).

    A field someone else changed differently raises ``ConflictError`` for that field
    (the others are saved); a contact removed meanwhile is a clear refusal.
    """
    from models.merge import merge_save, plain_view
    require(ctx.actor, "admin")
    c = get_contact(ref)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({"contact." + k: ("error.not_editable", {}) for k in unknown})
    clean = validate_contact(changes, partial=True)
    if not audit.diff(row_dict(c), clean) and (expected_version is None or expected_version == c.version):
        return c
    name = display_name(c)

    def gone() -> Exception:
        return NotFound("error.contact_removed", name=name, who=_deleted_by(c.id))

    row, _ = merge_save(ctx, Contact, c.id, "contact", clean, base_version=expected_version,
                        view=plain_view(EDITABLE), columns=lambda row, applied: applied,
                        action="contact.update", base=base, resolved=resolved, label=name,
                        not_found=gone)
    return row


def _person(username: str) -> str:
    """Who changed or removed a contact, as every message names a person (王丽, not wangli)."""
    from models.profiles import display_name as profile_name
    return profile_name(username)


def _deleted_by(contact_id: int) -> str:
    from models.tables import AuditEvent
    ev = (AuditEvent.select(AuditEvent.actor).where((AuditEvent.entity == "contact")
                                                    & (AuditEvent.entity_id == str(contact_id))
                                                    & (AuditEvent.action == "contact.delete"))
          .order_by(AuditEvent.id.desc()).first())
    return _person(ev.actor) if ev else ""


def remove_contact(ctx, ref: Any, expected_version: int | None = None) -> dict[str, Any]:
    """Delete the contact; its calls keep the name and number they were made with.

    A call-tree step that named this person falls back to the person's role, so
    the tree keeps its shape. The full row goes into the audit event. The delete
    and its check run in one transaction: an edit saved after the version the
    remover read (``expected_version``, or the one read here) refuses the remove
    with the editor's name, so "removed" is never printed for a contact that stays.
    """
    require(ctx.actor, "admin")
    c = get_contact(ref)
    version = c.version if expected_version is None else expected_version
    name = display_name(c)
    with ctx.store.write():
        current = Contact.get_or_none(Contact.id == c.id)
        if current is None:
            raise NotFound("error.contact_removed", name=name, who=_deleted_by(c.id))
        if current.version != version:
            raise ConflictError("contact", c.id, version, current.version, current=row_dict(current),
                                label=name).with_key("error.contact_changed_before_remove",
                                                     name=name, who=_last_actor(c.id))
        snapshot = row_dict(current)
        (CallTreeStep.update(role=current.role, version=CallTreeStep.version + 1)
         .where((CallTreeStep.contact == c.id) & (CallTreeStep.role.is_null())).execute())
        deleted = Contact.delete().where((Contact.id == c.id) & (Contact.version == version)).execute()
        if deleted != 1:
            raise ConflictError("contact", c.id, version, version + 1, label=name)
        audit.record(ctx, "contact.delete", "contact", c.id,
                     {k: [v, None] for k, v in snapshot.items() if k not in ("id", "version")})
    return snapshot


def _last_actor(contact_id: int) -> str:
    from models.tables import AuditEvent
    ev = (AuditEvent.select(AuditEvent.actor).where((AuditEvent.entity == "contact")
                                                    & (AuditEvent.entity_id == str(contact_id)))
          .order_by(AuditEvent.id.desc()).first())
    return _person(ev.actor) if ev else ""


def seed_if_possible(ctx) -> None:
    """Seed for a reader: a read-only or busy database still shows the roles, just without rows."""
    from models.errors import StoreError
    try:
        ensure_seeded(ctx)
    except StoreError:
        pass


def contact_json(c: Contact) -> dict[str, Any]:
    spec = role_spec(c.role)
    return {"id": c.id, "name": c.name, "role": c.role, "role_name": role_label(c.role),
            "group": spec.group if spec else "plan", "department": c.department, "mobile": c.mobile,
            "office": c.office, "notes": c.notes, "quiet_hours": c.quiet_hours, "upstream": c.upstream,
            "sort": c.sort, "active": c.active, "version": c.version}


def recipient_role(ctx, regime: str) -> str | None:
    """The role that receives this regime's reports: the policy's oral recipients first, then the data file."""
    try:
        roles = ctx.policy.regime(regime).oral_recipient_roles
    except KeyError:
        roles = ()
    return roles[0] if roles else load_defaults().recipients.get(regime)


def next_contact(ctx, incident_id: int | None = None, regime: str = "school_plan", stage: str = "") -> str | None:
    """For the board's alarm: whom to phone to meet this obligation, with the number ("李科长 0874-…").

    None when no such contact has a number yet, so the board falls back to the policy's recipient.
    """
    role = recipient_role(ctx, regime)
    if role is None:
        return None
    holders = [c for c in Contact.select().where((Contact.role == role) & (Contact.active == True))  # noqa: E712
               .order_by(Contact.sort, Contact.id) if dial_number(c)]
    if not holders:
        return None
    c = holders[0]
    return " ".join(p for p in (role_label(c.role), c.name, dial_number(c)) if p)
