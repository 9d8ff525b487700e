"""The audit chain's key and its head's witness (issue 13).

Each database has its own random 256-bit key for the HMAC-SHA-256 chain of its audit
trail. It is kept in the OS keyring where there is a secure one (service
``xueji-duty-audit:<database id>``, every call time-limited by ``models.secrets``), else in
a private key file beside the database (``duty.db.key``: 0600, or 0660 in a group-shared
folder like the database itself, so every colleague's session can write its events).
``XUEJI_DUTY_AUDIT_KEY=file`` or ``=keyring`` forces one; a key file found beside the
database is always used first (``audit key --share`` writes one from the keyring, for
sessions over SSH that cannot reach the desktop's keyring).

The *witness* (``duty.db.audit-head``, same mode) holds the chain's head — event count,
last id and last MAC — MAC'd with the key and rewritten after every write, so removing
events from the end of the table (or all of them) is noticed even though the remaining
chain is whole.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets as pysecrets
import threading
from dataclasses import dataclass
from pathlib import Path

from models.errors import StoreError

ENV = "XUEJI_DUTY_AUDIT_KEY"     # auto (default) | file | keyring
KEY_FORMAT = "xueji-duty-audit-key"
WITNESS_FORMAT = "xueji-duty-audit-head"

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def key_path(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + ".key")


def witness_path(db_path: Path) -> Path:
    return Path(db_path).with_name(Path(db_path).name + ".audit-head")


def _mode() -> str:
    value = os.environ.get(ENV, "auto").strip().lower()
    return value if value in ("auto", "file", "keyring") else "auto"


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` with the database's private mode, by temp file and rename (or O_EXCL)."""
    from models.store import private_mode
    mode = private_mode(path.parent)
    if exclusive:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode)
    else:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    target = path if exclusive else tmp
    if os.name != "nt":
        os.chmod(target, mode)
    if not exclusive:
        os.replace(tmp, path)


def _encode(identity: str, key: bytes) -> bytes:
    return (json.dumps({"format": KEY_FORMAT, "db": identity, "key": key.hex()}) + "\n").encode()


def parse_key(data: str | bytes, identity: str) -> bytes | None:
    """The key from a key file's (or the keyring's) text, if it is for this database."""
    try:
        doc = json.loads(data)
        if doc.get("format") != KEY_FORMAT or doc.get("db") != identity:
            return None
        key = bytes.fromhex(doc["key"])
        return key if len(key) == 32 else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _from_file(db_path: Path, identity: str) -> bytes | None:
    try:
        return parse_key(key_path(db_path).read_bytes(), identity)
    except OSError:
        return None


def _keyring_usable() -> bool:
    from models import secrets
    return secrets.status().usable


def _from_keyring(identity: str) -> bytes | None:
    from models import secrets
    try:
        text = secrets.recall_audit_key(identity)
    except secrets.KeyringUnavailable:
        return None
    return parse_key(text, identity) if text else None


def _shared_folder(db_path: Path) -> bool:
    from models.store import private_mode
    return private_mode(Path(db_path).parent) != 0o600


def identity_of(store) -> str:
    """The database's id, read once per open store (every write needs it for the key and witness)."""
    value = getattr(store, "_xj_identity", None)
    if value is None:
        value = store.identity
        if value:
            store._xj_identity = value
    return value


def forget_identity(store) -> None:
    """After an import replaced schema_meta inside this store."""
    store.__dict__.pop("_xj_identity", None)


def load(store, *, create: bool = False) -> bytes | None:
    """This database's key, or None. ``create`` makes one (first keyed event) if none is found."""
    key = load_for(store.path, identity_of(store))
    if key is None and create:
        key = _create(store, identity_of(store))
        with _lock:
            _cache[(str(store.path), identity_of(store))] = key
    return key


def load_for(db_path: Path, identity: str) -> bytes | None:
    """The key of the database ``identity`` at ``db_path`` (its key file, else the keyring)."""
    cache_key = (str(db_path), identity)
    with _lock:
        if cache_key in _cache:
            return _cache[cache_key]
    key = _from_file(Path(db_path), identity)
    if key is None and _mode() != "file":
        key = _from_keyring(identity)
    if key is not None:
        with _lock:
            _cache[cache_key] = key
    return key


