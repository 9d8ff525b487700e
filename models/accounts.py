"""Accounts: users and roles, password checks with lockout, remembered-login tokens.

Every session (the registry terminal, a colleague over SSH, the CLI) verifies a
login against the shared database, so the verifier lives here; the OS keyring
only caches a random token for "remember me on this terminal" (models/secrets.py),
and the database keeps that token's hash so an admin can revoke it.

All changes are audited with the origin (local terminal or the SSH client's address).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models import audit
from models.context import Actor, Context
from models.errors import DomainError, LockedOut, NotFound, PermissionDenied, ValidationError
from models.passwords import (burn_time, check_password, make_verifier, needs_rehash, new_token,
                              token_hash, validate_password)
from models.roles import ROLES, require
from models.tables import LoginFailure, LoginToken, User
from models.timeparse import fmt_local
from models.versioning import update_versioned

USERNAME_RE = re.compile(r"[\w.\-]{2,32}")
NAME_MAX = 60
# A remembered login unused for this long is no longer honoured: a forgotten terminal
# should not stay logged in forever.
TOKEN_MAX_IDLE = timedelta(days=30)


class AuthenticationFailed(DomainError):
    key = "error.login_failed"


@dataclass
class UserInfo:
    username: str
    display_name: str
    role: str
    disabled: bool
    locked_until: datetime | None
    password_changed_at: datetime | None
    remembered_logins: int


def has_users() -> bool:
    return User.select().exists()


def get_user(username: str) -> User:
    user = User.get_or_none(User.username == (username or "").strip())
    if user is None:
        raise NotFound("error.user_unknown", user=username)
    return user


def actor_for(user: User, origin: str) -> Actor:
    return Actor(username=user.username, role=user.role, display_name=user.display_name, origin=origin)


def _as(ctx: Context, username: str) -> Context:
    """The same context with ``username`` as the audit's actor (login events name who tried)."""
    return replace(ctx, actor=Actor(username=username, role="viewer", origin=ctx.actor.origin))


def _clean_username(username: str) -> str:
    name = (username or "").strip()
    if not USERNAME_RE.fullmatch(name):
        raise ValidationError({"username": ("error.username_invalid", {})})
    return name


def _clean_display(name: str | None, username: str) -> str:
    text = "".join(ch for ch in (name or "") if ch.isprintable()).strip()
    if len(text) > NAME_MAX:
        raise ValidationError({"display_name": ("error.too_long", {"max": NAME_MAX})})
    return text or username


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError({"role": ("error.role_unknown", {"role": role, "roles": ", ".join(ROLES)})})
    return role


def _lock_text(ctx: Context, until: datetime) -> str:
    return fmt_local(until, ctx.zone)


# --- creating and changing accounts -------------------------------------------------------

def _insert_user(ctx: Context, username: str, role: str, display_name: str, password: str,
                 action: str) -> User:
    username = _clean_username(username)
    role = _check_role(role)
    display = _clean_display(display_name, username)
    validate_password(password, username, ctx.settings.password_min_length)
    verifier = make_verifier(password)
    now = ctx.now()
    with ctx.store.write():
        if User.select().where(User.username == username).exists():
            raise ValidationError({"username": ("error.username_taken", {"user": username})})
        user = User.create(username=username, display_name=display, role=role, password_hash=verifier,
                           password_changed_at=now, created_at=now)
        audit.record(ctx, action, "user", username,
                     {"role": [None, role], "display_name": [None, display]})
    return user


def bootstrap_admin(ctx: Context, username: str, display_name: str, password: str) -> User:
    """The first administrator of an empty database: nobody exists yet who could authorise it."""
    if has_users():
        raise DomainError("error.users_exist")
    name = (username or "").strip()
    return _insert_user(_as(ctx, name or "-"), username, "admin", display_name, password, "user.bootstrap")


def create_user(ctx: Context, username: str, role: str, display_name: str, password: str) -> User:
    require(ctx.actor, "admin")
    return _insert_user(ctx, username, role, display_name, password, "user.create")


