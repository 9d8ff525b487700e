"""Backups and restores: one sealed (optionally encrypted) archive per backup.

A backup is an online, consistent copy of the database taken with SQLite's
``VACUUM INTO`` (never a file copy of a live WAL database), the evidence
folder, and a manifest with every file's SHA-256 — zipped and sealed (see
``models.archive``), then encrypted when a passphrase is given or remembered
in the OS keyring. Backups travel on USB sticks; an encrypted one is useless
to whoever finds the stick.

A restore checks everything *before* touching anything: the seal or the
encryption, every manifest hash, ``PRAGMA quick_check`` and the identity of
the restored copy. It then takes the live database in SQLite's exclusive
locking mode — which fails while any other session has the file open, so a
restore never pulls the floor from under a colleague — keeps the current
database as a pre-restore copy, and copies the restored pages in with the
backup API, so every later session sees a whole database or none of it.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable

from models import audit
from models.archive import (ArchiveError, check_seal, decrypt_file, encrypt_file, is_encrypted, seal_identity,
                            seal, seal_placeholder, sha256_file)
from models.banners import Banner
from models.errors import DomainError, StoreError
from models.i18n import t
from models.outfile import make_private, open_private, private_dir
from models.text import path_text
from models.store import APPLICATION_ID, CURRENT_SCHEMA, _create_private, store_errors
from models.tables import ALL_MODELS, BackupRecord

# Limits a restore holds every archive to (issue 13): a member is read up to the size its
# manifest declares and no further, the manifest itself is small, and the whole is capped.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MEMBERS = 200_000
MAX_TOTAL_BYTES = 64 * 1024 ** 3
KEY_MEMBER = "audit.key"        # inside encrypted archives only: restorable anywhere with the passphrase

FORMAT = "xueji-duty-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_MEMBER = "duty.db"
EVIDENCE_PREFIX = "evidence/"
PLAIN_SUFFIX = ".zip"
ENC_SUFFIX = ".xjbak"
KEYRING_SERVICE = "xueji-duty-backup"
KEYRING_TIMEOUT_S = 3.0
_NAME_RE = re.compile(r"^(?P<slug>.+)-(?P<stamp>\d{8}-\d{6})(?P<n>-\d+)?(?P<auto>-auto)?(\.zip|\.xjbak)$")


@dataclass
class BackupResult:
    path: Path
    encrypted: bool
    files: int
    size: int
    manifest: dict[str, Any]
    pruned: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    archive: Path
    pre_restore: Path | None
    pre_restore_evidence: Path | None
    manifest: dict[str, Any]


# --- where and what -------------------------------------------------------------------------

def backup_dir(store, settings) -> Path:
    if settings.backup_dir:
        return Path(settings.backup_dir).expanduser()
    return store.path.parent / f"{store.path.stem}-backups"


def school_slug(school: str) -> str:
    """A file-name-safe school name (Chinese kept: USB sticks and Windows handle it)."""
    slug = re.sub(r'[\\/:*?"<>|\s\x00-\x1f]+', "_", school or "").strip("._")
    return slug[:60] or "xueji-duty"


def archive_name(school: str, local: datetime, *, automatic: bool, encrypted: bool, n: int = 0) -> str:
    stamp = local.strftime("%Y%m%d-%H%M%S")
    return (f"{school_slug(school)}-{stamp}{f'-{n}' if n else ''}{'-auto' if automatic else ''}"
            f"{ENC_SUFFIX if encrypted else PLAIN_SUFFIX}")


def _raw_connect(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A plain sqlite3 connection for copying; read-only media fall back to an immutable read."""
    con = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError as exc:
        con.close()
        if "readonly" not in str(exc) and "unable to open" not in str(exc):
            raise
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True, timeout=timeout,
                           isolation_level=None)


def _table_counts(con: sqlite3.Connection) -> dict[str, int]:
    names = [m._meta.table_name for m in ALL_MODELS]
    have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names if n in have}


def _evidence_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file())


# --- backup -----------------------------------------------------------------------------------

