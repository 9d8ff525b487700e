"""Opening the SQLite file safely: pragmas, identity, schema version, migrations.

Two sessions (the registry terminal and a colleague over SSH) share one file,
so every write runs ``BEGIN IMMEDIATE`` with a busy timeout, reads run in
autocommit, and no transaction is held while a person thinks. A file that is
not ours, or is newer than this program, is refused and left untouched.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import stat
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import peewee
from peewee import SqliteDatabase

from models.errors import StoreError
from models.migrations import CURRENT_SCHEMA, MIGRATIONS  # noqa: F401  (CURRENT_SCHEMA re-exported)
from models.migrations import STEPS, STEPS_KEY, all_step_names, format_applied, parse_applied, pending_steps, step_name
from models.migrations import SPEED_ONLY_TABLES
from models.tables import ALL_MODELS, SchemaMeta, database

APP_MARKER = "xueji-duty"
APPLICATION_ID = 0x58554A44  # "XUJD", written into the SQLite header
BUSY_TIMEOUT_S = 5.0
SQLITE_HEADER = b"SQLite format 3\x00"


_active: "Store | None" = None
# Objects with begin(store), before_commit(store) and end(store, ok): see ``Store.write``.
WRITE_HOOKS: list = []


def _map_sqlite_error(exc: BaseException, path: Path) -> StoreError:
    text = str(exc).lower()
    if "cannot rollback" in text and exc.__context__ is not None:
        # SQLite already rolled back (disk full, I/O error); the real cause is the context.
        return _map_sqlite_error(exc.__context__, path)
    name = _sqlite_error_name(exc)
    if name in ("SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_TRUNCATE"):
        return StoreError("error.db_full", path=str(path))
    if "disk i/o error" in text:
        return StoreError("error.db_io", path=str(path))
    if "locked" in text or "busy" in text:
        return StoreError("error.db_locked", path=str(path))
    if "readonly" in text or "read-only" in text:
        return StoreError("error.db_readonly", path=str(path))
    if "disk is full" in text or "disk or i/o" in text or "file too large" in text:
        return StoreError("error.db_full", path=str(path))
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError("error.db_corrupt", path=str(path))
    if "unable to open" in text:
        return StoreError("error.db_unopenable", path=str(path))
    return StoreError("error.db_other", path=str(path), detail=str(exc))


def _sqlite_error_name(exc: BaseException | None) -> str:
    """The extended SQLite error name (Python ≥ 3.11), looking through peewee's wrapping."""
    seen = 0
    while exc is not None and seen < 5:
        name = getattr(exc, "sqlite_errorname", None)
        if name:
            return name
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None)
        seen += 1
    return ""


@contextlib.contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """Turn sqlite failures into a ``StoreError`` the officer can act on."""
    try:
        yield
    except (sqlite3.OperationalError, sqlite3.DatabaseError, peewee.OperationalError,
            peewee.DatabaseError) as exc:
        if isinstance(exc, peewee.IntegrityError):
            raise
        raise _map_sqlite_error(exc, path) from exc
    except OSError as exc:
        if exc.errno == 27:  # EFBIG: the file size limit was hit
            raise StoreError("error.db_full", path=str(path)) from exc
        raise


_OPENED = itertools.count(1)


def _make_db(path: Path, ro_uri: str | None = None) -> SqliteDatabase:
    extra = {"uri": True} if ro_uri else {}
    db = SqliteDatabase(
        ro_uri or str(path), timeout=BUSY_TIMEOUT_S, **extra, lock_type="IMMEDIATE", check_same_thread=False,
        pragmas={"journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal",
                 "busy_timeout": int(BUSY_TIMEOUT_S * 1000), "cache_size": -16000},
    )
    # Which opening this is: a cache of what was read from a file (models.incidents' history
    # cache) keys on it, so nothing read before a restore or a reopen passes for the file after.
    db.xj_opened = next(_OPENED)
    return db


def inspect_file(path: Path) -> None:
    """Refuse, without writing a byte, a file that is not an SQLite database (or a folder)."""
    if path.is_dir():
        raise StoreError("error.db_is_dir", path=str(path))
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        head = fh.read(16)
    if head != SQLITE_HEADER:
        raise StoreError("error.db_not_ours", path=str(path))


