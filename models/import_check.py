"""What an import must prove before it commits (issue 13, item 7).

An export is a file anyone can edit, so every row it brings is checked, inside the import's
transaction, with the same validators the services use for typed input — incident codes,
statuses, dates, categories and text limits (``incidents.validate_input``), contacts
(``contacts.validate_contact``), user names and roles, report statuses and channels —
and every cell against its column's type (an instant must parse, an integer be one, JSON
be JSON, text stay within a limit). Evidence paths must stay inside the evidence folder.
The first problem raises ``ExportError`` and the transaction rolls back: nothing is written.
"""
from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from peewee import BooleanField, ForeignKeyField, IntegerField, TextField

from models.clock import Clock
from models.config import Settings
from models.context import Actor, Context
from models.errors import DomainError, ValidationError
from models.fields import JSONTextField, UTCDateTimeField
from models.tables import ALL_MODELS

CODE_RE = re.compile(r"\d{4}-\d{3,6}")
INCIDENT_STATUSES = ("open", "handled", "closed", "withdrawn")
REPORT_STATUSES = ("draft", "submitted", "superseded")
TEXT_CELL_MAX = 100_000          # any text cell; the services' own limits are smaller still
JSON_CELL_MAX = 1_000_000


class ImportInvalid(DomainError):
    key = "export.error.invalid_row"


def _fail(table: str, rid: Any, column: str, detail: str) -> None:
    raise ImportInvalid(None, table=table, id=rid, column=column, detail=detail[:300])


def safe_relative(path: str) -> bool:
    """A path inside a folder: relative, no '..', no drive or backslash, no empty parts."""
    if not isinstance(path, str) or not path or len(path) > 1000:
        return False
    p = PurePosixPath(path)
    return (not p.is_absolute() and ".." not in p.parts and "\\" not in path and ":" not in path
            and "\x00" not in path and all(part not in ("", ".") for part in path.split("/")))


def _cells(db, model) -> list[dict[str, Any]]:
    name = model._meta.table_name
    cur = db.execute_sql(f'SELECT * FROM "{name}"')
    cols = [c[0] for c in cur.description]
    fields = {f.column_name: f for f in model._meta.sorted_fields}
    rows = []
    for raw in cur.fetchall():
        row = dict(zip(cols, raw))
        rid = row.get("id", row.get("key"))
        for col, value in row.items():
            f = fields.get(col)
            if f is None:
                continue
            if value is None:
                if not f.null and not f.primary_key:
                    _fail(name, rid, col, "empty")
                continue
            if isinstance(f, UTCDateTimeField):
                try:
                    parsed = f.python_value(value) if isinstance(value, str) else None
                except (ValueError, TypeError, OverflowError):
                    parsed = None
                if parsed is None:
                    _fail(name, rid, col, f"not an instant: {str(value)[:40]!r}")
            elif isinstance(f, BooleanField):
                if value not in (0, 1) or isinstance(value, float):
                    _fail(name, rid, col, "not 0/1")
            elif isinstance(f, (IntegerField, ForeignKeyField)) and not isinstance(f, BooleanField):
                if not isinstance(value, int) or not -2 ** 63 <= value < 2 ** 63:
                    _fail(name, rid, col, "not an integer")
            elif isinstance(f, JSONTextField):
                if not isinstance(value, str) or len(value) > JSON_CELL_MAX:
                    _fail(name, rid, col, "JSON too long")
                try:
                    json.loads(value)
                except (ValueError, RecursionError):
                    _fail(name, rid, col, "not JSON")
            elif isinstance(f, TextField):
                if not isinstance(value, str):
                    _fail(name, rid, col, "not text")
                if len(value) > TEXT_CELL_MAX:
                    _fail(name, rid, col, f"longer than {TEXT_CELL_MAX} characters")
        rows.append(row)
    return rows


def _messages(exc: ValidationError) -> str:
    return exc.message


def validate_imported(store, settings: Settings | None = None) -> None:
    """Check every imported row (call inside the import's write transaction)."""
    from models.accounts import USERNAME_RE
    from models.contacts import validate_contact
    from models.incidents import IncidentInput, validate_input
    from models.reports import CHANNELS
    from models.roles import ROLES

    db = store.db
    ctx = Context(store=store, actor=Actor(username="import", role="admin", origin="local"), clock=Clock(),
                  settings=settings or Settings())
    by_table = {m._meta.table_name: _cells(db, m) for m in ALL_MODELS}
    for u in by_table["user"]:
        if not isinstance(u["username"], str) or not USERNAME_RE.fullmatch(u["username"]):
            _fail("user", u["id"], "username", "not a user name")
        if u["role"] not in ROLES:
            _fail("user", u["id"], "role", f"unknown role {str(u['role'])[:20]!r}")
    f_inc = {f.column_name: f for f in ALL_MODELS[ALL_MODELS.index(_model("incident"))]._meta.sorted_fields}
    codes = {}
    for inc in by_table["incident"]:
        if not CODE_RE.fullmatch(inc["code"]):
            _fail("incident", inc["id"], "code", f"not an incident code: {inc['code'][:40]!r}")
        if inc["status"] not in INCIDENT_STATUSES:
            _fail("incident", inc["id"], "status", f"unknown status {inc['status'][:20]!r}")
        codes[inc["id"]] = inc["code"]
        t = {k: f_inc[k].python_value(inc[k]) for k in ("occurred_at", "discovered_at")}
        data = IncidentInput(title=inc["title"], category=inc["category"], occurred_at=t["occurred_at"],
                             discovered_at=t["discovered_at"], subcategory=inc["subcategory"], grade=inc["grade"],
                             location=inc["location"], asset=inc["asset"],
                             personal_info=None if inc.get("personal_info_unsure") else bool(inc["personal_info"]),
                             reported_by=inc["reported_by"], description=inc["description"],
                             delay_reason=inc["delay_reason"], is_drill=bool(inc["is_drill"]))
        try:
            validate_input(ctx, data)
        except ValidationError as exc:
            _fail("incident", inc["id"], ",".join(exc.fields) or "-", _messages(exc))
    for rep in by_table["report"]:
        if rep["status"] not in REPORT_STATUSES:
            _fail("report", rep["id"], "status", f"unknown status {str(rep['status'])[:20]!r}")
        if rep["channel"] is not None and rep["channel"] not in CHANNELS:
            _fail("report", rep["id"], "channel", f"unknown channel {str(rep['channel'])[:20]!r}")
        if not isinstance(json.loads(rep["fields"] or "{}"), dict):
            _fail("report", rep["id"], "fields", "not an object")
    for c in by_table["contact"]:
        try:
            validate_contact({k: c[k] for k in ("role", "name", "department", "mobile", "office", "notes",
                                                 "quiet_hours", "sort", "active") if k in c})
        except ValidationError as exc:
            _fail("contact", c["id"], ",".join(exc.fields) or "-", _messages(exc))
    for ev in by_table["evidence"]:
        path = ev["stored_path"]
        if path is not None and not safe_relative(path):
            _fail("evidence", ev["id"], "stored_path", f"outside the evidence folder: {path[:60]!r}")
        if ev["copied"] and path is None:
            _fail("evidence", ev["id"], "stored_path", "copied but no path")


def _model(table: str):
    return next(m for m in ALL_MODELS if m._meta.table_name == table)
