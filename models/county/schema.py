"""The county server's schema on PostgreSQL: versioned steps, roles and row-level security.

Like the school store (``models.migrations``), the schema is a list of named steps, each
idempotent (``IF NOT EXISTS``, ``CREATE OR REPLACE``, ``ON CONFLICT DO NOTHING``).
``schema_meta`` holds the version reached and, under ``steps``, the names of the steps the
database has had (a JSON list). ``init`` applies every step the record does not list, in one
transaction, so a step appended to an already-released version still reaches a county
database initialised before it; running it twice, or on a server of the previous release, is
safe. A step's name is its identity: never rename or remove one once it has landed.
``check(conn)`` tells a board or a school's link, as it connects, that the server lacks steps
this program needs (run ``county init``), instead of failing later on a missing table.

Who may do what is enforced by the server, not by this program (a school's credential can be
used with ``psql`` as well as with us):
- ``xj_school`` (group): each school logs in as its own role ``xj_s_<code>``; row-level
  security lets it read and write only rows whose ``school`` is its own
  (``county.my_school()``), and read only its own receipts.
- ``xj_bureau`` (group): the bureau reads every school's rows and writes only receipts.

Changes are announced on channel ``xj_county``. NOTIFY is not subject to row-level security
(any login may LISTEN), so the notice carries not the school's code but its random token from
``county.notice_token``, which only the bureau can read (``models.county.board.listen`` maps
it back; a school's listener knows only its own token, ``county.my_notice_token()``).
"""
from __future__ import annotations

import re
import secrets as _secrets
from datetime import datetime, timezone

from models.errors import DomainError, ValidationError

SCHEMA_VERSION = 1
SCHOOL_GROUP = "xj_school"
BUREAU_GROUP = "xj_bureau"
NOTIFY_CHANNEL = "xj_county"

# Tables a school writes (its own rows only) and the bureau reads.
SCHOOL_TABLES = ("incident", "obligation", "report")

STEPS_KEY = "steps"     # schema_meta key: JSON list of the names of the steps applied

