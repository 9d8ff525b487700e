"""Roles, ordered: each includes what the one before may do."""
from __future__ import annotations

from models.errors import PermissionDenied
from models.i18n import t

ROLES = ("viewer", "officer", "leader", "admin")


def role_rank(role: str) -> int:
    return ROLES.index(role) if role in ROLES else -1


def can(role: str, needed: str) -> bool:
    return role_rank(role) >= role_rank(needed)


def require(actor, needed: str) -> None:
    """Refuse with a message that names the role the action needs."""
    if not can(actor.role, needed):
        raise PermissionDenied(None, needed=t("role." + needed), have=t("role." + actor.role, default=actor.role))
