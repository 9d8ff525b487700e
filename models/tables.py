"""The peewee models: one table per kind of record.

Every editable record carries ``version`` for optimistic locking (see
``services/base.py``); instants are UTC text; nothing secret is stored in
clear (accounts keep only scrypt verifiers and token hashes).
"""
from __future__ import annotations

from peewee import (BooleanField, DatabaseProxy, ForeignKeyField, IntegerField, Model,
                    TextField)

from models.fields import JSONTextField, UTCDateTimeField

database = DatabaseProxy()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaMeta(BaseModel):
    """schema_version, app marker and the database's identity (used in keyring service names)."""

    key = TextField(primary_key=True)
    value = TextField()


class Setting(BaseModel):
    key = TextField(primary_key=True)
    value = JSONTextField(null=True)
    version = IntegerField(default=1)
    updated_at = UTCDateTimeField(null=True)


class User(BaseModel):
    username = TextField(unique=True)
    display_name = TextField(default="")
    role = TextField(default="officer")  # viewer | officer | leader | admin
    password_hash = TextField(null=True)  # scrypt verifier, never the password
    password_changed_at = UTCDateTimeField(null=True)
    disabled = BooleanField(default=False)
    locked_until = UTCDateTimeField(null=True)
    # Lockouts in a row since the last good password: each lasts twice as long as the one before.
    lockouts = IntegerField(default=0)
    # The officer's profile (issue 15): 联系人 is display_name; these two complete it for the reports.
    title = TextField(default="", null=True)
    phone = TextField(default="", null=True)
    created_at = UTCDateTimeField()
    version = IntegerField(default=1)


class LoginToken(BaseModel):
    """A remembered login: the token itself lives in the OS keyring, only its hash here."""

    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = TextField(unique=True)
    label = TextField(default="")
    created_at = UTCDateTimeField()
    last_used_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)


class LoginFailure(BaseModel):
    username = TextField(index=True)
    at = UTCDateTimeField(index=True)
    origin = TextField(default="")


class Incident(BaseModel):
    code = TextField(unique=True)
    title = TextField()
    category = TextField()
    subcategory = TextField(null=True)
    grade = TextField(null=True)                 # I | II | III | IV
    grade_decided = BooleanField(default=False)  # preliminary until the leader decides
    occurred_at = UTCDateTimeField()
    discovered_at = UTCDateTimeField()
    location = TextField(default="")
    asset = TextField(default="")
    personal_info = BooleanField(default=False)
    # 不确定 at intake: the PIPL clocks run until someone decides (personal_info then says which).
    personal_info_unsure = BooleanField(default=False, null=True)
    reported_by = TextField(default="")
    description = TextField(default="")
    delay_reason = TextField(null=True)
    status = TextField(default="open", index=True)  # open | handled | closed | withdrawn
    handling_closed_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    is_drill = BooleanField(default=False)
    created_by = TextField(default="")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    version = IntegerField(default=1)

    @property
    def personal_info_answer(self) -> bool | None:
        """True, False, or None for 不确定 (not decided yet)."""
        return None if self.personal_info_unsure else bool(self.personal_info)


class Report(BaseModel):
    """One report of one stage. A submitted report is frozen; a correction is a new revision."""

    incident = ForeignKeyField(Incident, backref="reports", on_delete="CASCADE")
    regime = TextField()
    stage = TextField()
    seq = IntegerField(default=1)
    revision = IntegerField(default=1)
    fields = JSONTextField(default=dict)
    status = TextField(default="draft", index=True)  # draft | submitted | superseded
    submitted_at = UTCDateTimeField(null=True)
    submitted_by = TextField(null=True)
    channel = TextField(null=True)      # phone | fax | email | in_person | online
    recipient = TextField(null=True)
    receipt_confirmed_by = TextField(null=True)
    late_reason = TextField(null=True)
    correction_reason = TextField(null=True)
    supersedes = ForeignKeyField("self", null=True, backref="corrections", on_delete="SET NULL")
    created_by = TextField(default="")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()
    version = IntegerField(default=1)

    class Meta:
        indexes = ((("incident", "regime", "stage", "seq", "revision"), True),
                   # The statistics read every submitted report of a period from this index alone
                   # (models.stats._fetch), never the rows with their fields (~2 KB each).
                   (("status", "incident", "regime", "stage", "seq", "submitted_at"), False))


class Evidence(BaseModel):
    incident = ForeignKeyField(Incident, backref="evidence", on_delete="CASCADE")
    original_path = TextField()
    stored_path = TextField(null=True)  # relative to the evidence folder when copied
    copied = BooleanField(default=False)
    sha256 = TextField()
    size = IntegerField()
    collected_by = TextField(default="")
    collected_at = UTCDateTimeField()
    custody_note = TextField(default="")
    created_at = UTCDateTimeField()
    version = IntegerField(default=1)