# What SQLite says when it may read a WAL file but not write it or create its -shm beside it.
_READ_ONLY_KEYS = ("error.db_readonly", "error.db_unopenable")


def _ro_uris(path: Path) -> list[str]:
    """Read-only ways in: plain read-only, then immutable for a WAL file whose folder is not
    writable (SQLite cannot create the shared-memory file there; the file is then unchanging)."""
    base = path.resolve().as_uri()
    return [base + "?mode=ro", base + "?mode=ro&immutable=1"]


def _read_only_probe(path: Path) -> tuple[int, int | None, bool, set[str]]:
    """(application_id, schema_version, has_tables, steps applied) read through a read-only connection."""
    last: BaseException | None = None
    for uri in _ro_uris(path):
        try:
            return _probe(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S), path)
        except StoreError as exc:
            last = exc
            if exc.key not in _READ_ONLY_KEYS:
                raise
        except sqlite3.Error as exc:
            raise _map_sqlite_error(exc, path) from exc
    raise last  # type: ignore[misc]


_META_SQL = "SELECT key, value FROM schema_meta WHERE key IN ('schema_version', ?)"


def _probe(con: sqlite3.Connection, path: Path) -> tuple[int, int | None, bool, set[str]]:
    try:
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version, applied = None, set()
        if "schema_meta" in names:
            meta = dict(con.execute(_META_SQL, (STEPS_KEY,)).fetchall())
            version = int(meta["schema_version"]) if "schema_version" in meta else None
            applied = parse_applied(meta.get(STEPS_KEY))
        return app_id, version, bool(names), applied
    except sqlite3.DatabaseError as exc:
        raise _map_sqlite_error(exc, path) from exc
    finally:
        con.close()


class Store:
    """One open database; the services write through it."""

    def __init__(self, path: Path, db: SqliteDatabase) -> None:
        self.path = path
        self.db = db
        self.backup_made: Path | None = None
        # Speed-only steps (indexes) a read-only file lacks: it opened for reading without them.
        self.schema_pending: list[str] = []
        # True when the file (or its folder) cannot be written: reads work, every write is
        # refused up front with a clear message, and the board shows a banner.
        self.read_only = False
        self._local = threading.local()
        # This process's own commits: ``PRAGMA data_version`` does not move for them.
        self.local_commits = 0
        self.feed = ChangeFeed(self)

    @property
    def evidence_dir(self) -> Path:
        return self.path.parent / f"{self.path.stem}-evidence"

    @property
    def identity(self) -> str:
        return self.meta("db_uuid") or ""

    def meta(self, key: str) -> str | None:
        row = SchemaMeta.get_or_none(SchemaMeta.key == key)
        return row.value if row else None

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        """One short ``BEGIN IMMEDIATE`` transaction; failures become ``StoreError``.

        The outermost ``write()`` of a thread runs the ``WRITE_HOOKS`` (``models.audit``
        registers one): ``begin`` before the transaction, ``before_commit`` inside it after
        the service's work, ``end(ok)`` once it committed or rolled back.
        """
        if self.read_only:
            raise StoreError("error.db_readonly", path=str(self.path))
        depth = getattr(self._local, "depth", 0)
        with store_errors(self.path):
            if depth == 0:
                for hook in WRITE_HOOKS:
                    hook.begin(self)
            self._local.depth = depth + 1
            ok = False
            try:
                with self.db.atomic():
                    yield
                    if depth == 0:
                        for hook in WRITE_HOOKS:
                            hook.before_commit(self)
                ok = True
            finally:
                self._local.depth = depth
                if depth == 0:
                    if ok:
                        self.local_commits += 1
                    for hook in WRITE_HOOKS:
                        hook.end(self, ok)

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with store_errors(self.path):
            yield

    def data_version(self) -> int:
        return self.db.execute_sql("PRAGMA data_version").fetchone()[0]

    def change_token(self) -> tuple[int, int]:
        """Moves after every commit to the file: another connection's (``data_version``) or ours."""
        return (self.data_version(), self.local_commits)

    def close(self) -> None:
        global _active
        if not self.db.is_closed():
            self.db.close()
        if _active is self:
            _active = None