def _other_admins(user: User) -> int:
    return (User.select().where((User.role == "admin") & (User.disabled == False)  # noqa: E712
                                & (User.id != user.id)).count())


def set_role(ctx: Context, username: str, role: str) -> User:
    require(ctx.actor, "admin")
    user = get_user(username)
    role = _check_role(role)
    if user.role == role:
        return user
    with ctx.store.write():
        if user.role == "admin" and _other_admins(user) == 0:
            raise DomainError("error.last_admin")
        updated = update_versioned(User, user.id, user.version, {"role": role}, "user")
        audit.record(ctx, "user.role", "user", user.username, {"role": [user.role, role]})
    return updated


def set_disabled(ctx: Context, username: str, disabled: bool) -> User:
    """Disabling also revokes the user's remembered logins: the account is closed everywhere."""
    require(ctx.actor, "admin")
    user = get_user(username)
    if user.disabled == disabled:
        return user
    now = ctx.now()
    with ctx.store.write():
        if disabled and user.role == "admin" and _other_admins(user) == 0:
            raise DomainError("error.last_admin")
        updated = update_versioned(User, user.id, user.version, {"disabled": disabled}, "user")
        revoked = 0
        if disabled:
            revoked = (LoginToken.update(revoked_at=now)
                       .where((LoginToken.user == user) & LoginToken.revoked_at.is_null()).execute())
        audit.record(ctx, "user.disable" if disabled else "user.enable", "user", user.username,
                     {"disabled": [not disabled, disabled], "revoked_logins": revoked})
    return updated


def unlock_user(ctx: Context, username: str) -> User:
    require(ctx.actor, "admin")
    user = get_user(username)
    with ctx.store.write():
        failures = LoginFailure.delete().where(LoginFailure.username == user.username).execute()
        before = user.locked_until
        updated = update_versioned(User, user.id, user.version, {"locked_until": None}, "user")
        audit.record(ctx, "user.unlock", "user", user.username,
                     {"locked_until": [before.isoformat() if before else None, None],
                      "failures_cleared": failures})
    return updated


def os_user_owns_database(store) -> bool:
    """True when this process runs as the OS user who owns the database file.

    That user can edit the file anyway, so letting them lift a lock takes nothing away;
    it means guesses from elsewhere can never shut the desk out for good.
    """
    if not hasattr(os, "geteuid"):
        return os.access(store.path, os.W_OK)   # Windows: whoever may write the file owns it
    try:
        return store.path.stat().st_uid == os.geteuid()
    except OSError:
        return False


def os_user_name() -> str:
    import getpass
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in the environment or the password database
        return str(os.geteuid()) if hasattr(os, "geteuid") else "?"


def unlock_local(ctx: Context, username: str) -> User:
    """``user unlock NAME --local``: the OS user who owns the file lifts a lock, no account needed.

    Audited as ``os:<login name>``, with the origin, like every other unlock.
    """
    if not os_user_owns_database(ctx.store):
        raise PermissionDenied("error.local_unlock_not_owner", path=str(ctx.store.path))
    user = get_user(username)
    os_name = "os:" + os_user_name()
    local = replace(ctx, actor=Actor(username=os_name, role="viewer", origin=ctx.actor.origin))
    with ctx.store.write():
        failures = LoginFailure.delete().where(LoginFailure.username == user.username).execute()
        fresh = User.get_by_id(user.id)
        before = fresh.locked_until
        User.update(locked_until=None, version=User.version + 1).where(User.id == user.id).execute()
        audit.record(local, "user.unlock", "user", user.username,
                     {"locked_until": [before.isoformat() if before else None, None],
                      "failures_cleared": failures, "via": "local"})
    return User.get_by_id(user.id)


