"""The officer's profile: name, title and phone of each account (issue 15, item 7).

Reports take 联系人 / 联系电话 / 签发人 from the profile of whoever writes them
(``models.reports.prefill_values``), so the phone is typed once, here, and checked once:
a mobile (11 digits from 1, with or without +86) or a landline with its area code and,
if any, an extension. What the officer typed is kept in a normal written form
(``13987654321``, ``0874-3123456``, ``0874-3123456转8021``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from models import audit
from models.context import Context
from models.errors import ValidationError
from models.roles import require
from models.tables import User
from models.text import clean_text
from models.versioning import update_versioned

NAME_MAX = 60
TITLE_MAX = 60
_SEPARATORS = re.compile(r"[\s\-－—–()（）.·]")
_MOBILE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})")
_EXTENSION = re.compile(r"^(?P<main>.+?)(?:转|分机|ext\.?|x|#|-)(?P<ext>\d{1,6})$", re.IGNORECASE)
# 010, 02X (three digits) and 0XXX (four digits), then a 7- or 8-digit number (not starting with 0/1).
_LANDLINE = re.compile(r"(?:\+?86)?(0(?:10|2\d|[3-9]\d{2}))([2-9]\d{6,7})")


@dataclass(frozen=True)
class Profile:
    username: str
    name: str
    title: str
    phone: str
    role: str


def validate_phone(text: str | None, field: str = "phone") -> str:
    """The number in its written form, or a ValidationError that says what is accepted. '' stays ''."""
    raw = (text or "").strip()
    if not raw:
        return ""
    raw = raw.replace("＋", "+").translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    m = _MOBILE.fullmatch(_SEPARATORS.sub("", raw))
    if m:
        return m.group(1)
    ext = ""
    main = raw
    em = _EXTENSION.match(raw.replace(" ", ""))
    if em and _LANDLINE.fullmatch(_SEPARATORS.sub("", em.group("main"))):
        main, ext = em.group("main"), em.group("ext")
    lm = _LANDLINE.fullmatch(_SEPARATORS.sub("", main))
    if lm:
        return f"{lm.group(1)}-{lm.group(2)}" + (f"转{ext}" if ext else "")
    digits = re.sub(r"\D", "", raw)
    if 7 <= len(digits) <= 8 and not digits.startswith(("0", "1")):
        raise ValidationError({field: ("profile.error.area_code", {"value": text})})
    raise ValidationError({field: ("profile.error.phone", {"value": text})})


def profile_of(username: str | None) -> Profile | None:
    if not username:
        return None
    user = User.get_or_none(User.username == username)
    if user is None:
        return None
    return Profile(user.username, user.display_name or "", user.title or "", user.phone or "", user.role)


def set_profile(ctx: Context, username: str | None, *, name: str | None = None, title: str | None = None,
                phone: str | None = None, expected_version: int | None = None) -> User:
    """Your own profile (officers and up: a viewer writes no reports), or (admins) anyone's.
    ``None`` leaves a part as it is."""
    from models.accounts import get_user
    require(ctx.actor, "officer")
    user = get_user(username or ctx.actor.username)
    if user.username != ctx.actor.username:
        require(ctx.actor, "admin")
    changes: dict = {}
    if name is not None:
        changes["display_name"] = clean_text(name, "display_name", False, NAME_MAX) or user.username
    if title is not None:
        changes["title"] = clean_text(title, "title", False, TITLE_MAX)
    if phone is not None:
        changes["phone"] = validate_phone(phone)
    changes = {k: v for k, v in changes.items() if getattr(user, k) != v}
    if not changes:
        return user
    with ctx.store.write():
        before = {k: getattr(user, k) for k in changes}
        updated = update_versioned(User, user.id, user.version if expected_version is None else expected_version,
                                   changes, "user")
        audit.record(ctx, "user.profile", "user", user.username, audit.diff(before, changes))
    return updated


def display_name(username: str | None) -> str:
    """How a message names a person: the profile's name, or the login name when there is none
    (an account without a name, or one that is gone)."""
    if not username:
        return ""
    user = User.get_or_none(User.username == username)
    name = (user.display_name or "").strip() if user is not None else ""
    return name or username


def display_name_map(usernames) -> dict[str, str]:
    """``display_name`` of each of many people in one query (a timeline of 200 entries): the
    profile's name, or the login name when there is none."""
    wanted = {u for u in usernames if u}
    if not wanted:
        return {}
    found = {u.username: (u.display_name or "").strip()
             for u in User.select(User.username, User.display_name).where(User.username.in_(list(wanted)))}
    return {u: found.get(u) or u for u in wanted}


def display_names(usernames, joiner: str) -> str:
    """Several people, each by ``display_name``, sorted and without repeats."""
    return joiner.join(sorted({display_name(u) for u in usernames if u}))