# (version, name, statements). Append new steps at the end; never rename or remove one.
STEPS: list[tuple[int, str, list[str]]] = [
    (1, "base", [
        "CREATE SCHEMA IF NOT EXISTS county",
        """CREATE TABLE IF NOT EXISTS county.schema_meta (key text PRIMARY KEY, value text NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS county.school (
            code text PRIMARY KEY,
            name text NOT NULL,
            role_name text UNIQUE NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            enrolled_at timestamptz,
            secret_used boolean NOT NULL DEFAULT false)""",
        """CREATE TABLE IF NOT EXISTS county.incident (
            school text NOT NULL REFERENCES county.school(code),
            code text NOT NULL,
            version bigint NOT NULL,
            title text NOT NULL DEFAULT '',
            category text NOT NULL DEFAULT '',
            grade text,
            grade_decided boolean NOT NULL DEFAULT false,
            status text NOT NULL DEFAULT 'open',
            is_drill boolean NOT NULL DEFAULT false,
            occurred_at timestamptz,
            discovered_at timestamptz,
            closed_at timestamptz,
            updated_at timestamptz,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (school, code))""",
        """CREATE TABLE IF NOT EXISTS county.obligation (
            school text NOT NULL,
            incident_code text NOT NULL,
            regime text NOT NULL,
            stage text NOT NULL,
            seq integer NOT NULL DEFAULT 1,
            state text NOT NULL,
            due_at timestamptz,
            submitted_at timestamptz,
            statutory boolean NOT NULL DEFAULT false,
            PRIMARY KEY (school, incident_code, regime, stage, seq),
            FOREIGN KEY (school, incident_code) REFERENCES county.incident(school, code) ON DELETE CASCADE)""",
        "CREATE INDEX IF NOT EXISTS obligation_due ON county.obligation (due_at) WHERE submitted_at IS NULL",
        """CREATE TABLE IF NOT EXISTS county.report (
            school text NOT NULL,
            incident_code text NOT NULL,
            regime text NOT NULL,
            stage text NOT NULL,
            seq integer NOT NULL DEFAULT 1,
            revision integer NOT NULL DEFAULT 1,
            submitted_at timestamptz,
            submitted_by text NOT NULL DEFAULT '',
            channel text NOT NULL DEFAULT '',
            recipient text NOT NULL DEFAULT '',
            PRIMARY KEY (school, incident_code, regime, stage, seq, revision),
            FOREIGN KEY (school, incident_code) REFERENCES county.incident(school, code) ON DELETE CASCADE)""",
        """CREATE TABLE IF NOT EXISTS county.change_log (
            school text NOT NULL REFERENCES county.school(code),
            record text NOT NULL,
            version bigint NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (school, record, version))""",
        """CREATE TABLE IF NOT EXISTS county.receipt (
            school text NOT NULL REFERENCES county.school(code),
            incident_code text NOT NULL,
            regime text NOT NULL,
            stage text NOT NULL,
            seq integer NOT NULL DEFAULT 1,
            signed_by text NOT NULL,
            signed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (school, incident_code, regime, stage, seq))""",
        # The school of the role that logged in; SECURITY DEFINER so a school's role needs no
        # right on county.school to be told its own code.
        """CREATE OR REPLACE FUNCTION county.my_school() RETURNS text
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = county, pg_temp
            AS $$ SELECT code FROM county.school WHERE role_name = session_user $$""",
        """CREATE OR REPLACE FUNCTION county.notify_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              PERFORM pg_notify('xj_county', COALESCE(NEW.school, OLD.school));
              RETURN NULL;
            END $$""",
    ]),
    # NOTIFY is not under row-level security: every login may LISTEN, so a notice naming the
    # school told any school which schools change and when. A notice carries instead a random
    # token per school, mapped back only by the bureau (RLS: schools cannot read this table).
    (1, "notice_token", [
        """CREATE TABLE IF NOT EXISTS county.notice_token (
            school text PRIMARY KEY REFERENCES county.school(code) ON DELETE CASCADE,
            token text UNIQUE NOT NULL DEFAULT replace(gen_random_uuid()::text, '-', ''))""",
        "INSERT INTO county.notice_token (school) SELECT code FROM county.school ON CONFLICT DO NOTHING",
    ]),
    # The protocol had no delete: an incident a school's restore from a backup took away (or one
    # ``county sync --all`` finds the school no longer has) stayed live on the board. It is not
    # deleted (the county's history stays honest) but marked: removed, when, and why
    # (``restore`` / ``resync``); the board shows nothing owed for it (countytrust).
    (1, "removal", [
        "ALTER TABLE county.incident ADD COLUMN IF NOT EXISTS removed_at timestamptz",
        "ALTER TABLE county.incident ADD COLUMN IF NOT EXISTS removed_reason text",
    ]),
    # A removed incident's code comes back (a school numbers its next incident after the
    # largest it has: after a restore that is the removed one's code). The bureau's receipts for
    # the removed incident must not pass for receipts of the new one: when a removed incident is
    # live again they move to ``receipt_removed`` (history, bureau-only), by a trigger that runs
    # as the schema's owner (a school may not delete receipts).
    (1, "removal_receipts", [
        """CREATE TABLE IF NOT EXISTS county.receipt_removed (
            school text NOT NULL REFERENCES county.school(code),
            incident_code text NOT NULL,
            regime text NOT NULL,
            stage text NOT NULL,
            seq integer NOT NULL DEFAULT 1,
            signed_by text NOT NULL,
            signed_at timestamptz NOT NULL,
            removed_at timestamptz NOT NULL,
            PRIMARY KEY (school, incident_code, regime, stage, seq, removed_at))""",
        """CREATE OR REPLACE FUNCTION county.receipts_of_removed() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = county, pg_temp AS $$
            BEGIN
              IF OLD.removed_at IS NOT NULL AND NEW.removed_at IS NULL THEN
                INSERT INTO county.receipt_removed
                  SELECT school, incident_code, regime, stage, seq, signed_by, signed_at, OLD.removed_at
                  FROM county.receipt WHERE school = OLD.school AND incident_code = OLD.code
                  ON CONFLICT DO NOTHING;
                DELETE FROM county.receipt WHERE school = OLD.school AND incident_code = OLD.code;
              END IF;
              RETURN NULL;
            END $$""",
        "REVOKE ALL ON FUNCTION county.receipts_of_removed() FROM PUBLIC",
        "DROP TRIGGER IF EXISTS receipts_of_removed ON county.incident",
        "CREATE TRIGGER receipts_of_removed AFTER UPDATE OF removed_at ON county.incident "
        "FOR EACH ROW EXECUTE FUNCTION county.receipts_of_removed()",
    ]),
    # A receipt was for a stage, not for what was signed: a correction the school submitted after
    # the signature showed as signed on the school's side and on the board (county2). A receipt
    # names the revision the county held and signed (and that revision's submission time, so a
    # report numbered the same after a restore is not taken for it); signing a newer revision
    # replaces it. Receipts signed before this step: the newest revision submitted (by the
    # school's clock) before the signature, else the first (the rule the school used so far).
    (1, "receipt_revision", [
        "ALTER TABLE county.receipt ADD COLUMN IF NOT EXISTS revision integer",
        "ALTER TABLE county.receipt ADD COLUMN IF NOT EXISTS report_submitted_at timestamptz",
        "ALTER TABLE county.receipt_removed ADD COLUMN IF NOT EXISTS revision integer",
        "ALTER TABLE county.receipt_removed ADD COLUMN IF NOT EXISTS report_submitted_at timestamptz",
        """UPDATE county.receipt c SET revision = COALESCE((
              SELECT max(r.revision) FROM county.report r
              WHERE r.school = c.school AND r.incident_code = c.incident_code AND r.regime = c.regime
                AND r.stage = c.stage AND r.seq = c.seq
                AND (r.revision = 1 OR r.submitted_at IS NULL OR r.submitted_at <= c.signed_at)), 1)
           WHERE c.revision IS NULL""",
        """UPDATE county.receipt c SET report_submitted_at = r.submitted_at FROM county.report r
           WHERE c.report_submitted_at IS NULL AND r.school = c.school AND r.incident_code = c.incident_code
             AND r.regime = c.regime AND r.stage = c.stage AND r.seq = c.seq AND r.revision = c.revision""",
        """CREATE OR REPLACE FUNCTION county.receipts_of_removed() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = county, pg_temp AS $$
            BEGIN
              IF OLD.removed_at IS NOT NULL AND NEW.removed_at IS NULL THEN
                INSERT INTO county.receipt_removed (school, incident_code, regime, stage, seq, signed_by,
                                                    signed_at, removed_at, revision, report_submitted_at)
                  SELECT school, incident_code, regime, stage, seq, signed_by, signed_at, OLD.removed_at,
                         revision, report_submitted_at
                  FROM county.receipt WHERE school = OLD.school AND incident_code = OLD.code
                  ON CONFLICT DO NOTHING;
                DELETE FROM county.receipt WHERE school = OLD.school AND incident_code = OLD.code;
              END IF;
              RETURN NULL;
            END $$""",
        "REVOKE ALL ON FUNCTION county.receipts_of_removed() FROM PUBLIC",
    ]),
]