def create_backup(ctx, dest: Path | None = None, *, passphrase: str | None = None,
                  automatic: bool = False, record: bool = True) -> BackupResult:
    """Write one archive into ``dest`` (a folder) and record the outcome; failures raise.

    A backup by hand is a copy of students' personal information: an officer's act. The daily
    automatic backup is the program's own, in whichever session is open.
    """
    if not automatic:
        from models.roles import require
        require(ctx.actor, "officer")
    store = ctx.store
    now = ctx.now()
    folder = Path(dest).expanduser() if dest else backup_dir(store, ctx.settings)
    try:
        result = _create(store, ctx.settings, folder, now, passphrase, automatic)
    except (DomainError, OSError, sqlite3.Error) as exc:
        if record:
            _record(ctx, now, "", False, _failure_text(exc), automatic)
        if isinstance(exc, DomainError):
            raise
        raise StoreError("backup.error.write_failed", path=str(folder), detail=_failure_text(exc)) from exc
    if record:
        _record(ctx, now, str(result.path), True, "", automatic,
                {"path": str(result.path), "encrypted": result.encrypted, "files": result.files})
    return result


def _failure_text(exc: BaseException) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename or ''})".strip()
    return str(exc)


def _record(ctx, now, path: str, ok: bool, message: str, automatic: bool, changes=None) -> None:
    """Keep the outcome for the board; a read-only or full database must not hide a good backup."""
    if getattr(ctx.store, "read_only", False):
        return
    try:
        with ctx.store.write():
            BackupRecord.create(at=now, path=path_text(path), ok=ok, message=path_text(message[:500]),
                                automatic=automatic)
            if ok:
                audit.record(ctx, "backup.create", "backup", "", changes,
                             actor="system" if automatic else None)
    except StoreError:
        pass


def _create(store, settings, folder: Path, now: datetime, passphrase: str | None,
            automatic: bool) -> BackupResult:
    try:
        private_dir(folder)
    except OSError as exc:
        raise StoreError("backup.error.dest", path=str(folder), detail=exc.strerror or str(exc)) from exc
    local = now.astimezone(settings.zone)
    encrypted = bool(passphrase)
    n = 0
    while True:
        final = folder / archive_name(settings.school_name, local, automatic=automatic, encrypted=encrypted, n=n)
        if not final.exists():
            break
        n += 1
    with tempfile.TemporaryDirectory(prefix=".xjbak-", dir=folder) as tmp:
        work = Path(tmp)
        snap = work / DB_MEMBER
        with store_errors(store.path):
            con = _raw_connect(store.path)
            try:
                con.execute("VACUUM INTO ?", (str(snap),))
            finally:
                con.close()
        check = sqlite3.connect(str(snap))
        try:
            counts = _table_counts(check)
            version = check.execute("SELECT value FROM schema_meta WHERE key='schema_version'").fetchone()
            ident = check.execute("SELECT value FROM schema_meta WHERE key='db_uuid'").fetchone()
            last = check.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
            head = {"count": check.execute("SELECT count(*) FROM audit_event").fetchone()[0],
                    "last_id": last[0] if last else 0, "last": last[1] if last else audit.GENESIS}
        finally:
            check.close()
        evidence = _evidence_files(store.evidence_dir)
        # A plain archive is sealed with the database's audit key; an encrypted one carries the key
        # inside (AES-GCM with the passphrase authenticates it), so it restores on any machine.
        from models import auditkey
        key = audit._key_for_write(store)
        ident_text = ident[0] if ident else ""
        files = [{"name": DB_MEMBER, "sha256": sha256_file(snap), "size": snap.stat().st_size}]
        if encrypted:
            key_file = work / KEY_MEMBER
            key_file.write_bytes(auditkey._encode(ident_text, key))
            files.append({"name": KEY_MEMBER, "sha256": sha256_file(key_file), "size": key_file.stat().st_size})
        for p in evidence:
            rel = p.relative_to(store.evidence_dir).as_posix()
            files.append({"name": EVIDENCE_PREFIX + rel, "sha256": sha256_file(p), "size": p.stat().st_size})
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "created_at": now.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "school": settings.school_name, "db_uuid": ident[0] if ident else "",
            "schema_version": int(version[0]) if version else None, "automatic": automatic,
            "files": files, "counts": counts,
            # The audit trail's head at the snapshot, outside the database (issue 13).
            "audit_head": head,
        }
        zpath = work / "archive.zip"
        with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
            zf.write(snap, DB_MEMBER)
            if encrypted:
                zf.write(work / KEY_MEMBER, KEY_MEMBER)
            for p in evidence:
                zf.write(p, EVIDENCE_PREFIX + p.relative_to(store.evidence_dir).as_posix())
            zf.comment = seal_placeholder(None if encrypted else ident_text)
        seal(zpath, None if encrypted else key)
        out = work / "archive.out"
        if encrypted:
            encrypt_file(zpath, out, passphrase)
        else:
            os.replace(zpath, out)
        if os.name != "nt":  # an archive of students' data is not for every user of the machine
            from models.store import private_mode
            os.chmod(out, private_mode(final.parent) & 0o640)
        os.replace(out, final)
    return BackupResult(path=final, encrypted=encrypted, files=len(files), size=final.stat().st_size,
                        manifest=manifest)


