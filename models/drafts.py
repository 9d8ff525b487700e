"""Form drafts: what someone typed but has not saved, kept per user, kind and key.

A form writes its draft every few seconds while the user types, so a killed
process or a dropped SSH connection loses at most those seconds. Drafts are
not records: they are neither audited nor versioned, and only their owner
sees them.
"""
from __future__ import annotations

from typing import Any

from models.context import Context
from models.tables import Draft


def save_draft(ctx: Context, kind: str, payload: dict[str, Any], key: str = "") -> None:
    owner = ctx.actor.username
    with ctx.store.write():
        (Draft.insert(owner=owner, kind=kind, key=key, payload=payload, updated_at=ctx.now())
         .on_conflict(conflict_target=[Draft.owner, Draft.kind, Draft.key],
                      update={Draft.payload: payload, Draft.updated_at: ctx.now()})
         .execute())


def load_draft(ctx: Context, kind: str, key: str = "") -> dict[str, Any] | None:
    with ctx.store.read():
        row = Draft.get_or_none((Draft.owner == ctx.actor.username) & (Draft.kind == kind) & (Draft.key == key))
    return dict(row.payload or {}) if row else None


def draft_saved_at(ctx: Context, kind: str, key: str = ""):
    """When this user's draft was last written (None when there is none)."""
    with ctx.store.read():
        row = Draft.get_or_none((Draft.owner == ctx.actor.username) & (Draft.kind == kind) & (Draft.key == key))
    return row.updated_at if row else None


def discard_draft(ctx: Context, kind: str, key: str = "") -> None:
    with ctx.store.write():
        Draft.delete().where((Draft.owner == ctx.actor.username) & (Draft.kind == kind)
                             & (Draft.key == key)).execute()