class ChangeFeed:
    """The one change feed every screen follows: any commit, by another session or by this one.

    ``changed(who)`` is True once per commit burst for each follower (a screen, the board),
    so each reloads when, and only when, something was written. Cheap enough to ask twice a
    second: one ``PRAGMA data_version`` (microseconds) and a counter.
    """

    def __init__(self, store: "Store") -> None:
        self.store = store
        self._seen: dict[int, tuple[int, int] | None] = {}

    def token(self) -> tuple[int, int] | None:
        try:
            with store_errors(self.store.path):
                return self.store.change_token()
        except (StoreError, sqlite3.Error, peewee.PeeweeException):
            return None

    def follow(self, who: object) -> None:
        """Start following from now (what ``who`` shows was read just before)."""
        self._seen[id(who)] = self.token()

    def forget(self, who: object) -> None:
        self._seen.pop(id(who), None)

    def changed(self, who: object) -> bool:
        token = self.token()
        if token is None:
            return False       # busy or gone: ask again next time
        key = id(who)
        if key not in self._seen:
            self._seen[key] = token
            return False
        if self._seen[key] == token:
            return False
        self._seen[key] = token
        return True


def _backup_before_migration(path: Path, version: int) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    dest = path.with_name(f"{path.stem}.v{version}-{stamp}.bak")
    _create_private(dest)     # a copy of the students' data: as private as the database
    src = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)
    try:
        dst = sqlite3.connect(str(dest))
        with dst:
            src.backup(dst)
        dst.close()
    finally:
        src.close()
    return dest


def open_store(path: Path | str, *, create: bool = True) -> Store:
    """Open (and if asked, create) the database; refuse foreign, newer or corrupt files."""
    global _active
    path = Path(path).expanduser()
    inspect_file(path)
    exists = path.exists() and path.stat().st_size > 0
    backup = None
    writable = True
    if exists:
        app_id, version, has_tables, applied = _read_only_probe(path)
        if has_tables and app_id != APPLICATION_ID:
            raise StoreError("error.db_not_ours", path=str(path))
        if version is not None and version > CURRENT_SCHEMA:
            raise StoreError("error.db_newer", path=str(path), found=version, supported=CURRENT_SCHEMA)
        writable = _writable(path)
        # An older release's file, or one made by an earlier build of this release that lacks
        # steps added since: a copy first, then the steps (a file we cannot write gets neither).
        behind = version is not None and (version < CURRENT_SCHEMA or bool(pending_steps(version, applied)))
        if behind and writable:
            with store_errors(path):
                backup = _backup_before_migration(path, version)
            from models.backup import prune_migration_backups
            prune_migration_backups(path, backup)     # the older copies: the newest 3 and a week's kept
    elif not create:
        raise StoreError("error.db_missing", path=str(path))
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError("error.db_unopenable", path=str(path)) from exc

    if not exists:
        _create_private(path)
    if _active is not None:
        _active.close()
    db = _make_db(path)
    database.initialize(db)
    store = Store(path, db)
    store.backup_made = backup
    try:
        with store_errors(path):
            db.connect(reuse_if_open=True)
            store.schema_pending = _ensure_schema(db, writable=writable, path=path)
    except StoreError as exc:
        if exc.key not in _READ_ONLY_KEYS or not exists:
            raise
        db.close()
        store.db, store.schema_pending = _open_read_only(path)
    if exists and not os.access(path, os.W_OK):
        store.read_only = True
    store.read_only = store.read_only or store.db.database.startswith("file:") or bool(store.schema_pending)
    # The county outbox's write hook (issue 19): a primary-key read per write unless enrolled.
    from models.county import outbox as _county_outbox  # noqa: F401
    _active = store
    return store


def private_mode(folder: Path) -> int:
    """0600, or 0660 in a group-writable shared folder (README: several OS users, one database).

    The database holds students' personal information, so it is never world-readable;
    SQLite gives the -wal and -shm files the database file's mode.
    """
    try:
        shared = bool(folder.stat().st_mode & stat.S_IWGRP)
    except OSError:
        shared = False
    return 0o660 if shared else 0o600


def _create_private(path: Path) -> None:
    """Create the empty file with a private mode before SQLite does, with the umask's default."""
    if os.name == "nt":  # NTFS permissions come from the user profile folder; chmod cannot express them
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, private_mode(path.parent))
        os.close(fd)
        os.chmod(path, private_mode(path.parent))  # the umask may have removed group bits
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError("error.db_unopenable", path=str(path)) from exc


