"""Optimistic locking: an update names the version it read; a stale one raises ``ConflictError``.

Whenever a version is replaced, the values it held are kept in ``RecordVersion``
so a later save edited from that version can be merged field by field
(``models.merge``).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Mapping

from peewee import Model

from models.errors import ConflictError, NotFound
from models.tables import RecordVersion

KEEP_VERSIONS = 500   # snapshots kept per record; older bases fall back to "every difference conflicts"


def row_dict(row: Model) -> dict[str, Any]:
    return {name: getattr(row, name) if not hasattr(getattr(type(row), name), "rel_model")
            else getattr(row, name + "_id")
            for name in row._meta.fields}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.isoformat(timespec="microseconds")
    return str(value)


def snapshot_values(row: Model) -> dict[str, Any]:
    """The row as JSON values (instants as UTC ISO text), as a snapshot stores it."""
    return json.loads(json.dumps(row_dict(row), ensure_ascii=False, default=_json_default))


def snapshot(entity: str, row: Model) -> None:
    """Keep what ``row`` holds at its current version (call inside the write that replaces it)."""
    values = snapshot_values(row)
    (RecordVersion.insert(entity=entity, entity_id=str(row._pk), version=row.version, values=values)
     .on_conflict_ignore().execute())
    if row.version % 50 == 0:
        (RecordVersion.delete().where((RecordVersion.entity == entity) & (RecordVersion.entity_id == str(row._pk))
                                      & (RecordVersion.version < row.version - KEEP_VERSIONS)).execute())


def update_versioned(model: type[Model], pk: Any, expected_version: int,
                     changes: Mapping[str, Any], entity: str) -> Model:
    """Apply ``changes`` only if the row is still at ``expected_version``; call inside a write."""
    before = model.get_or_none(model._meta.primary_key == pk)
    if before is not None and before.version == expected_version:
        snapshot(entity, before)
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