class Note(BaseModel):
    incident = ForeignKeyField(Incident, backref="notes", on_delete="CASCADE")
    author = TextField()
    at = UTCDateTimeField()
    text = TextField()


class Contact(BaseModel):
    name = TextField(default="")
    role = TextField(index=True)  # leader | deputy | academic_affairs | … | bureau | cac | police
    department = TextField(default="")
    mobile = TextField(default="")
    office = TextField(default="")
    notes = TextField(default="")
    quiet_hours = TextField(default="")
    upstream = BooleanField(default=False)
    sort = IntegerField(default=0)
    active = BooleanField(default=True)
    version = IntegerField(default=1)


class CallTreeStep(BaseModel):
    situation = TextField(index=True)  # e.g. new_incident
    position = IntegerField()
    role = TextField(null=True)
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    version = IntegerField(default=1)


class CallLog(BaseModel):
    """A phone call. Keeps the name and number as dialled, so removing a contact loses nothing."""

    incident = ForeignKeyField(Incident, null=True, backref="calls", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    contact_name = TextField(default="")
    contact_role = TextField(default="")
    number = TextField(default="")
    at = UTCDateTimeField()
    outcome = TextField()  # reached | no_answer | busy | message
    said = TextField(default="")
    instructions = TextField(default="")
    logged_by = TextField(default="")


class AuditEvent(BaseModel):
    """Append-only, chained: each row's hash covers its content and the previous hash.

    ``alg`` NULL: release 0.1's plain SHA-256; ``hmac1``: HMAC-SHA-256 with the database's
    key, also covering ``rows`` (digests of the tracked rows the transaction wrote).
    """

    at = UTCDateTimeField()
    actor = TextField()
    origin = TextField(default="")
    action = TextField()
    entity = TextField()
    entity_id = TextField(default="")
    changes = JSONTextField(null=True)
    reason = TextField(null=True)
    prev_hash = TextField()
    hash = TextField()
    alg = TextField(null=True)
    rows = JSONTextField(null=True)

    class Meta:
        # One entity's events (fact history, timeline, merge bases, the county outbox hook) are
        # read on every edit: without it each read scans the whole trail. Schema step: migrations.
        indexes = ((("entity", "entity_id"), False),)


class AlarmState(BaseModel):
    """An alarm that fired: once per obligation and threshold, shared by every session."""

    incident = ForeignKeyField(Incident, on_delete="CASCADE")
    regime = TextField()
    stage = TextField()
    seq = IntegerField(default=1)
    threshold = IntegerField()
    fired_at = UTCDateTimeField()
    acked_at = UTCDateTimeField(null=True)
    acked_by = TextField(null=True)

    class Meta:
        indexes = ((("incident", "regime", "stage", "seq", "threshold"), True),)


class ObligationNote(BaseModel):
    """A person's reason attached to one obligation, kept with the record (issue 12).

    ``close_over``: a leader closed the incident although this obligation was still owed;
    it reads ``missed`` with this reason. ``before_oral``: the written report went out
    before any oral report (the bureau could not be reached by phone).
    """

    incident = ForeignKeyField(Incident, backref="obligation_notes", on_delete="CASCADE")
    regime = TextField()
    stage = TextField()
    seq = IntegerField(default=1)
    kind = TextField()        # close_over | before_oral
    reason = TextField()
    by = TextField(default="")
    at = UTCDateTimeField()


class Draft(BaseModel):
    """Unsaved form content, written every few seconds so a dropped SSH session loses nothing."""

    owner = TextField()
    kind = TextField()      # new_incident | report | …
    key = TextField(default="")
    payload = JSONTextField(default=dict)
    updated_at = UTCDateTimeField()

    class Meta:
        indexes = ((("owner", "kind", "key"), True),)


class Check(BaseModel):
    """A recurring prevention duty (隐患排查, 安全检查, backups, drills…)."""

    title = TextField()
    cadence = TextField()  # daily | weekly | monthly | semester | every_n_days | once
    every_days = IntegerField(null=True)
    anchor_day = IntegerField(null=True)  # monthly: the day of month it keeps (31 → Feb 28 → Mar 31)
    responsible = TextField(default="")
    checklist = JSONTextField(default=list)
    last_done_at = UTCDateTimeField(null=True)
    next_due_at = UTCDateTimeField(null=True)
    active = BooleanField(default=True)
    builtin = TextField(null=True)
    version = IntegerField(default=1)


class CheckRun(BaseModel):
    check = ForeignKeyField(Check, backref="runs", on_delete="CASCADE")
    done_at = UTCDateTimeField()
    done_by = TextField()
    findings = TextField(default="")
    items = JSONTextField(default=dict)
    due_at = UTCDateTimeField(null=True)  # the due day this run counted for (late runs stay visible)
    incident = ForeignKeyField(Incident, null=True, on_delete="SET NULL")
    follow_up = ForeignKeyField(Check, null=True, on_delete="SET NULL", backref="raised_by")


class RegistryAccount(BaseModel):
    """An account on the national student-registration system. Never its password."""

    login = TextField()
    holder = TextField()
    role = TextField(default="")
    password_changed_at = UTCDateTimeField(null=True)
    last_used_at = UTCDateTimeField(null=True)
    handed_over_at = UTCDateTimeField(null=True)
    retired_at = UTCDateTimeField(null=True)
    notes = TextField(default="")
    created_at = UTCDateTimeField(null=True)
    version = IntegerField(default=1)


class DataUse(BaseModel):
    """学籍使用台账: every export or external use of registry data (谁导出谁负责)."""

    at = UTCDateTimeField()
    who = TextField()
    data = TextField()
    purpose = TextField()
    approved_by = TextField(default="")
    recipient = TextField(default="")
    recorded_by = TextField(default="")


class Warning(BaseModel):
    level = TextField()  # red | orange | yellow | blue
    source = TextField(default="")
    content = TextField(default="")
    received_at = UTCDateTimeField()
    valid_until = UTCDateTimeField(null=True)
    lifted_at = UTCDateTimeField(null=True)
    lifted_by = TextField(null=True)
    created_by = TextField(default="")
    version = IntegerField(default=1)


class WarningAction(BaseModel):
    warning = ForeignKeyField(Warning, backref="actions", on_delete="CASCADE")
    department = TextField()
    action = TextField()
    done_at = UTCDateTimeField(null=True)
    done_by = TextField(null=True)


class BackupRecord(BaseModel):
    at = UTCDateTimeField()
    path = TextField(default="")
    ok = BooleanField()
    message = TextField(default="")
    automatic = BooleanField(default=False)


class RecordVersion(BaseModel):
    """What a versioned record held at one version, kept when the next version replaces it.

    A save names the version it was edited from; the merge (``models.merge``) compares
    that version's values, the current ones and the user's, field by field.
    """

    entity = TextField()
    entity_id = TextField()
    version = IntegerField()
    values = JSONTextField(default=dict)

    class Meta:
        indexes = ((("entity", "entity_id", "version"), True),)


class Outbox(BaseModel):
    """A change for the county (issue 19): one record's whole state at one version.

    Written in the same transaction as the change (``models.county.outbox``); ``sent_at`` is set
    once the county server has it. A record's newest row always stays, so its versions never
    repeat; older rows the county acknowledged are pruned (``models.county.outbox.prune_sent``).
    """

    record = TextField()                 # incident:<code>
    version = IntegerField()
    payload = JSONTextField(default=dict)
    created_at = UTCDateTimeField()
    sent_at = UTCDateTimeField(null=True, index=True)

    class Meta:
        indexes = ((("record", "version"), True),)


class CountyReceipt(BaseModel):
    """The bureau signed for a submitted report (已签收): who and when, as the county sent it back."""

    incident_code = TextField()
    regime = TextField()
    stage = TextField()
    seq = IntegerField(default=1)
    signed_by = TextField()
    signed_at = UTCDateTimeField()
    received_at = UTCDateTimeField()
    # The revision signed and its submission time, as the county held them (county2); NULL: a
    # receipt from before receipts named revisions (models.county.receipts.covers judges it).
    revision = IntegerField(null=True)
    report_submitted_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("incident_code", "regime", "stage", "seq"), True),)


class FactHistory(BaseModel):
    """Derived, never the authority (models.fact_history): an incident's grade and
    personal-information flag over time, walked from its audit events, kept with the values it
    was walked from (a row whose incident no longer holds them is not used)."""

    incident = IntegerField(primary_key=True)
    grade = TextField(null=True)
    personal_info = BooleanField(default=False)
    personal_info_unsure = BooleanField(default=False)
    created_at = UTCDateTimeField(null=True)
    states = TextField()            # JSON: [[at (UTC ISO), grade, involved], …]
    last_at = TextField(null=True)  # the latest change's time, as the store writes times
    facts = TextField(null=True)    # JSON: [[grade, involved], …] (the states without times)


ALL_MODELS = [
    SchemaMeta, Setting, User, LoginToken, LoginFailure, Incident, Report, Evidence, Note,
    Contact, CallTreeStep, CallLog, AuditEvent, AlarmState, Draft, Check, CheckRun,
    RegistryAccount, DataUse, Warning, WarningAction, BackupRecord, ObligationNote, RecordVersion,
    Outbox, CountyReceipt, FactHistory,
]