def change_password(ctx: Context, username: str | None, new_password: str,
                    current_password: str | None = None) -> User:
    """Your own password needs the current one; someone else's needs the admin role.

    A changed password revokes every remembered login of that account, so a
    terminal that was remembered before the change has to log in again.
    """
    user = get_user(username or ctx.actor.username)
    own = user.username == ctx.actor.username
    if own:
        if current_password is None or not _checked(ctx, user, current_password, "passwd"):
            raise AuthenticationFailed("error.current_password_wrong")
        user = User.get_by_id(user.id)
    else:
        require(ctx.actor, "admin")
    validate_password(new_password, user.username, ctx.settings.password_min_length, "new_password")
    if check_password(new_password, user.password_hash):
        raise ValidationError({"new_password": ("error.password_same", {})})
    verifier = make_verifier(new_password)
    now = ctx.now()
    with ctx.store.write():
        updated = update_versioned(User, user.id, user.version,
                                   {"password_hash": verifier, "password_changed_at": now}, "user")
        revoked = (LoginToken.update(revoked_at=now)
                   .where((LoginToken.user == user) & LoginToken.revoked_at.is_null()).execute())
        audit.record(ctx, "user.passwd", "user", user.username,
                     {"password": "changed", "by": "self" if own else "admin", "revoked_logins": revoked})
    return updated


def revoke_logins(ctx: Context, username: str) -> int:
    """An admin withdraws every remembered login of an account (a lost laptop, a left colleague)."""
    require(ctx.actor, "admin")
    user = get_user(username)
    with ctx.store.write():
        n = (LoginToken.update(revoked_at=ctx.now())
             .where((LoginToken.user == user) & LoginToken.revoked_at.is_null()).execute())
        audit.record(ctx, "user.revoke_logins", "user", user.username, {"revoked_logins": n})
    return n


def list_users() -> list[UserInfo]:
    out = []
    for user in User.select().order_by(User.username):
        active = (LoginToken.select().where((LoginToken.user == user) & LoginToken.revoked_at.is_null())
                  .count())
        out.append(UserInfo(username=user.username, display_name=user.display_name, role=user.role,
                            disabled=user.disabled, locked_until=user.locked_until,
                            password_changed_at=user.password_changed_at, remembered_logins=active))
    return out


# --- logging in -----------------------------------------------------------------------------
#
# The attempt is counted *before* the slow hash is compared, in one ``BEGIN IMMEDIATE``
# transaction that also looks at the lock: however many sessions guess at once, no more
# than ``lockout_attempts`` comparisons are ever made inside one window (issue 13). An
# attempt whose process dies before the comparison stays counted, which errs on the safe side.

# The longest lock the doubling reaches: a desk locked for more than a day helps nobody.
LOCKOUT_CAP = timedelta(hours=24)
# What the trail calls a user name that is not an account: the typed text is never stored,
# since people type their password into the name field.
UNKNOWN_ACCOUNT = "?"


def lock_duration(settings, lockouts: int) -> timedelta:
    """The n-th lockout in a row lasts ``lockout_minutes`` × 2^(n−1), at most a day."""
    base = timedelta(minutes=max(0, settings.lockout_minutes))
    return min(LOCKOUT_CAP, base * (2 ** max(0, min(lockouts - 1, 16))))


def _lock(ctx: Context, user: User, count: int, why: str) -> datetime:
    """Lock ``user`` (inside a write): the next lockout in a row, twice as long as the last."""
    s = ctx.settings
    now = ctx.now()
    fresh = User.get_by_id(user.id)
    if fresh.locked_until is not None and fresh.locked_until > now:
        return fresh.locked_until
    n = (fresh.lockouts or 0) + 1
    until = now + lock_duration(s, n)
    User.update(locked_until=until, lockouts=n, version=User.version + 1).where(User.id == user.id).execute()
    audit.record(_as(ctx, user.username), "user.lockout", "user", user.username,
                 {"locked_until": [None, until.isoformat()], "lockouts": n},
                 reason=f"{count} failures within {s.lockout_window_minutes} min ({why})")
    # The lockout is the consequence; once it ends, the count starts again (the trail keeps them).
    LoginFailure.delete().where(LoginFailure.username == user.username).execute()
    return until


