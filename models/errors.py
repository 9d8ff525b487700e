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
                 attempted: Mapping[str, Any] | None = None, *, label: str = "",
                 conflicts: list | None = None, saved: list[str] | None = None) -> None:
        self.entity = entity
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.current = dict(current or {})
        self.attempted = dict(attempted or {})
        # Field-level conflicts (``models.merge.FieldConflict``): only these fields were not
        # saved; ``saved`` names the fields that were, at ``current_version``.
        self.conflicts = list(conflicts or [])
        self.saved = list(saved or [])
        self.label = label
        self.field_labels: dict[str, str] = {}   # a report's fields are named by its policy form
        super().__init__(None, entity=entity, id=entity_id, label=label or t("entity." + entity, default=entity),
                         expected=expected_version, current=current_version)

    def with_key(self, key: str, **params: Any) -> "ConflictError":
        """The same conflict told in a more specific sentence (e.g. a remove refused)."""
        self.key = key
        self.params.update(params)
        return self

    def field_label(self, name: str) -> str:
        return self.field_labels.get(name) or t("field." + name, default=name)

    @property
    def message(self) -> str:
        what = self.params["label"]
        if not self.conflicts:
            return t(self.key, **self.params)
        join = t("merge.joiner").join
        names = join(self.field_label(c.field) for c in self.conflicts)
        from models.profiles import display_names     # lazy: profiles imports this module
        who = display_names((c.by for c in self.conflicts), t("merge.joiner")) or t("error.conflict_someone")
        saved = join(self.field_label(n) for n in self.saved) if self.saved else ""
        text = t("error.conflict_fields", label=what, fields=names, who=who)
        return text + (" " + t("error.conflict_saved", fields=saved) if saved else "")


class PermissionDenied(DomainError):
    key = "error.permission"


class LockedOut(DomainError):
    key = "error.locked_out"


class StoreError(DomainError):
    """The database cannot be used as it is: locked, corrupt, foreign or too new."""

    key = "error.store"
