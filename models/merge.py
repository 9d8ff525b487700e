"""Field-level three-way merge: two people at once, nothing lost.

A save carries the version it was edited from (``base_version``) and only the
fields the user changed. Inside the write transaction the merge compares, per
field, the value at the base version, the value stored now ("theirs") and the
user's ("mine"):

- theirs equals mine: nothing to write;
- theirs still equals the base: the other session did not touch it, mine is applied;
- otherwise both changed it differently: a conflict **for that field only**.

Fields without a conflict are written (so nothing typed is lost); the conflicting
ones are reported in one ``ConflictError`` carrying a ``FieldConflict`` per field
and the version written, so the caller can resolve exactly those fields against it.
A field named in ``resolved`` is the user's explicit choice after seeing a
conflict, saved from the version the conflict returned: the audit event records
both values and the person whose value was replaced (``replaced_notices`` shows
them a notice). If theirs moved again meanwhile it is a conflict again, with the
fresh value.

The values each version held are kept in ``RecordVersion`` (written by
``models.versioning`` whenever a version is replaced), so a CLI edit with
``--version N`` merges from N even after several saves by others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from peewee import Model

from models import audit
from models.errors import ConflictError, NotFound
from models.tables import AuditEvent, RecordVersion
from models.versioning import snapshot, snapshot_values

View = Callable[[Mapping[str, Any]], dict[str, Any]]


def norm(value: Any) -> Any:
    """A value as stored in JSON: comparable between a live row, a snapshot and a form."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] in ("T", " "):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return value
        if dt.tzinfo is not None:
            return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")
    if isinstance(value, (list, tuple)):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    return value


def same(a: Any, b: Any) -> bool:
    a, b = norm(a), norm(b)
    return a == b or (a in (None, "") and b in (None, ""))


@dataclass
class FieldConflict:
    field: str
    base: Any
    theirs: Any
    mine: Any
    by: str = ""            # who saved "theirs"

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "base": norm(self.base), "theirs": norm(self.theirs),
                "mine": norm(self.mine), "by": self.by}


@dataclass
class Merge:
    """What a save did: the fields written and the fields left in conflict."""

    applied: dict[str, Any] = field(default_factory=dict)
    conflicts: list[FieldConflict] = field(default_factory=list)
    replaced: dict[str, str] = field(default_factory=dict)   # field -> whose value was replaced
    before: dict[str, Any] = field(default_factory=dict)     # theirs, for the audit


def plain_view(names: Iterable[str]) -> View:
    names = tuple(names)
    return lambda values: {k: values.get(k) for k in names}