def _admit(ctx: Context, user: User, purpose: str) -> int:
    """Count one attempt on ``user`` before its hash is compared; refuse if locked or over the limit.

    Returns the attempt's row (deleted again on success). Raises ``LockedOut`` without
    comparing anything when the account is locked or the attempts in flight and failed
    within the window already reach the limit.
    """
    s = ctx.settings
    now = ctx.now()
    with ctx.store.write():
        fresh = User.get_or_none(User.id == user.id)
        locked = fresh.locked_until if fresh is not None else None
        if locked is None or locked <= now:
            window_start = now - timedelta(minutes=s.lockout_window_minutes)
            (LoginFailure.delete().where((LoginFailure.username == user.username)
                                         & (LoginFailure.at < window_start)).execute())
            count = LoginFailure.select().where(LoginFailure.username == user.username).count()
            if s.lockout_attempts <= 0 or count < s.lockout_attempts:
                return LoginFailure.create(username=user.username, at=now, origin=ctx.actor.origin).id
            locked = _lock(ctx, user, count, "attempts in flight")
        audit.record(_as(ctx, user.username), "login.refused", "user", user.username,
                     {"purpose": purpose, "why": "locked"})
    raise LockedOut(None, until=_lock_text(ctx, locked))


def _settle_failure(ctx: Context, user: User, purpose: str) -> datetime | None:
    """The compared password was wrong: audit it; lock at the threshold. Returns the lock's end."""
    s = ctx.settings
    with ctx.store.write():
        audit.record(_as(ctx, user.username), "login.fail", "user", user.username, {"purpose": purpose})
        count = LoginFailure.select().where(LoginFailure.username == user.username).count()
        if s.lockout_attempts > 0 and count >= s.lockout_attempts:
            return _lock(ctx, user, count, purpose)
    return None


def _unknown_failure(ctx: Context, purpose: str) -> None:
    """A name that is no account: one audit line, without what was typed."""
    with ctx.store.write():
        audit.record(_as(ctx, UNKNOWN_ACCOUNT), "login.fail", "user", UNKNOWN_ACCOUNT,
                     {"purpose": purpose, "account": "unknown"})


def _checked(ctx: Context, user: User, password: str, purpose: str) -> bool:
    """Admit, compare, settle: True when the password is right (the attempt is then forgotten)."""
    attempt = _admit(ctx, user, purpose)
    if check_password(password or "", user.password_hash):
        with ctx.store.write():
            LoginFailure.delete().where(LoginFailure.id == attempt).execute()
        return True
    until = _settle_failure(ctx, user, purpose)
    if until is not None:
        raise LockedOut(None, until=_lock_text(ctx, until))
    return False


def authenticate(ctx: Context, username: str, password: str, purpose: str = "login",
                 record_success: bool = True) -> Actor:
    """Check a password; count the attempt towards the lockout first; audit what happened.

    ``purpose`` is ``login`` (the app's login screen), ``unlock`` (the idle lock) or
    ``cli`` (a writing command). A successful CLI check is not logged as a login:
    the command's own audit event already names the actor and the origin.
    """
    username = (username or "").strip()
    user = User.get_or_none(User.username == username) if username else None
    if user is None:
        burn_time(password or "")
        _unknown_failure(ctx, purpose)
        raise AuthenticationFailed()
    if not _checked(ctx, user, password, purpose):
        raise AuthenticationFailed()
    user = User.get_by_id(user.id)
    if user.disabled:
        with ctx.store.write():
            audit.record(_as(ctx, username), "login.refused", "user", username,
                         {"purpose": purpose, "why": "disabled"})
        raise AuthenticationFailed("error.account_disabled")
    changes: dict = {}
    if user.locked_until is not None:
        changes["locked_until"] = None
    if user.lockouts:
        changes["lockouts"] = 0
    if needs_rehash(user.password_hash):
        changes["password_hash"] = make_verifier(password)
    with ctx.store.write():
        LoginFailure.delete().where(LoginFailure.username == username).execute()
        if changes:
            User.update(**changes, version=User.version + 1).where(User.id == user.id).execute()
        if record_success or changes:
            # A changed user row always has its event (``audit verify`` compares rows with events).
            action = {"unlock": "session.unlock"}.get(purpose, "login")
            audit.record(_as(ctx, username), action, "user", username,
                         {"via": "password", "purpose": purpose,
                          **({"reset": sorted(k for k in changes if k != "password_hash")}
                             if changes else {})})
    return actor_for(user, ctx.actor.origin)


