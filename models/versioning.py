"""Optimistic locking: an update names the version it read; a stale one raises ``ConflictError``."""
from __future__ import annotations

from typing import Any, Mapping

from peewee import Model

from models.errors import ConflictError, NotFound


def row_dict(row: Model) -> dict[str, Any]:
    return {name: getattr(row, name) if not hasattr(getattr(type(row), name), "rel_model")
            else getattr(row, name + "_id")
            for name in row._meta.fields}


def update_versioned(model: type[Model], pk: Any, expected_version: int,
                     changes: Mapping[str, Any], entity: str) -> Model:
    """Apply ``changes`` only if the row is still at ``expected_version``; call inside a write."""
    query = (model.update({**{getattr(model, k): v for k, v in changes.items()},
                           model.version: model.version + 1})
             .where((model._meta.primary_key == pk) & (model.version == expected_version)))
    if query.execute() == 1:
        return model.get_by_id(pk)
    current = model.get_or_none(model._meta.primary_key == pk)
    if current is None:
        raise NotFound(None, entity=entity, id=pk)
    raise ConflictError(entity, pk, expected_version, current.version,
                        current=row_dict(current), attempted=dict(changes))