# --- verify and restore -----------------------------------------------------------------------

def _safe_member(name: str) -> bool:
    p = PurePosixPath(name)
    return (not p.is_absolute() and ".." not in p.parts and "\\" not in name and ":" not in name
            and (name in (MANIFEST, DB_MEMBER, KEY_MEMBER) or name.startswith(EVIDENCE_PREFIX)))


def key_lookup(db_path: Path | None, key_file: Path | None = None) -> Callable[[str], bytes | None]:
    """How a restore finds the key of a plain archive's database: a key file given, or the one the
    database at ``db_path`` uses (its ``.key`` file, or the keyring)."""
    from models import auditkey

    def find(identity: str) -> bytes | None:
        if key_file is not None:
            try:
                return auditkey.parse_key(Path(key_file).expanduser().read_bytes(), identity)
            except OSError:
                return None
        return auditkey.load_for(db_path, identity) if db_path is not None else None
    return find


@contextlib.contextmanager
def unpacked(archive: Path, passphrase: str | None = None, workdir: Path | None = None, *,
             key_for: Callable[[str], bytes | None] | None = None, trust_unauthenticated: bool = False):
    """Check the archive completely and yield (manifest, folder with duty.db and evidence/).

    The seal is checked before anything is unpacked: a plain archive's HMAC with the key of the
    database it names (``key_for``); an encrypted one by AES-GCM. Unpacking goes into a private
    temporary folder, each member read no further than the size the manifest declares. Nothing
    outside that folder is written; any doubt raises ``ArchiveError``.
    """
    archive = Path(archive).expanduser()
    if not archive.is_file():
        raise ArchiveError("backup.error.missing", path=str(archive))
    with tempfile.TemporaryDirectory(prefix=".xjrestore-", dir=workdir) as tmp:
        work = Path(tmp)
        zpath = archive
        if is_encrypted(archive):
            if not passphrase:
                raise ArchiveError("backup.error.needs_passphrase", path=str(archive))
            zpath = work / "archive.zip"
            decrypt_file(archive, zpath, passphrase)
            check_seal(zpath, None)
        else:
            identity = seal_identity(zpath)
            if identity is None:
                check_seal(zpath, None)        # whole, but proves no origin
                if not trust_unauthenticated:
                    raise ArchiveError("backup.error.unauthenticated", path=str(archive))
            else:
                if key_for is None:     # the open database's key (its .key file or the keyring)
                    from models import store as store_module
                    active = store_module._active
                    key_for = key_lookup(active.path if active is not None else None)
                key = key_for(identity)
                if key is None:
                    raise ArchiveError("backup.error.key_needed", path=str(archive))
                check_seal(zpath, key)
        try:
            manifest = _extract(zpath, work / "content", archive)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, EOFError, TypeError) as exc:
            raise ArchiveError("backup.error.damaged", path=str(archive), detail=str(exc)[:200])
        _check_database(work / "content" / DB_MEMBER, archive)
        _check_head(work / "content" / DB_MEMBER, manifest, archive)
        yield manifest, work / "content"