def issue_token(ctx: Context, username: str, label: str = "") -> str:
    """A new remembered login for this terminal; returns the token for the OS keyring (never stored).

    Only for yourself, right after logging in: nobody mints a remembered login for someone else.
    """
    if (username or "").strip() != ctx.actor.username:
        raise PermissionDenied("error.token_not_yours")
    user = get_user(username)
    token = new_token()
    with ctx.store.write():
        row = LoginToken.create(user=user, token_hash=token_hash(token), label=label[:120],
                                created_at=ctx.now())
        audit.record(_as(ctx, user.username), "login.remember", "login_token", row.id, {"label": label[:120]})
    return token


def _live_token(token: str | None, now: datetime) -> LoginToken | None:
    if not token:
        return None
    row = LoginToken.get_or_none((LoginToken.token_hash == token_hash(token)) & LoginToken.revoked_at.is_null())
    if row is None:
        return None
    last = row.last_used_at or row.created_at
    if now - last > TOKEN_MAX_IDLE:
        return None
    # A lock stops password guesses, not this terminal's remembered login: guesses from
    # elsewhere must not shut the duty officer out of their own desk (issue 13).
    if row.user.disabled:
        return None
    return row


def login_with_token(ctx: Context, token: str | None, record: bool = True) -> Actor | None:
    """The account a remembered token stands for, or None if it was revoked, expired or closed."""
    now = ctx.now()
    row = _live_token(token, now)
    if row is None:
        return None
    user = row.user
    with ctx.store.write():
        LoginToken.update(last_used_at=now).where(LoginToken.id == row.id).execute()
        if record:
            audit.record(_as(ctx, user.username), "login", "user", user.username,
                         {"via": "remembered", "token": row.id})
    return actor_for(user, ctx.actor.origin)


def token_owner(token: str | None, now: datetime) -> str | None:
    """Who a live token belongs to, without using it."""
    row = _live_token(token, now)
    return row.user.username if row else None


def token_user(ctx: Context, token: str | None) -> str | None:
    """Who a token belongs to, without using it (so the CLI can compare it with ``--user``)."""
    return token_owner(token, ctx.now())


def revoke_token(ctx: Context, token: str | None, username: str | None = None) -> bool:
    """Log out a remembered login (the token from this terminal's keyring)."""
    if not token:
        return False
    row = LoginToken.get_or_none(LoginToken.token_hash == token_hash(token))
    if row is None or row.revoked_at is not None:
        return False
    who = username or row.user.username
    with ctx.store.write():
        LoginToken.update(revoked_at=ctx.now()).where(LoginToken.id == row.id).execute()
        audit.record(_as(ctx, who), "logout", "login_token", row.id, {"user": row.user.username})
    return True


def record_logout(ctx: Context) -> None:
    """A TUI logout that had no remembered login to revoke is still worth a line in the trail."""
    with ctx.store.write():
        audit.record(ctx, "logout", "user", ctx.actor.username, {"via": "app"})


def record_lock(ctx: Context, locked: bool, why: str = "idle") -> None:
    with ctx.store.write():
        audit.record(ctx, "session.lock" if locked else "session.unlock", "user", ctx.actor.username,
                     {"why": why})