def base_values(entity: str, entity_id: Any, base_version: int | None, current_version: int,
                current: Mapping[str, Any], view: View, given: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The values at ``base_version``: the caller's own copy, the current row or a kept snapshot."""
    if base_version is None or base_version == current_version:
        return view(current)
    if given is not None:
        return dict(given)
    row = RecordVersion.get_or_none((RecordVersion.entity == entity) & (RecordVersion.entity_id == str(entity_id))
                                    & (RecordVersion.version == base_version))
    return view(row.values) if row is not None else None


def three_way(base: Mapping[str, Any] | None, theirs: Mapping[str, Any], mine: Mapping[str, Any],
              resolved: Iterable[str] = ()) -> Merge:
    """Pure per-field decision; ``base`` None means the base is unknown (every difference conflicts)."""
    resolved = set(resolved)
    out = Merge()
    for name, value in mine.items():
        th = theirs.get(name)
        if same(th, value):
            continue
        if base is not None and name in base and same(base.get(name), th):
            # Only mine changed it since the base. A field in ``resolved`` was chosen in the
            # conflict view over theirs as shown (its base): it still applies only if theirs
            # has not moved since, so a newer value brings the view back instead of being lost.
            out.applied[name] = value
            out.before[name] = th
            if name in resolved:
                out.replaced[name] = ""
            continue
        out.conflicts.append(FieldConflict(name, None if base is None else base.get(name), th, value))
    return out


def last_writer(entity: str, entity_id: Any, name: str, nested: str | None = None) -> str:
    """Who last saved ``name`` of this record, from the audit trail ('' when unknown)."""
    q = (AuditEvent.select(AuditEvent.actor, AuditEvent.changes)
         .where((AuditEvent.entity == entity) & (AuditEvent.entity_id == str(entity_id)))
         .order_by(AuditEvent.id.desc()).limit(200))
    for ev in q:
        ch = ev.changes or {}
        if nested:
            ch = ch.get(nested) or {}
            if isinstance(ch, list):
                continue
        if isinstance(ch, dict) and name in ch:
            return ev.actor
    return ""


def merge_save(ctx, model: type[Model], pk: Any, entity: str, mine: Mapping[str, Any], *,
               base_version: int | None, view: View, columns: Callable[[Any, dict[str, Any]], dict[str, Any]],
               action: str, base: Mapping[str, Any] | None = None, resolved: Iterable[str] = (),
               reason: str | None = None, nested: str | None = None, extra: Mapping[str, Any] | None = None,
               label: str = "", not_found: Callable[[], Exception] | None = None) -> tuple[Any, Merge]:
    """Merge ``mine`` into the stored row in one write; raise ``ConflictError`` for fields both changed.

    ``view(values)`` gives the record's editable fields from a row dict or a snapshot,
    ``columns(row, applied)`` the column updates that apply those fields, ``nested`` the
    audit key the field diff goes under (reports keep their fields in one JSON column).
    Non-conflicting fields are committed before the error is raised.
    """
    with ctx.store.write():
        row = model.get_or_none(model._meta.primary_key == pk)
        if row is None:
            from models.i18n import t
            raise not_found() if not_found else NotFound("error.record_gone",
                                                         label=label or t("entity." + entity, default=entity))
        current = snapshot_values(row)
        theirs = view(current)
        base_vals = base_values(entity, pk, base_version, row.version, current, view, base)
        result = three_way(base_vals, theirs, mine, resolved)
        for c in result.conflicts:
            c.by = last_writer(entity, pk, c.field, nested)
        for name in list(result.replaced):
            who = last_writer(entity, pk, name, nested)
            if who and who != ctx.actor.username:
                result.replaced[name] = who
            else:
                del result.replaced[name]
        if result.applied:
            snapshot(entity, row)
            changes = {**columns(row, dict(result.applied)), **(extra or {})}
            n = (model.update({**{getattr(model, k): v for k, v in changes.items()},
                               model.version: model.version + 1})
                 .where((model._meta.primary_key == pk) & (model.version == row.version)).execute())
            if n != 1:  # cannot happen inside BEGIN IMMEDIATE; refuse rather than guess
                raise ConflictError(entity, pk, row.version, row.version + 1, label=label)
            delta = audit.diff(result.before, result.applied)
            body: dict[str, Any] = {nested: delta} if nested else dict(delta)
            if result.replaced:
                body["replaced"] = {k: v for k, v in result.replaced.items()}
            if base_version is not None and base_version != row.version:
                body["merged_from"] = [base_version, row.version]
            audit.record(ctx, action, entity, pk, body, reason or None)
            row = model.get_by_id(pk)
    if result.conflicts:
        raise ConflictError(entity, pk, base_version if base_version is not None else row.version, row.version,
                            current=snapshot_values(row), attempted=dict(mine), label=label,
                            conflicts=result.conflicts, saved=list(result.applied))
    return row, result


def replaced_notices(ctx, after_id: int = 0, entity: str | None = None, entity_id: Any = None) -> list[dict[str, Any]]:
    """Audit events where someone replaced a value this user had saved: (id, field, by, entity, at)."""
    me = ctx.actor.username
    from peewee import fn
    q = AuditEvent.select().where((AuditEvent.id > after_id) & (fn.instr(AuditEvent.changes, '"replaced"') > 0))
    if entity is not None:
        q = q.where(AuditEvent.entity == entity)
    if entity_id is not None:
        q = q.where(AuditEvent.entity_id == str(entity_id))
    out = []
    for ev in q.order_by(AuditEvent.id):
        for name, who in ((ev.changes or {}).get("replaced") or {}).items():
            if who == me and ev.actor != me:
                out.append({"id": ev.id, "field": name, "by": ev.actor, "entity": ev.entity,
                            "entity_id": ev.entity_id, "at": ev.at})
    return out


def last_audit_id() -> int:
    last = AuditEvent.select(AuditEvent.id).order_by(AuditEvent.id.desc()).first()
    return last.id if last else 0
