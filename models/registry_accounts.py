"""The register of the school's accounts on the national student-registration system.

Never a password: only who holds the account, its role, the date of the
last password change, the last use, hand-overs and retirement. Flags:

- ``seal``: unused for ``account_idle_months`` (default 6) — the 2025
  学籍管理办法 asks for accounts unused for six months to be sealed;
- ``password``: the last change is older than ``password_rotation_days``
  (default 90, a school policy, not a national figure) or was never recorded;
- ``handover``: the holder changed and no password change has been recorded
  since (交接后新任学籍管理员要及时更新密码).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from models import audit
from models.cadence import add_months
from models.context import Context
from models.errors import NotFound, ValidationError
from models.prevention_config import idle_months, rotation_days
from models.roles import require
from models.tables import RegistryAccount
from models.text import clean_text

FLAGS = ("handover", "password", "seal")


def _clean(value: Any, name: str, required: bool = False, limit: int = 200) -> str:
    return clean_text(value, name, required, limit)


@dataclass
class AccountView:
    row: RegistryAccount
    flags: list[str] = field(default_factory=list)
    password_age_days: int | None = None
    idle_days: int | None = None

    @property
    def retired(self) -> bool:
        return self.row.retired_at is not None


def _months_before(now: datetime, months: int) -> datetime:
    day = add_months(now.date(), -months)
    return now.replace(year=day.year, month=day.month, day=day.day)


def assess(row: RegistryAccount, now: datetime, settings) -> AccountView:
    v = AccountView(row=row)
    if row.retired_at is not None:
        return v
    if row.password_changed_at is not None:
        v.password_age_days = (now - row.password_changed_at).days
    if row.handed_over_at is not None and (row.password_changed_at is None
                                           or row.password_changed_at < row.handed_over_at):
        v.flags.append("handover")
    if row.password_changed_at is None or row.password_changed_at <= now - timedelta(days=rotation_days(settings)):
        v.flags.append("password")
    last_use = row.last_used_at or row.created_at
    if last_use is not None:
        v.idle_days = (now - last_use).days
        if last_use <= _months_before(now, idle_months(settings)):
            v.flags.append("seal")
    return v


def get_account(ref: Any) -> RegistryAccount:
    text = str(ref).strip()
    row = RegistryAccount.get_or_none(RegistryAccount.id == int(text)) if text.isdigit() else None
    if row is None:
        row = (RegistryAccount.select().where((RegistryAccount.login == text) & RegistryAccount.retired_at.is_null())
               .first())
    if row is None:
        raise NotFound("prevention.error.account_not_found", ref=text)
    return row


def list_accounts(ctx: Context, now: datetime | None = None, include_retired: bool = False) -> list[AccountView]:
    now = now or ctx.now()
    q = RegistryAccount.select().order_by(RegistryAccount.login)
    if not include_retired:
        q = q.where(RegistryAccount.retired_at.is_null())
    return [assess(r, now, ctx.settings) for r in q]


def flagged(ctx: Context, now: datetime) -> list[AccountView]:
    return [v for v in list_accounts(ctx, now) if v.flags]


def _not_future(ctx, when: datetime | None, name: str) -> datetime:
    now = ctx.now()
    when = when or now
    if when > now + timedelta(minutes=1):
        raise ValidationError({name: ("error.time_future", {})})
    return when


def add_account(ctx: Context, login: str, holder: str, role: str = "", *,
                password_changed_at: datetime | None = None, last_used_at: datetime | None = None,
                notes: str = "") -> RegistryAccount:
    require(ctx.actor, "leader")
    errors = {}
    clean = {}
    for name, value, req in (("account_login", login, True), ("account_holder", holder, True),
                             ("account_role", role, False)):
        try:
            clean[name] = _clean(value, name, req)
        except ValidationError as exc:
            errors.update(exc.fields)
    for name, when in (("account_password_changed_at", password_changed_at), ("account_last_used_at", last_used_at)):
        if when is not None and when > ctx.now() + timedelta(minutes=1):
            errors[name] = ("error.time_future", {})
    if "account_login" in clean and (RegistryAccount.select().where(
            (RegistryAccount.login == clean["account_login"]) & RegistryAccount.retired_at.is_null()).exists()):
        errors["account_login"] = ("prevention.error.account_exists", {"login": clean["account_login"]})
    if errors:
        raise ValidationError(errors)
    with ctx.store.write():
        row = RegistryAccount.create(login=clean["account_login"], holder=clean["account_holder"],
                                     role=clean["account_role"], password_changed_at=password_changed_at,
                                     last_used_at=last_used_at, notes=_clean(notes, "notes", limit=2000),
                                     created_at=ctx.now())
        audit.record(ctx, "account.create", "registry_account", row.id,
                     {"login": [None, row.login], "holder": [None, row.holder], "role": [None, row.role]})
    return row


def _update(ctx, ref, action: str, changes: dict, reason: str | None = None) -> RegistryAccount:
    row = get_account(ref)
    if row.retired_at is not None:
        raise ValidationError({"account": ("prevention.error.account_retired", {})})
    # Merged against the row as it is inside the write (models.merge): a command that read
    # nothing never fails with a version conflict because another session saved meanwhile.
    from models.merge import merge_save, plain_view
    row, _ = merge_save(ctx, RegistryAccount, row.id, "registry_account", changes, base_version=None,
                        view=plain_view(tuple(changes)), columns=lambda r, applied: applied,
                        action=action, reason=reason, label=row.login)
    return row


def password_changed(ctx: Context, ref: Any, at: datetime | None = None) -> RegistryAccount:
    """Record the date of a password change — the date only, never the password."""
    require(ctx.actor, "officer")
    when = _not_future(ctx, at, "account_password_changed_at")
    return _update(ctx, ref, "account.password_changed", {"password_changed_at": when})


def record_use(ctx: Context, ref: Any, at: datetime | None = None) -> RegistryAccount:
    require(ctx.actor, "officer")
    when = _not_future(ctx, at, "account_last_used_at")
    return _update(ctx, ref, "account.used", {"last_used_at": when})


def hand_over(ctx: Context, ref: Any, new_holder: str, at: datetime | None = None) -> RegistryAccount:
    """A new holder: flagged for a password change until one is recorded after this moment."""
    require(ctx.actor, "leader")
    holder = _clean(new_holder, "account_holder", required=True)
    when = _not_future(ctx, at, "account_handed_over_at")
    return _update(ctx, ref, "account.handover", {"holder": holder, "handed_over_at": when})


def retire(ctx: Context, ref: Any, reason: str = "", at: datetime | None = None) -> RegistryAccount:
    """Sealed or closed at the county: kept in the register, no longer flagged."""
    require(ctx.actor, "leader")
    when = _not_future(ctx, at, "account_retired_at")
    return _update(ctx, ref, "account.retire", {"retired_at": when}, _clean(reason, "reason", limit=2000) or None)