def _writable(path: Path) -> bool:
    """The file and its folder (the -wal and -shm files, the backup copy) may be written."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


def _open_read_only(path: Path) -> tuple[SqliteDatabase, list[str]]:
    """A database we may read but not write still opens, so the officer can look things up."""
    last: StoreError | None = None
    for uri in _ro_uris(path):
        db = _make_db(path, ro_uri=uri)
        database.initialize(db)
        try:
            with store_errors(path):
                db.connect(reuse_if_open=True)
                pending = _ensure_schema(db, writable=False, path=path)
            return db, pending
        except StoreError as exc:
            db.close()
            last = exc
            if exc.key not in _READ_ONLY_KEYS:
                raise
    raise last  # type: ignore[misc]


def _schema_state(db: SqliteDatabase) -> tuple[int | None, set[str], set[str]]:
    """(schema_version, steps applied, tables missing): one read of sqlite_master, one of schema_meta."""
    names = set(db.get_tables())
    if "schema_meta" not in names:
        return None, set(), set()
    meta = dict(db.execute_sql(_META_SQL, (STEPS_KEY,)).fetchall())
    if "schema_version" not in meta:
        raise StoreError("error.db_not_ours", path=db.database)
    missing = {m._meta.table_name for m in ALL_MODELS} - names
    return int(meta["schema_version"]), parse_applied(meta.get(STEPS_KEY)), missing


def _ensure_schema(db: SqliteDatabase, *, writable: bool = True, path: Path | None = None) -> list[str]:
    """Create, migrate, or run the steps of this release the file has not had (each idempotent).

    Returns the speed-only steps a read-only file lacks (it opens for reading without them); a
    read-only file that lacks anything else is refused with a clear message, untouched.
    """
    version, applied, missing = _schema_state(db)
    pending = pending_steps(version, applied)
    if version == CURRENT_SCHEMA and not missing and not pending:
        return []  # nothing to write: a read-only file still opens for reading
    if not writable:
        # A derived table (SPEED_ONLY_TABLES) is only a speed-up: its readers fall back without it.
        if version == CURRENT_SCHEMA and not (missing - SPEED_ONLY_TABLES) and all(
                getattr(s, "speed_only", False) for s in pending):
            return [step_name(s) for s in pending]
        raise StoreError("error.db_readonly_outdated", path=str(path or db.database))
    with db.atomic():
        # Looked at again under the write lock: another session may have just done it.
        version, applied, missing = _schema_state(db)
        pending = pending_steps(version, applied)
        if version is None:
            db.execute_sql(f"PRAGMA application_id = {APPLICATION_ID}")
            db.create_tables(ALL_MODELS)
            SchemaMeta.insert_many([
                {"key": "app", "value": APP_MARKER},
                {"key": "schema_version", "value": str(CURRENT_SCHEMA)},
                {"key": "db_uuid", "value": str(uuid.uuid4())},
                {"key": "created_at", "value": datetime.now(timezone.utc).isoformat()},
                {"key": STEPS_KEY, "value": format_applied(set(all_step_names()))},
            ]).execute()
            # Today's tables already have every step's effect; each step runs anyway (idempotent,
            # an empty file: a few PRAGMAs) so the record holds even where a model forgot one.
            for _, steps in sorted(STEPS.items()):
                for step in steps:
                    step(db)
            return []
        if version == CURRENT_SCHEMA and not missing and not pending:
            return []
        for step in pending:     # steps of the file's own version added since it was made
            step(db)
        for target in range(version + 1, CURRENT_SCHEMA + 1):
            MIGRATIONS[target](db)
            SchemaMeta.update(value=str(target)).where(SchemaMeta.key == "schema_version").execute()
        if pending or version < CURRENT_SCHEMA:
            SchemaMeta.replace(key=STEPS_KEY, value=format_applied(applied | set(all_step_names()))).execute()
        # Tables added without a schema bump (new, independent tables) appear here.
        db.create_tables(ALL_MODELS, safe=True)
    return []


def active_store() -> Store:
    if _active is None:
        raise StoreError("error.db_not_open", path="")
    return _active
