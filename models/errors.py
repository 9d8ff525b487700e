"""One error vocabulary for the whole domain.

Every error carries a translation key and its parameters rather than a
finished sentence, so the CLI and the TUI render it in the user's language.
"""
from __future__ import annotations

from typing import Any, Mapping

from models.i18n import t


class DomainError(Exception):
    """A mistake or a refusal the user can act on; never shown as a traceback."""

    key = "error.generic"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)

    @property
    def message(self) -> str:
        return t(self.key, **self.params)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.message


class ValidationError(DomainError):
    """Input that cannot be accepted; ``fields`` maps a field id to its message key."""

    key = "error.validation"

    def __init__(self, fields: Mapping[str, tuple[str, dict[str, Any]] | str] | None = None,
                 key: str | None = None, /, **params: Any) -> None:
        self.fields: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, value in (fields or {}).items():
            self.fields[name] = (value, {}) if isinstance(value, str) else value
        super().__init__(key, **params)

    def field_messages(self) -> dict[str, str]:
        return {name: t(k, **p) for name, (k, p) in self.fields.items()}

    @property
    def message(self) -> str:
        if not self.fields:
            return t(self.key, **self.params)
        parts = [f"{t('field.' + n, default=n)}: {m}" for n, m in self.field_messages().items()]
        return "; ".join(parts)


class NotFound(DomainError):
    key = "error.not_found"


class ConflictError(DomainError):
    """Someone else saved first: the caller gets both versions, nothing is overwritten."""

    key = "error.conflict"

    def __init__(self, entity: str, entity_id: Any, expected_version: int,
                 current_version: int, current: Mapping[str, Any] | None = None,
                 attempted: Mapping[str, Any] | None = None) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.current = dict(current or {})
        self.attempted = dict(attempted or {})
        super().__init__(None, entity=entity, id=entity_id,
                         expected=expected_version, current=current_version)


class PermissionDenied(DomainError):
    key = "error.permission"


class LockedOut(DomainError):
    key = "error.locked_out"


class StoreError(DomainError):
    """The database cannot be used as it is: locked, corrupt, foreign or too new."""

    key = "error.store"
