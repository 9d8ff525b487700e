"""Accounts: users and roles, password checks with lockout, remembered-login tokens.

Every session (the registry terminal, a colleague over SSH, the CLI) verifies a
login against the shared database, so the verifier lives here; the OS keyring
only caches a random token for "remember me on this terminal" (models/secrets.py),
and the database keeps that token's hash so an admin can revoke it.

All changes are audited with the origin (local terminal or the SSH client's address).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from models import audit
from models.context import Actor, Context
from models.errors import DomainError, LockedOut, NotFound, ValidationError
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


def change_password(ctx: Context, username: str | None, new_password: str,
                    current_password: str | None = None) -> User:
    """Your own password needs the current one; someone else's needs the admin role.

    A changed password revokes every remembered login of that account, so a
    terminal that was remembered before the change has to log in again.
    """
    user = get_user(username or ctx.actor.username)
    own = user.username == ctx.actor.username
    if own:
        if current_password is None or not check_password(current_password, user.password_hash):
            with ctx.store.write():
                _record_failure(ctx, user.username, user, "passwd")
            raise AuthenticationFailed("error.current_password_wrong")
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

def _record_failure(ctx: Context, username: str, user: User | None, purpose: str) -> datetime | None:
    """One failure row and its audit event; locks the account at the threshold. Inside a write."""
    s = ctx.settings
    now = ctx.now()
    actx = _as(ctx, username)
    LoginFailure.create(username=username, at=now, origin=ctx.actor.origin)
    audit.record(actx, "login.fail", "user", username, {"purpose": purpose})
    window_start = now - timedelta(minutes=s.lockout_window_minutes)
    LoginFailure.delete().where((LoginFailure.username == username) & (LoginFailure.at < window_start)).execute()
    count = LoginFailure.select().where(LoginFailure.username == username).count()
    if user is not None and s.lockout_attempts > 0 and count >= s.lockout_attempts:
        until = now + timedelta(minutes=s.lockout_minutes)
        User.update(locked_until=until, version=User.version + 1).where(User.id == user.id).execute()
        audit.record(actx, "user.lockout", "user", username, {"locked_until": [None, until.isoformat()]},
                     reason=f"{count} failures within {s.lockout_window_minutes} min")
        # The lockout is the consequence; once it ends, the count starts again (the trail keeps them).
        LoginFailure.delete().where(LoginFailure.username == username).execute()
        return until
    return None


def authenticate(ctx: Context, username: str, password: str, purpose: str = "login",
                 record_success: bool = True) -> Actor:
    """Check a password; count failures towards the lockout; audit what happened.

    ``purpose`` is ``login`` (the app's login screen), ``unlock`` (the idle lock) or
    ``cli`` (a writing command). A successful CLI check is not logged as a login:
    the command's own audit event already names the actor and the origin.
    """
    username = (username or "").strip()
    now = ctx.now()
    user = User.get_or_none(User.username == username) if username else None
    if user is not None and user.locked_until is not None and user.locked_until > now:
        burn_time(password or "")
        with ctx.store.write():
            audit.record(_as(ctx, username), "login.refused", "user", username,
                         {"purpose": purpose, "why": "locked"})
        raise LockedOut(None, until=_lock_text(ctx, user.locked_until))
    ok = check_password(password or "", user.password_hash) if user is not None else (burn_time(password or "") or False)
    if not ok:
        with ctx.store.write():
            until = _record_failure(ctx, username or "-", user, purpose)
        if until is not None:
            raise LockedOut(None, until=_lock_text(ctx, until))
        raise AuthenticationFailed()
    if user.disabled:
        with ctx.store.write():
            audit.record(_as(ctx, username), "login.refused", "user", username,
                         {"purpose": purpose, "why": "disabled"})
        raise AuthenticationFailed("error.account_disabled")
    changes: dict = {}
    if user.locked_until is not None:
        changes["locked_until"] = None
    if needs_rehash(user.password_hash):
        changes["password_hash"] = make_verifier(password)
    with ctx.store.write():
        LoginFailure.delete().where(LoginFailure.username == username).execute()
        if changes:
            User.update(**changes, version=User.version + 1).where(User.id == user.id).execute()
        if record_success:
            action = {"unlock": "session.unlock"}.get(purpose, "login")
            audit.record(_as(ctx, username), action, "user", username, {"via": "password", "purpose": purpose})
    return actor_for(user, ctx.actor.origin)


def issue_token(ctx: Context, username: str, label: str = "") -> str:
    """A new remembered login for this terminal; returns the token for the OS keyring (never stored)."""
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
    user = row.user
    if user.disabled or (user.locked_until is not None and user.locked_until > now):
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