def _create(store, identity: str) -> bytes:
    key = pysecrets.token_bytes(32)
    mode = _mode()
    use_keyring = mode == "keyring" or (mode == "auto" and not _shared_folder(store.path) and _keyring_usable())
    if use_keyring:
        from models import secrets
        try:
            secrets.keep_audit_key(identity, _encode(identity, key).decode())
            return key
        except secrets.KeyringUnavailable:
            if mode == "keyring":
                raise StoreError("audit.error.key_keyring", path=str(store.path))
    try:
        write_private(key_path(store.path), _encode(identity, key), exclusive=True)
    except FileExistsError:
        found = _from_file(store.path, identity)   # another session made it a moment ago
        if found is None:
            raise StoreError("audit.error.key_foreign", path=str(key_path(store.path)))
        return found
    except OSError as exc:
        raise StoreError("audit.error.key_write", path=str(key_path(store.path)),
                         detail=exc.strerror or str(exc)) from exc
    return key


def install(db_path: Path, identity: str, key: bytes, *, to_file: bool) -> Path | None:
    """Keep ``key`` for this database (after a restore or import, or ``audit key --share``)."""
    db_path = Path(db_path)
    if to_file or _mode() == "file" or _shared_folder(db_path) or not _keyring_usable():
        write_private(key_path(db_path), _encode(identity, key))
        path = key_path(db_path)
    else:
        from models import secrets
        secrets.keep_audit_key(identity, _encode(identity, key).decode())
        path = None
    forget_cache()
    return path


def file_head(db_path: Path) -> tuple[str, Head]:
    """(identity, head) of a database file that is not open, read with a plain connection."""
    import sqlite3
    con = sqlite3.connect(Path(db_path).resolve().as_uri() + "?mode=ro", uri=True)
    try:
        row = con.execute("SELECT value FROM schema_meta WHERE key='db_uuid'").fetchone()
        last = con.execute("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
        n = con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    finally:
        con.close()
    return (row[0] if row else ""), Head(n, last[0] if last else 0, last[1] if last else "0" * 64)


def reanchor(db_path: Path) -> bool:
    """After a restore or an import: the witness holds the new content's head (when the key is here)."""
    identity, head = file_head(db_path)
    key = load_for(db_path, identity)
    if key is None:
        with contextlib.suppress(OSError):
            witness_path(db_path).unlink()
        return False
    write_witness(db_path, identity, key, head, force=True)
    return True


def export_text(store) -> str | None:
    key = load(store)
    return _encode(identity_of(store), key).decode() if key else None


def forget_cache() -> None:
    with _lock:
        _cache.clear()


# --- the witness -----------------------------------------------------------------------------

@dataclass
class Head:
    count: int
    last_id: int
    last: str

    def as_dict(self) -> dict:
        return {"count": self.count, "last_id": self.last_id, "last": self.last}


def _witness_mac(key: bytes, identity: str, head: Head) -> str:
    body = json.dumps([WITNESS_FORMAT, identity, head.count, head.last_id, head.last], separators=(",", ":"))
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def write_witness(db_path: Path, identity: str, key: bytes, head: Head, *, force: bool = False) -> None:
    """Rewrite the witness unless it already holds a later head (another session wrote after us)."""
    path = witness_path(db_path)
    if not force:
        old = read_witness(db_path, identity, key)
        if isinstance(old, Head) and old.count > head.count:
            return
    doc = {"format": WITNESS_FORMAT, "db": identity, **head.as_dict(),
           "mac": _witness_mac(key, identity, head)}
    with contextlib.suppress(OSError):
        write_private(path, (json.dumps(doc) + "\n").encode())


def read_witness(db_path: Path, identity: str, key: bytes | None) -> Head | str | None:
    """The witnessed head; None when there is no witness; ``"forged"`` when its MAC is wrong."""
    try:
        doc = json.loads(witness_path(db_path).read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return "forged"
    try:
        head = Head(int(doc["count"]), int(doc["last_id"]), str(doc["last"]))
        if doc.get("format") != WITNESS_FORMAT or doc.get("db") != identity:
            return "forged"
    except (KeyError, TypeError, ValueError, AttributeError):
        return "forged"
    if key is not None and not hmac.compare_digest(str(doc.get("mac", "")), _witness_mac(key, identity, head)):
        return "forged"
    return head