def copy_member(src, out, limit: int, name: str, archive: Path) -> int:
    """Copy at most ``limit`` bytes; one more means the member is not what the manifest says."""
    written = 0
    while True:
        block = src.read(min(1024 * 1024, limit - written + 1))
        if not block:
            return written
        written += len(block)
        if written > limit:
            raise ArchiveError("backup.error.too_big", path=str(archive), member=name, size=limit)
        out.write(block)


def _extract(zpath: Path, into: Path, archive: Path) -> dict[str, Any]:
    with zipfile.ZipFile(zpath) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        if len(infos) > MAX_MEMBERS or len(set(names)) != len(names):
            raise ArchiveError("backup.error.damaged", path=str(archive), detail="member list")
        try:
            info = zf.getinfo(MANIFEST)
            if info.file_size > MAX_MANIFEST_BYTES:
                raise ArchiveError("backup.error.too_big", path=str(archive), member=MANIFEST,
                                   size=MAX_MANIFEST_BYTES)
            with zf.open(info) as src:
                raw = src.read(MAX_MANIFEST_BYTES + 1)
            if len(raw) > MAX_MANIFEST_BYTES:
                raise ArchiveError("backup.error.too_big", path=str(archive), member=MANIFEST,
                                   size=MAX_MANIFEST_BYTES)
            manifest = json.loads(raw.decode("utf-8"))
        except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
            raise ArchiveError("backup.error.not_backup", path=str(archive))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
            raise ArchiveError("backup.error.not_backup", path=str(archive))
        if manifest.get("format") != FORMAT:
            raise ArchiveError("backup.error.not_backup", path=str(archive))
        if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise ArchiveError("backup.error.newer_format", path=str(archive),
                               found=manifest.get("format_version"), supported=FORMAT_VERSION)
        listed = {f["name"]: f for f in manifest["files"] if isinstance(f, dict) and isinstance(f.get("name"), str)}
        if len(listed) != len(manifest["files"]):
            raise ArchiveError("backup.error.damaged", path=str(archive), detail="manifest files")
        present = set(zf.namelist()) - {MANIFEST}
        if present != set(listed) or DB_MEMBER not in listed:
            raise ArchiveError("backup.error.damaged", path=str(archive), detail="member list")
        sizes = {}
        for name, meta in listed.items():
            size = meta.get("size") if isinstance(meta, dict) else None
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise ArchiveError("backup.error.damaged", path=str(archive), detail=f"size of {name!r}")
            if not _safe_member(name):
                raise ArchiveError("backup.error.damaged", path=str(archive), detail=f"unsafe name {name!r}")
            if zf.getinfo(name).file_size != size:
                raise ArchiveError("backup.error.damaged", path=str(archive), detail=f"size of {name!r}")
            sizes[name] = size
        total = sum(sizes.values())
        if total > MAX_TOTAL_BYTES:
            raise ArchiveError("backup.error.too_big", path=str(archive), member="*", size=MAX_TOTAL_BYTES)
        private_dir(into)
        if total > shutil.disk_usage(into).free:
            raise ArchiveError("backup.error.no_space", path=str(archive), size=total)
        for name, meta in listed.items():
            target = into.joinpath(*PurePosixPath(name).parts)
            private_dir(target.parent)
            with zf.open(name) as src, open_private(target) as out:
                copy_member(src, out, sizes[name], name, archive)
            if target.stat().st_size != sizes[name] or sha256_file(target) != meta.get("sha256"):
                raise ArchiveError("backup.error.hash_mismatch", path=str(archive), member=name)
    return manifest


