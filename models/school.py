"""School-wide settings kept in the database, so every session agrees on them.

The config file gives each terminal its defaults; what ``init`` (or an admin)
stores here wins, because the registry terminal and the colleague over SSH
must compute the same deadlines in the same zone.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from models import audit
from models.config import Settings, validate_timezone
from models.tables import Setting

SCHOOL_KEYS = ("school_name", "bureau", "timezone", "regimes", "targets", "alarm_minutes",
               "due_soon_minutes", "urgent_minutes", "idle_lock_minutes", "password_min_length",
               "lockout_attempts", "lockout_window_minutes", "lockout_minutes")


def merged_settings(base: Settings) -> Settings:
    """The config file's settings with the database's school-wide values laid over them."""
    values = {row.key: row.value for row in Setting.select() if row.key in SCHOOL_KEYS}
    return replace(base, **values) if values else base


def is_initialised() -> bool:
    return Setting.select().where(Setting.key == "school_name").exists()


def save_school_settings(ctx, values: dict[str, Any]) -> None:
    """Write school-wide settings with one audit event; an administrator's decision."""
    from models.roles import require
    require(ctx.actor, "admin")
    if "timezone" in values:
        validate_timezone(values["timezone"])
    changes = {}
    with ctx.store.write():
        for key, value in values.items():
            if key not in SCHOOL_KEYS:
                raise KeyError(key)
            row = Setting.get_or_none(Setting.key == key)
            old = row.value if row else None
            if old == value:
                continue
            if row:
                Setting.update(value=value, version=Setting.version + 1, updated_at=ctx.now()).where(Setting.key == key).execute()
            else:
                Setting.create(key=key, value=value, updated_at=ctx.now())
            changes[key] = [old, value]
        if changes:
            audit.record(ctx, "settings.update", "settings", "school", changes)
