"""First run: the school's settings, the shipped defaults and the first administrator, all or nothing.

Used by ``xueji-duty init`` and by the app's setup screen, so both leave the
database in the same state.
"""
from __future__ import annotations

from models import accounts
from models.context import Context
from models.school import save_school_settings


def initialise_school(ctx: Context, school: str, bureau: str, timezone: str) -> None:
    save_school_settings(ctx, {"school_name": school.strip(), "bureau": bureau.strip(),
                               "timezone": timezone.strip()})
    from models.checks import seed_defaults  # the plan's prevention duties, as editable defaults
    seed_defaults(ctx)


def first_run(ctx: Context, school: str | None, bureau: str, timezone: str,
              admin: str, display_name: str, password: str) -> None:
    """One transaction: a failing password rule leaves neither the school nor the admin half-written.

    Only on a database without accounts: whoever sets it up is its first administrator, so the
    school's settings are written with that authority (and refused once anyone exists).
    """
    from dataclasses import replace

    from models.errors import DomainError
    if accounts.has_users():
        raise DomainError("error.users_exist")
    founding = replace(ctx, actor=replace(ctx.actor, role="admin"))
    with ctx.store.write():
        if accounts.has_users():
            raise DomainError("error.users_exist")
        if school is not None:
            initialise_school(founding, school, bureau, timezone)
        accounts.bootstrap_admin(ctx, admin, display_name, password)