def _check_database(db: Path, archive: Path) -> None:
    try:
        con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            result = [r[0] for r in con.execute("PRAGMA quick_check").fetchall()]
            app_id = con.execute("PRAGMA application_id").fetchone()[0]
            row = con.execute("SELECT value FROM schema_meta WHERE key='schema_version'").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise ArchiveError("backup.error.db_check", path=str(archive), detail=str(exc))
    if result != ["ok"]:
        raise ArchiveError("backup.error.db_check", path=str(archive), detail="; ".join(result[:3]))
    if app_id != APPLICATION_ID or row is None:
        raise ArchiveError("backup.error.not_backup", path=str(archive))
    if int(row[0]) > CURRENT_SCHEMA:
        raise StoreError("error.db_newer", path=str(archive), found=int(row[0]), supported=CURRENT_SCHEMA)


def _carried_key(content: Path, db_path: Path, manifest: dict, key_for) -> tuple[str, bytes] | None:
    """(identity, key) to keep for the restored database, unless this machine already has it:
    the key an encrypted archive carries, or a key file given with the restore."""
    from models import auditkey
    identity = str(manifest.get("db_uuid") or "")
    if auditkey.load_for(db_path, identity) is not None:
        return None
    key = None
    inside = content / KEY_MEMBER
    if inside.is_file():
        key = auditkey.parse_key(inside.read_bytes(), identity)
    if key is None:
        key = key_for(identity)
    return (identity, key) if key is not None else None


def _check_head(db: Path, manifest: dict[str, Any], archive: Path) -> None:
    """The database's audit head is the one the manifest recorded (older backups have none)."""
    want = manifest.get("audit_head")
    if want is None:
        return
    from models.auditkey import file_head
    try:
        _, have = file_head(db)
    except sqlite3.DatabaseError as exc:
        raise ArchiveError("backup.error.db_check", path=str(archive), detail=str(exc))
    if not isinstance(want, dict) or have.as_dict() != want:
        raise ArchiveError("backup.error.damaged", path=str(archive), detail="audit head")


def verify_archive(archive: Path, passphrase: str | None = None, *,
                   key_for: Callable[[str], bytes | None] | None = None,
                   trust_unauthenticated: bool = False) -> dict[str, Any]:
    """Everything a restore checks, without restoring; returns the manifest."""
    with unpacked(archive, passphrase, key_for=key_for, trust_unauthenticated=trust_unauthenticated) \
            as (manifest, _):
        return manifest


@contextlib.contextmanager
def exclusive(db_path: Path):
    """Hold the live database so that no other session can have it open.

    In WAL mode every open connection holds a shared lock on the shared-memory
    index; ``locking_mode=EXCLUSIVE`` plus ``BEGIN EXCLUSIVE`` succeeds only when
    no other connection exists — an idle board on the other terminal counts.
    """
    con = sqlite3.connect(str(db_path), timeout=0.5, isolation_level=None)
    damaged = False
    try:
        con.execute("PRAGMA locking_mode=EXCLUSIVE")
        try:
            con.execute("BEGIN EXCLUSIVE")
        except sqlite3.DatabaseError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise StoreError("backup.error.in_use", path=str(db_path)) from exc
            raise StoreError("error.db_other", path=str(db_path), detail=str(exc)) from exc
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            con.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise StoreError("backup.error.in_use", path=str(db_path)) from exc
            damaged = True   # the lock is ours; the content is what the restore is for
        yield con, damaged
    finally:
        con.close()


