"""Schema migrations: what turns a database written by an earlier release into today's.

``models.store`` applies ``MIGRATIONS[v]`` for every version above the file's, each in the
transaction that also bumps ``schema_version``, after a backup copy of the file was taken.

Several features of one release change tables, so a release's migration is a list of small
*steps*, each idempotent (it looks before it alters: a step that finds its column already
there does nothing). A feature adds its step to the list of the release being built, with
``playhouse.migrate`` for the change; new tables need no step (``create_tables(safe=True)``
adds them after the migrations). ``tests/test_migrations.py`` opens ``tests/data/release-0.1.db``,
written by release 0.1.0, and checks that every row it held is still there, unchanged.

A step added during a release must also reach databases already *at* that release's schema
(made by an earlier build of it): ``schema_meta.schema_steps`` records the names of the steps a
database has had (a JSON list; a new database records every step at creation), and
``models.store`` runs, on open, each step of the file's own version it does not list, with the
same backup and transaction as a migration. So a step's function name is its identity: never
rename or remove a step once it has landed. A step that only makes reads faster (an index) is
marked ``@speed_only``: a read-only file lacking it still opens for reading; any other missing
step refuses a read-only file with a clear message (its queries would fail).
"""
from __future__ import annotations

import copy
import json
from typing import Callable

from peewee import Field, IntegerField, SqliteDatabase, TextField
from playhouse.migrate import SqliteMigrator, migrate

Step = Callable[[SqliteDatabase], None]
STEPS_KEY = "schema_steps"      # schema_meta key: JSON list of the step names the database has had


def speed_only(step: Step) -> Step:
    """Mark a step reads do not need (an index): a read-only file without it still opens."""
    step.speed_only = True  # type: ignore[attr-defined]
    return step


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


AUDIT_ENTITY_INDEX = "audit_event_entity_entity_id"   # the name peewee gives AuditEvent's Meta index


@speed_only
def _audit_entity_index(db: SqliteDatabase) -> None:
    """One entity's audit events are read on every edit (fact history, timeline, merge, the county
    outbox hook): an index on (entity, entity_id) instead of a scan of the whole trail."""
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{AUDIT_ENTITY_INDEX}" '
                   'ON "audit_event" ("entity", "entity_id")')


V2_STEPS.append(_audit_entity_index)


REPORT_SUBMITTED_INDEX = "report_status_incident_id_regime_stage_seq_submitted_at"   # Report's Meta index


@speed_only
def _report_submitted_index(db: SqliteDatabase) -> None:
    """Issue 17: the statistics read each period's submitted reports (incident, stage, number,
    time) from an index holding just those, instead of every report row with its fields."""
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{REPORT_SUBMITTED_INDEX}" ON "report" '
                   '("status", "incident_id", "regime", "stage", "seq", "submitted_at")')


V2_STEPS.append(_report_submitted_index)


@speed_only
def _fact_history(db: SqliteDatabase) -> None:
    """Issue 17: each incident's grade and personal-information history, walked once from the
    audit trail into the derived ``fact_history`` table (models.fact_history), so the statistics
    read ~one small row per edited incident instead of the year's trail. Idempotent: refilled
    whole. A file without it (read-only) is walked, as before."""
    from models import fact_history
    from models.tables import AuditEvent, FactHistory, Incident
    with db.bind_ctx([AuditEvent, FactHistory, Incident]):
        fact_history.rebuild(db)


V2_STEPS.append(_fact_history)


@speed_only
def _fact_history_summary(db: SqliteDatabase) -> None:
    """Each row's latest change and its grades without times (the statistics judge most
    incidents from these alone): added to a table made by the step above in an earlier build,
    and the table refilled then (a table that has them is left as it is)."""
    from peewee import TextField
    from models import fact_history
    from models.tables import AuditEvent, FactHistory, Incident
    have = columns(db, "fact_history")
    if not have or {"last_at", "facts"} <= have:
        return
    add_columns(db, "fact_history", last_at=TextField(null=True), facts=TextField(null=True))
    with db.bind_ctx([AuditEvent, FactHistory, Incident]):
        fact_history.rebuild(db)


V2_STEPS.append(_fact_history_summary)


def _county_receipt_revision(db: SqliteDatabase) -> None:
    """A county receipt names the revision the bureau signed (county2): a correction submitted
    after the signature no longer passes for signed. Old rows keep NULL (signed before receipts
    named revisions; judged as before). A file without the table gets it whole later."""
    from models.fields import UTCDateTimeField
    from peewee import IntegerField
    if not columns(db, "county_receipt"):
        return
    add_columns(db, "county_receipt", revision=IntegerField(null=True),
                report_submitted_at=UTCDateTimeField(null=True))


V2_STEPS.append(_county_receipt_revision)
# Tables a read-only file may lack and still open for reading (derived: their readers fall back).
SPEED_ONLY_TABLES = frozenset({"fact_history"})


def _run(steps: list[Step]) -> Callable[[SqliteDatabase], None]:
    def apply(db: SqliteDatabase) -> None:
        for step in steps:
            step(db)
    return apply


CURRENT_SCHEMA = 2
# Each schema version's steps; ``MIGRATIONS[v]`` runs all of them (a file below v).
STEPS: dict[int, list[Step]] = {2: V2_STEPS}
MIGRATIONS: dict[int, Callable[[SqliteDatabase], None]] = {v: _run(steps) for v, steps in STEPS.items()}


def step_name(step: Step) -> str:
    return step.__name__


def all_step_names(upto: int | None = None) -> list[str]:
    """Every step of every version up to ``upto`` (default: this program's schema), in order."""
    top = CURRENT_SCHEMA if upto is None else upto
    return [step_name(s) for v in sorted(STEPS) if v <= top for s in STEPS[v]]


def parse_applied(value: str | None) -> set[str]:
    """The recorded step names; a missing or unreadable record means none (every step is idempotent)."""
    if not value:
        return set()
    try:
        names = json.loads(value)
    except ValueError:
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def format_applied(names: set[str]) -> str:
    """Known steps in their order, then any a newer build of this release recorded (kept)."""
    known = all_step_names(max(STEPS))
    return json.dumps([n for n in known if n in names] + sorted(names - set(known)))


def pending_steps(version: int | None, applied: set[str]) -> list[Step]:
    """The steps of the file's own version (and below) it has not had, in order. Versions above
    the file's are ``MIGRATIONS``' business."""
    if version is None:
        return []
    return [s for v in sorted(STEPS) if v <= version for s in STEPS[v] if step_name(s) not in applied]


def _check_unique() -> None:
    names = all_step_names(max(STEPS))
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RuntimeError(f"migration steps need unique names: {dupes}")


_check_unique()