import json as _json  # noqa: E402


def step_names(upto: int | None = None) -> list[str]:
    top = SCHEMA_VERSION if upto is None else upto
    return [name for version, name, _ in STEPS if version <= top]


def _check_unique() -> None:
    names = [name for _, name, _ in STEPS]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RuntimeError(f"county schema steps named twice: {dupes}")


_check_unique()


def _roles_sql() -> list[str]:
    """Group roles, grants and policies: re-applied by every ``init`` (idempotent)."""
    sql = []
    for group in (SCHOOL_GROUP, BUREAU_GROUP):
        sql.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{group}') "
                   f"THEN CREATE ROLE {group} NOLOGIN; END IF; END $$")
    sql += [
        f"GRANT USAGE ON SCHEMA county TO {SCHOOL_GROUP}, {BUREAU_GROUP}",
        f"GRANT EXECUTE ON FUNCTION county.my_school() TO {SCHOOL_GROUP}, {BUREAU_GROUP}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA county FROM PUBLIC",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA county TO {BUREAU_GROUP}",
        f"GRANT INSERT, UPDATE ON county.receipt TO {BUREAU_GROUP}",
        f"GRANT SELECT ON county.school, county.receipt, county.schema_meta TO {SCHOOL_GROUP}",
        f"GRANT UPDATE (enrolled_at, secret_used) ON county.school TO {SCHOOL_GROUP}",
        f"GRANT SELECT, INSERT ON county.change_log TO {SCHOOL_GROUP}",
    ]
    for table in SCHOOL_TABLES:
        sql.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON county.{table} TO {SCHOOL_GROUP}")
    every = ("school", *SCHOOL_TABLES, "change_log", "receipt", "notice_token", "receipt_removed")
    for table in every:
        sql.append(f"ALTER TABLE county.{table} ENABLE ROW LEVEL SECURITY")
        sql.append(f"ALTER TABLE county.{table} FORCE ROW LEVEL SECURITY")
    own = "school = county.my_school()"
    policies = {
        "school": [("school_own", "ALL", SCHOOL_GROUP, "code = county.my_school()", "code = county.my_school()"),
                   ("bureau_read", "SELECT", BUREAU_GROUP, "true", None)],
        "receipt": [("school_own", "SELECT", SCHOOL_GROUP, own, None),
                    ("bureau_read", "SELECT", BUREAU_GROUP, "true", None),
                    ("bureau_insert", "INSERT", BUREAU_GROUP, None, "true"),
                    ("bureau_update", "UPDATE", BUREAU_GROUP, "true", "true")],
        # No policy for schools (and no grant): a school reads no token, not even its own here.
        "notice_token": [("bureau_read", "SELECT", BUREAU_GROUP, "true", None)],
        # History of receipts for incidents a school removed: the bureau's to read, nobody's to write.
        "receipt_removed": [("bureau_read", "SELECT", BUREAU_GROUP, "true", None)],
        "change_log": [("school_own", "ALL", SCHOOL_GROUP, own, own),
                       ("bureau_read", "SELECT", BUREAU_GROUP, "true", None)],
    }
    for table in SCHOOL_TABLES:
        policies[table] = [("school_own", "ALL", SCHOOL_GROUP, own, own),
                           ("bureau_read", "SELECT", BUREAU_GROUP, "true", None)]
    for table, rules in policies.items():
        for name, command, role, using, check in rules:
            sql.append(f"DROP POLICY IF EXISTS {name} ON county.{table}")
            clause = f"CREATE POLICY {name} ON county.{table} FOR {command} TO {role}"
            if using is not None:
                clause += f" USING ({using})"
            if check is not None:
                clause += f" WITH CHECK ({check})"
            sql.append(clause)
    # The notice (re-defined here, after every step: the base step's first version named the
    # school). SECURITY DEFINER: the school's or the bureau's write that fires it may not read
    # the tokens; a school registered without one gets one.
    sql += [
        """CREATE OR REPLACE FUNCTION county.notify_change() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = county, pg_temp AS $$
            DECLARE s text := COALESCE(NEW.school, OLD.school); tok text;
            BEGIN
              SELECT token INTO tok FROM county.notice_token WHERE school = s;
              IF tok IS NULL THEN
                INSERT INTO county.notice_token (school) VALUES (s) ON CONFLICT DO NOTHING;
                SELECT token INTO tok FROM county.notice_token WHERE school = s;
              END IF;
              PERFORM pg_notify('xj_county', tok);
              RETURN NULL;
            END $$""",
        """CREATE OR REPLACE FUNCTION county.school_token() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = county, pg_temp AS $$
            BEGIN
              INSERT INTO county.notice_token (school) VALUES (NEW.code) ON CONFLICT DO NOTHING;
              RETURN NULL;
            END $$""",
        # A school's listener may know its own token (it knows its own code anyway).
        """CREATE OR REPLACE FUNCTION county.my_notice_token() RETURNS text
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = county, pg_temp
            AS $$ SELECT token FROM county.notice_token WHERE school = county.my_school() $$""",
        "REVOKE ALL ON FUNCTION county.notify_change(), county.school_token(), county.my_notice_token() FROM PUBLIC",
        f"GRANT EXECUTE ON FUNCTION county.my_notice_token() TO {SCHOOL_GROUP}, {BUREAU_GROUP}",
        "DROP TRIGGER IF EXISTS school_token ON county.school",
        "CREATE TRIGGER school_token AFTER INSERT ON county.school "
        "FOR EACH ROW EXECUTE FUNCTION county.school_token()",
    ]
    for table in ("incident", "obligation", "receipt"):
        sql.append(f"DROP TRIGGER IF EXISTS notify_change ON county.{table}")
        sql.append(f"CREATE TRIGGER notify_change AFTER INSERT OR UPDATE OR DELETE ON county.{table} "
                   "FOR EACH ROW EXECUTE FUNCTION county.notify_change()")
    return sql