def restore_backup(db_path: Path, archive: Path, *, passphrase: str | None = None,
                   now: datetime, evidence_dir: Path | None = None,
                   after: Callable[[Path, dict], None] | None = None,
                   key_file: Path | None = None, trust_unauthenticated: bool = False) -> RestoreResult:
    """Replace the database (and evidence folder) at ``db_path`` with the archive's content.

    The caller must not hold the database open. ``after(db_path, manifest)`` runs once the
    new content is in place (the CLI uses it to append the restore to the audit trail).
    """
    db_path = Path(db_path).expanduser()
    evidence_dir = evidence_dir or db_path.parent / f"{db_path.stem}-evidence"
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    private_dir(db_path.parent)
    key_for = key_lookup(db_path, key_file)
    with unpacked(archive, passphrase, workdir=db_path.parent, key_for=key_for,
                  trust_unauthenticated=trust_unauthenticated) as (manifest, content):
        carried = _carried_key(content, db_path, manifest, key_for)
        staged = sqlite3.connect(str(content / DB_MEMBER))
        pre = pre_ev = None
        try:
            damaged = False
            if db_path.exists() and db_path.stat().st_size > 0:
                with exclusive(db_path) as (live, damaged):
                    pre = db_path.with_name(f"{db_path.stem}.pre-restore-{stamp}.db")
                    if damaged:
                        # SQLite cannot copy a damaged file page by page: keep its bytes as they are.
                        for suffix in ("", "-wal"):
                            src = Path(str(db_path) + suffix)
                            if src.exists():
                                shutil.copyfile(src, str(pre) + suffix)
                                make_private(Path(str(pre) + suffix))
                    else:
                        _create_private(pre)
                        dst = sqlite3.connect(str(pre))
                        try:
                            live.backup(dst)
                        finally:
                            dst.close()
                        live.execute("PRAGMA journal_mode=WAL")
                        staged.backup(live)
                        live.execute("PRAGMA journal_mode=WAL")
            if damaged:
                # Nobody else had it open (checked under the lock just now): swap the files.
                fresh = db_path.with_name(f".{db_path.name}.restoring")
                _create_private(fresh)
                dst = sqlite3.connect(str(fresh))
                try:
                    staged.backup(dst)
                    dst.execute("PRAGMA journal_mode=WAL")
                finally:
                    dst.close()
                for suffix in ("-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(str(db_path) + suffix)
                os.replace(fresh, db_path)
            elif not pre:
                _create_private(db_path)
                live = sqlite3.connect(str(db_path))
                try:
                    staged.backup(live)
                    live.execute("PRAGMA journal_mode=WAL")
                finally:
                    live.close()
        finally:
            staged.close()
        if evidence_dir.exists():
            pre_ev = evidence_dir.with_name(f"{evidence_dir.name}.pre-restore-{stamp}")
            os.replace(evidence_dir, pre_ev)
        src_ev = content / "evidence"
        if src_ev.is_dir():
            shutil.move(str(src_ev), str(evidence_dir))
    from models import auditkey
    if pre is not None and auditkey.key_path(db_path).exists():
        # The pre-restore copy is the same database: its trail verifies with the same key.
        auditkey.write_private(auditkey.key_path(pre), auditkey.key_path(db_path).read_bytes())
    if carried is not None:
        auditkey.install(db_path, carried[0], carried[1], to_file=False)
    auditkey.reanchor(db_path)    # the witness now vouches for the restored trail's head
    result = RestoreResult(archive=Path(archive), pre_restore=pre, pre_restore_evidence=pre_ev, manifest=manifest)
    if after:
        after(db_path, manifest)
    return result


# --- automatic backups and retention ----------------------------------------------------------

def last_backup(ok: bool | None = None, automatic: bool | None = None) -> BackupRecord | None:
    q = BackupRecord.select()
    if ok is not None:
        q = q.where(BackupRecord.ok == ok)
    if automatic is not None:
        q = q.where(BackupRecord.automatic == automatic)
    return q.order_by(BackupRecord.at.desc(), BackupRecord.id.desc()).first()


def auto_backup_due(ctx, now: datetime) -> bool:
    """Due at the first start of each day (school's zone) without a successful automatic backup."""
    if (not ctx.settings.backup_auto or getattr(ctx.store, "read_only", False)
            or os.environ.get("XUEJI_DUTY_AUTO_BACKUP") == "0"):
        return False
    last = last_backup(ok=True, automatic=True)
    if last is None:
        return True
    zone = ctx.settings.zone
    return last.at.astimezone(zone).date() < now.astimezone(zone).date()


_auto_lock = threading.Lock()


def run_auto_backup(ctx, now: datetime | None = None, *, raise_errors: bool = False) -> BackupResult | None:
    """The daily backup if due, then pruning; failures are recorded (the board shows them)."""
    now = now or ctx.now()
    if not _auto_lock.acquire(blocking=False):
        return None
    try:
        with ctx.store.read():
            if not auto_backup_due(ctx, now):
                return None
        passphrase = remembered_passphrase(ctx.store.identity)
        try:
            result = create_backup(ctx, passphrase=passphrase, automatic=True)
        except DomainError:
            if raise_errors:
                raise
            return None  # recorded by create_backup; the board shows it
        folder = result.path.parent
        result.pruned = prune(folder, ctx.settings.school_name, ctx.settings.backup_keep_daily,
                              ctx.settings.backup_keep_monthly, ctx.settings.zone)
        return result
    finally:
        _auto_lock.release()


def prune(folder: Path, school: str, keep_daily: int, keep_monthly: int, zone) -> list[Path]:
    """Delete automatic archives beyond the newest per day (N days) and per month (M months).

    Only this school's automatic archives are candidates; a hand-made backup is never deleted.
    """
    slug = school_slug(school)
    autos: list[tuple[datetime, Path]] = []
    for p in folder.iterdir() if folder.is_dir() else []:
        m = _NAME_RE.match(p.name)
        if not m or not m.group("auto") or m.group("slug") != slug:
            continue
        try:
            autos.append((datetime.strptime(m.group("stamp"), "%Y%m%d-%H%M%S"), p))
        except ValueError:
            continue
    autos.sort(reverse=True)
    keep: set[Path] = set()
    days: list = []
    months: list = []
    for at, p in autos:
        day, month = at.date(), (at.year, at.month)
        if day not in days and len(days) < keep_daily:
            days.append(day)
            keep.add(p)
        if month not in months and len(months) < keep_monthly:
            months.append(month)
            keep.add(p)
    removed = []
    for _, p in autos:
        if p not in keep:
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed


# --- the copies made before a schema catch-up --------------------------------------------------

MIGRATION_KEEP = 3
MIGRATION_KEEP_DAYS = 7
_MIGRATION_RE = re.compile(r"^(?P<stem>.+)\.v(?P<version>\d+)-(?P<stamp>\d{8}T\d{6}Z)\.bak$")


def prune_migration_backups(db_path: Path, just_made: Path | None = None, *, keep: int = MIGRATION_KEEP,
                            keep_days: int = MIGRATION_KEEP_DAYS, now: datetime | None = None) -> list[Path]:
    """Delete the older copies ``open_store`` makes beside the database before each schema catch-up
    (``<stem>.v<N>-<UTC stamp>.bak``); returns what went.

    Kept: the ``keep`` (3) newest and every copy younger than ``keep_days`` (7 days), and always
    ``just_made``. Why these: such a copy is the way back to the release before an upgrade that
    went wrong, and that is noticed within the first days of work with the new release; a week
    keeps every copy of a burst of upgrades (a release and its quick fixes) however many, and
    the three newest still go three upgrades back after it. Older states are the daily archives'
    job (``run_auto_backup``, which keeps days and months), so a school upgrading for years keeps
    three full copies here instead of one per upgrade. Age is read from the name (the time the
    copy was made, in UTC), not the file's time, which a copy to a stick and back changes; a copy
    stamped in the future (a clock that was wrong) counts as new and is kept. Only this
    database's copies are looked at: another database's in the same folder, and any file that is
    not named exactly so, are never touched. A copy that cannot be deleted is left, silently: the
    next catch-up tries again, and an upgrade never fails for it.
    """
    db_path = Path(db_path)
    now = now or datetime.now(timezone.utc)
    found: list[tuple[datetime, Path]] = []
    try:
        names = list(db_path.parent.iterdir())
    except OSError:
        return []
    for p in names:
        m = _MIGRATION_RE.match(p.name)
        if not m or m.group("stem") != db_path.stem or not p.is_file():
            continue
        try:
            at = datetime.strptime(m.group("stamp"), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            continue
        found.append((at, p))
    found.sort(key=lambda item: (item[0], item[1].name), reverse=True)
    just = Path(just_made).resolve() if just_made is not None else None
    removed = []
    for rank, (at, p) in enumerate(found):
        if rank < keep or now - at < timedelta(days=keep_days) or (just is not None and p.resolve() == just):
            continue
        try:
            p.unlink()
        except OSError:
            continue
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                Path(str(p) + suffix).unlink()
        removed.append(p)
    return removed


# --- the passphrase in the OS keyring ---------------------------------------------------------

def _keyring_call(fn_name: str, *args, timeout: float = KEYRING_TIMEOUT_S):
    """keyring on a daemon thread with a timeout: a locked or absent keyring must not hang us.

    The accounts feature's ``models.secrets`` wrapper is used when present (it also refuses
    insecure backends such as a plain-text file); otherwise a small local equivalent.
    """
    import keyring

    fn = getattr(keyring, fn_name)
    try:
        from models import secrets
    except ImportError:
        secrets = None
    if secrets is not None and hasattr(secrets, "_call") and hasattr(secrets, "KeyringUnavailable"):
        try:
            return secrets._call(fn, *args, timeout=timeout)
        except secrets.KeyringUnavailable as exc:
            raise StoreError("backup.error.keyring",
                             detail=(t(exc.reason) + (f" ({exc.detail})" if exc.detail else ""))) from exc
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn(*args)
        except Exception as exc:  # keyring backends raise anything; treat all as "unavailable"
            box["error"] = exc

    th = threading.Thread(target=target, daemon=True, name="keyring")
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise StoreError("backup.error.keyring", detail=t("backup.keyring_timeout"))
    if "error" in box:
        err = box["error"]
        raise StoreError("backup.error.keyring", detail=str(err) or type(err).__name__) from err
    return box.get("value")


def remembered_passphrase(identity: str) -> str | None:
    """None when nothing is stored or the keyring cannot be reached (then: plain backup)."""
    if not identity:
        return None
    try:
        return _keyring_call("get_password", KEYRING_SERVICE, identity) or None
    except StoreError:
        return None


def remember_passphrase(identity: str, passphrase: str) -> None:
    _keyring_call("set_password", KEYRING_SERVICE, identity, passphrase)


def forget_passphrase(identity: str) -> None:
    from keyring.errors import PasswordDeleteError

    try:
        _keyring_call("delete_password", KEYRING_SERVICE, identity)
    except StoreError as exc:
        cause = exc.__cause__
        while cause is not None and not isinstance(cause, PasswordDeleteError):
            cause = cause.__cause__
        if cause is None:   # nothing was stored: nothing to forget
            raise


# --- the board --------------------------------------------------------------------------------

def banners(ctx, now: datetime) -> list[Banner]:
    """Today's backup outcome, a failure, or a backup that is too old; plus start-up check problems."""
    from models.integrity import startup_banners

    out: list[Banner] = list(startup_banners(ctx))
    last = last_backup()
    good = last_backup(ok=True)
    zone = ctx.settings.zone
    if last is not None and not last.ok:
        out.append(Banner("backup.failed", t("backup.banner.failed", at=_fmt(last.at, zone),
                                               message=last.message), "error"))
    elif good is not None and good.at.astimezone(zone).date() == now.astimezone(zone).date():
        out.append(Banner("backup.ok", t("backup.banner.ok", at=_fmt(good.at, zone, date=False),
                                           path=Path(good.path).name), "info"))
    if good is None:
        if last is not None or _has_records():
            out.append(Banner("backup.never", t("backup.banner.never"), "warning"))
    elif now - good.at > timedelta(days=ctx.settings.backup_max_age_days):
        out.append(Banner("backup.old", t("backup.banner.old", days=(now - good.at).days), "warning"))
    return out


def _has_records() -> bool:
    from models.tables import Incident
    return Incident.select().exists()


def _fmt(at: datetime, zone, date: bool = True) -> str:
    from models.timeparse import fmt_local
    return fmt_local(at, zone, with_zone=False, date=date)
