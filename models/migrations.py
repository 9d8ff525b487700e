"""Schema migrations: what turns a database written by an earlier release into today's.

``models.store`` applies ``MIGRATIONS[v]`` for every version above the file's, each in the
transaction that also bumps ``schema_version``, after a backup copy of the file was taken.

Several features of one release change tables, so a release's migration is a list of small
*steps*, each idempotent (it looks before it alters: a step that finds its column already
there does nothing). A feature adds its step to the list of the release being built, with
``playhouse.migrate`` for the change; new tables need no step (``create_tables(safe=True)``
adds them after the migrations). ``tests/test_migrations.py`` opens ``tests/data/release-0.1.db``,
written by release 0.1.0, and checks that every row it held is still there, unchanged.
"""
from __future__ import annotations

import copy
from typing import Callable

from peewee import Field, IntegerField, SqliteDatabase, TextField
from playhouse.migrate import SqliteMigrator, migrate

Step = Callable[[SqliteDatabase], None]


def columns(db: SqliteDatabase, table: str) -> set[str]:
    return {c.name for c in db.get_columns(table)}


def add_columns(db: SqliteDatabase, table: str, **fields: Field) -> None:
    """Add each named column unless it is already there (a step may be re-run after a crash).

    Always in place: a column is added as nullable and old rows get the field's default. For a
    NOT NULL column playhouse would rebuild the table (copy, drop, rename), and dropping ``user``
    or ``incident`` with foreign keys on cascades to every token or report that points at it.
    The model may still declare NOT NULL: new rows always carry a value.
    """
    have = columns(db, table)
    migrator = SqliteMigrator(db)
    for name, field in fields.items():
        if name in have:
            continue
        default = field.default() if callable(field.default) else field.default
        in_place = copy.copy(field)
        in_place.null = True
        in_place.default = None
        migrate(migrator.add_column(table, name, in_place))
        if default is not None:
            db.execute_sql(f'UPDATE "{table}" SET "{name}" = ? WHERE "{name}" IS NULL',
                           (field.db_value(default),))


# Release 0.2 (schema 2). Each feature appends its steps here.
V2_STEPS: list[Step] = []


def _user_lockouts(db: SqliteDatabase) -> None:
    """Issue 13: the lockout doubles per account, so the account counts its lockouts in a row."""
    add_columns(db, "user", lockouts=IntegerField(default=0))


V2_STEPS.append(_user_lockouts)


def _audit_keyed(db: SqliteDatabase) -> None:
    """Issue 13: keyed audit events say so (``alg``) and carry the digests of the rows they wrote."""
    from models.fields import JSONTextField
    add_columns(db, "audit_event", alg=TextField(null=True), rows=JSONTextField(null=True))


V2_STEPS.append(_audit_keyed)


def _personal_info_unsure(db: SqliteDatabase) -> None:
    """Personal information answered 是 / 否 / 不确定 at intake (issue 15): the third answer."""
    from peewee import BooleanField
    add_columns(db, "incident", personal_info_unsure=BooleanField(default=False))   # old rows: answered


V2_STEPS.append(_personal_info_unsure)


def _user_profile(db: SqliteDatabase) -> None:
    """The officer's profile (issue 15): title and phone beside the name, for the reports' header."""
    from peewee import TextField
    add_columns(db, "user", title=TextField(default=""), phone=TextField(default=""))    # old rows: ''


V2_STEPS.append(_user_profile)


def _run(steps: list[Step]) -> Callable[[SqliteDatabase], None]:
    def apply(db: SqliteDatabase) -> None:
        for step in steps:
            step(db)
    return apply


CURRENT_SCHEMA = 2
MIGRATIONS: dict[int, Callable[[SqliteDatabase], None]] = {2: _run(V2_STEPS)}