def connect(url: str, **kwargs):
    """A psycopg connection; an unreachable or refusing server becomes one clear DomainError."""
    import psycopg
    try:
        return psycopg.connect(url, connect_timeout=kwargs.pop("connect_timeout", 5), **kwargs)
    except psycopg.OperationalError as exc:
        raise DomainError("county.error.connect", detail=_first_line(exc)) from None


def server_errors(fn):
    """Whatever the server refuses (no right, a dropped connection) becomes one clear message."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        import psycopg
        try:
            return fn(*args, **kwargs)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise DomainError("county.error.not_allowed", detail=_first_line(exc)) from None
        except psycopg.OperationalError as exc:
            raise DomainError("county.error.connect", detail=_first_line(exc)) from None
        except psycopg.Error as exc:
            raise DomainError("county.error.server", detail=_first_line(exc)) from None
    return wrapper


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def version_of(conn) -> int:
    row = conn.execute("SELECT to_regclass('county.schema_meta')").fetchone()
    if row[0] is None:
        return 0
    got = conn.execute("SELECT value FROM county.schema_meta WHERE key = 'version'").fetchone()
    return int(got[0]) if got else 0


def _parse_steps(value: str | None) -> set[str]:
    """The recorded step names; missing or unreadable means none (every step is idempotent)."""
    if not value:
        return set()
    try:
        names = _json.loads(value)
    except ValueError:
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def _format_steps(names: set[str]) -> str:
    """Known steps in their order, then any a newer build of this release recorded (kept)."""
    known = [name for _, name, _ in STEPS]
    return _json.dumps([n for n in known if n in names] + sorted(names - set(known)))


def state_of(conn) -> tuple[int, set[str]]:
    """(version, names of the steps applied) as the server records them; (0, ∅) if not initialised."""
    row = conn.execute("SELECT to_regclass('county.schema_meta')").fetchone()
    if row[0] is None:
        return 0, set()
    meta = dict(conn.execute("SELECT key, value FROM county.schema_meta WHERE key IN ('version', %s)",
                             (STEPS_KEY,)).fetchall())
    return int(meta.get("version") or 0), _parse_steps(meta.get(STEPS_KEY))


def pending(conn) -> list[str]:
    """The names of this program's steps the server has not had, in order."""
    version, applied = state_of(conn)
    if version > SCHEMA_VERSION:
        raise DomainError("county.error.schema_newer", found=version, known=SCHEMA_VERSION)
    return [name for name in step_names() if name not in applied]


@server_errors
def check(conn) -> None:
    """On connecting (a board, a school's link): a clear message if the server's schema is
    behind this program (``county init`` not yet run since an upgrade) or not initialised."""
    version, applied = state_of(conn)
    require_current(version, applied)


def require_current(version: int, applied: set[str] | str | None) -> None:
    """``check`` on what was read: ``applied`` the names, or the record's JSON text."""
    if not isinstance(applied, set):
        applied = _parse_steps(applied)
    if version == 0:
        raise DomainError("county.error.not_initialised")
    if version > SCHEMA_VERSION:
        raise DomainError("county.error.schema_newer", found=version, known=SCHEMA_VERSION)
    missing = [name for name in step_names() if name not in applied]
    if missing:
        raise DomainError("county.error.schema_behind", steps=", ".join(missing))


@server_errors
def init(url: str) -> int:
    """Create or upgrade the county schema and its roles (a superuser's URL); the version reached.

    Every step the server's record lacks runs (each is idempotent), then the roles, grants and
    policies are re-applied, and the record written: all in one transaction, so a failure
    leaves the server as it was."""
    with connect(url) as conn:
        require_superuser(conn)        # before anything changes
        with conn.transaction():
            # Taken under a lock, so two ``init`` at once do not both run the steps.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('xueji county schema'))")
            version, applied = state_of(conn)
            if version > SCHEMA_VERSION:
                raise DomainError("county.error.schema_newer", found=version, known=SCHEMA_VERSION)
            for _version, name, statements in STEPS:
                if name in applied:
                    continue
                for stmt in statements:
                    conn.execute(stmt)
                applied.add(name)
            for stmt in _roles_sql():
                conn.execute(stmt)
            conn.execute("INSERT INTO county.schema_meta (key, value) VALUES ('version', %s), (%s, %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                         (str(SCHEMA_VERSION), STEPS_KEY, _format_steps(applied)))
    return SCHEMA_VERSION


def require_superuser(conn, command: str = "init") -> None:
    """``init`` needs a superuser's login: every county table has *forced* row-level security,
    which binds the tables' owner too, so a database owner (or a login with CREATEROLE) that
    ran ``init`` would own tables it can no longer see a row of (and ``add-school`` would then
    fail on them). Refused, naming what is needed, before the first statement that changes
    anything; ``county.error.need_superuser`` (the CLI exits 2, as for other usage errors)."""
    user, is_super = conn.execute(
        "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() or (None, False)
    conn.rollback()          # the read's own transaction: ``init``'s is a fresh one
    if not is_super:
        if command == "init":
            raise DomainError("county.error.need_superuser", user=user or "?")
        # add-school / add-bureau (county2): they create login roles and write county.school,
        # which only a superuser may (a school's or the bureau's login, or a database owner,
        # got a server error halfway through before).
        raise DomainError("county.error.need_superuser_cmd", command=f"county {command}", user=user or "?")


_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def role_for(code: str) -> str:
    return "xj_s_" + re.sub(r"[^a-z0-9_]", "_", code.lower())


def new_secret() -> str:
    return _secrets.token_urlsafe(24)


@server_errors
def add_school(url: str, code: str, name: str) -> dict:
    """Register a school: its login role with a one-time secret (printed once, never stored)."""
    code = (code or "").strip()
    name = (name or "").strip()
    if not _CODE.match(code):
        raise ValidationError({"code": ("county.error.school_code", {"value": code})})
    if not name:
        raise ValidationError({"name": ("county.error.school_name", {})})
    role = role_for(code)
    secret = new_secret()
    from psycopg import sql as psql
    with connect(url) as conn:
        require_superuser(conn, "add-school")      # before anything changes
        if version_of(conn) == 0:
            raise DomainError("county.error.not_initialised")
        with conn.transaction():
            if conn.execute("SELECT 1 FROM county.school WHERE code = %s", (code,)).fetchone():
                raise DomainError("county.error.school_exists", code=code)
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(psql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                psql.Identifier(role), psql.Literal(secret)))
            conn.execute(psql.SQL("GRANT {} TO {}").format(psql.Identifier(SCHOOL_GROUP), psql.Identifier(role)))
            conn.execute("INSERT INTO county.school (code, name, role_name) VALUES (%s, %s, %s)",
                         (code, name, role))
    return {"school": code, "name": name, "role": role, "secret": secret}


@server_errors
def add_bureau(url: str, username: str) -> dict:
    """A bureau login (reads every school, writes receipts only) with a new password, printed once."""
    username = (username or "").strip()
    if not re.match(r"^[a-z][a-z0-9_]{0,40}$", username):
        raise ValidationError({"username": ("county.error.bureau_name", {"value": username})})
    secret = new_secret()
    from psycopg import sql as psql
    with connect(url) as conn:
        require_superuser(conn, "add-bureau")      # before anything changes
        if version_of(conn) == 0:
            raise DomainError("county.error.not_initialised")
        with conn.transaction():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(psql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                psql.Identifier(username), psql.Literal(secret)))
            conn.execute(psql.SQL("GRANT {} TO {}").format(psql.Identifier(BUREAU_GROUP), psql.Identifier(username)))
    return {"user": username, "secret": secret}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)
