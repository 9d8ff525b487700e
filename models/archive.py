"""The backup archive on disk: a zip that seals itself, optionally encrypted with a passphrase.

Why a seal: a zip's own CRCs do not cover its headers, so a flipped byte in a
timestamp or an extra field would pass unnoticed. The zip's comment holds a MAC of
every byte before it, so *any* one-byte change is caught before a restore touches
anything. A plain archive's seal is HMAC-SHA-256 with the database's audit key
(``models.auditkey``), named in the comment by the database's id, so a forged archive
cannot be sealed by whoever lacks the key (issue 13); the archives made before that
carry a bare SHA-256 (``XJSHA256:``), which proves no origin. Inside an encrypted
archive the bare SHA-256 is enough: AES-GCM authenticates everything with the
passphrase's key.

Why chunked AES-GCM: backups travel on USB sticks. The whole zip is encrypted
in 1 MiB chunks (no size limit, little memory) with a key derived from the
passphrase by scrypt. Each chunk's nonce carries its index and a "last" flag
and every chunk authenticates the header, so a changed, reordered, truncated
or extended file is refused. The first chunk is a fixed key check, which tells
a wrong passphrase apart from a damaged file.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from pathlib import Path
from typing import BinaryIO

from models.errors import DomainError

SEAL_PREFIX = b"XJSHA256:"
SEAL_LEN = len(SEAL_PREFIX) + 64
HMAC_PREFIX = b"XJHMAC01:"
ID_LEN = 36                     # a uuid4's text
HMAC_SEAL_LEN = len(HMAC_PREFIX) + ID_LEN + 1 + 64
ENC_MAGIC = b"XJDBAK-ENC1\n"
KEY_CHECK = b"xueji-duty backup key check v1"
CHUNK = 1024 * 1024
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
_BUF = 1024 * 1024


class ArchiveError(DomainError):
    """The archive cannot be used; nothing was changed."""

    key = "backup.error.damaged"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BUF), b""):
            h.update(block)
    return h.hexdigest()


# --- the seal -------------------------------------------------------------------------------

def seal_placeholder(identity: str | None = None) -> bytes:
    """The zip comment to write; ``seal`` overwrites its digits once the zip is closed.

    With ``identity`` (a plain archive): an HMAC seal naming the database whose key makes it.
    """
    if identity is None:
        return SEAL_PREFIX + b"0" * 64
    ident = identity.encode("ascii", "replace")[:ID_LEN].ljust(ID_LEN, b" ")
    return HMAC_PREFIX + ident + b":" + b"0" * 64


def seal_identity(path: Path) -> str | None:
    """The database id an HMAC seal names; None for a bare SHA-256 seal (or no seal)."""
    size = path.stat().st_size
    if size < HMAC_SEAL_LEN + 22:
        return None
    with path.open("rb") as fh:
        fh.seek(size - HMAC_SEAL_LEN)
        tail = fh.read(HMAC_SEAL_LEN)
    if not tail.startswith(HMAC_PREFIX):
        return None
    return tail[len(HMAC_PREFIX):len(HMAC_PREFIX) + ID_LEN].decode("ascii", "replace").strip()


def _hasher(key: bytes | None):
    import hmac
    return hmac.new(key, digestmod=hashlib.sha256) if key is not None else hashlib.sha256()


def seal(path: Path, key: bytes | None = None) -> str:
    """Write the MAC (HMAC with ``key``, else SHA-256) of everything before the digits into them."""
    size = path.stat().st_size
    h = _hasher(key)
    prefix, length = (HMAC_PREFIX, HMAC_SEAL_LEN) if key is not None else (SEAL_PREFIX, SEAL_LEN)
    with path.open("r+b") as fh:
        fh.seek(size - length)
        if fh.read(len(prefix)) != prefix:
            raise ValueError("zip was written without the seal placeholder")
        fh.seek(0)
        remaining = size - 64
        while remaining:
            block = fh.read(min(_BUF, remaining))
            h.update(block)
            remaining -= len(block)
        digest = h.hexdigest()
        fh.seek(size - 64)
        fh.write(digest.encode("ascii"))
        fh.flush()
        os.fsync(fh.fileno())
    return digest


def check_seal(path: Path, key: bytes | None = None) -> str:
    """Raise ``ArchiveError`` unless the zip's seal matches its bytes; returns ``hmac`` or ``sha256``.

    An HMAC seal needs ``key``; a bare SHA-256 seal is checked as such (the caller decides
    whether an unauthenticated archive may be used).
    """
    import hmac
    size = path.stat().st_size
    if size < SEAL_LEN + 22:
        raise ArchiveError("backup.error.damaged", path=str(path), detail="too short")
    keyed = seal_identity(path) is not None
    if keyed and key is None:
        raise ArchiveError("backup.error.key_needed", path=str(path))
    h = _hasher(key if keyed else None)
    prefix_want, length = (HMAC_PREFIX, HMAC_SEAL_LEN) if keyed else (SEAL_PREFIX, SEAL_LEN)
    with path.open("rb") as fh:
        remaining = size - 64
        tail_start = size - length
        while remaining:
            block = fh.read(min(_BUF, remaining))
            h.update(block)
            remaining -= len(block)
        stored = fh.read(64)
        fh.seek(tail_start)
        prefix = fh.read(len(prefix_want))
    if prefix != prefix_want:
        raise ArchiveError("backup.error.not_backup", path=str(path))
    if not hmac.compare_digest(stored.decode("ascii", "replace"), h.hexdigest()):
        raise ArchiveError("backup.error.forged" if keyed else "backup.error.damaged", path=str(path),
                           detail="seal")
    return "hmac" if keyed else "sha256"


# --- encryption -----------------------------------------------------------------------------

def is_encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(ENC_MAGIC)) == ENC_MAGIC


def derive_key(passphrase: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> bytes:
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def encrypt_file(src: Path, dest: Path, passphrase: str) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise ArchiveError("backup.error.empty_passphrase")
    salt = os.urandom(16)
    prefix = os.urandom(7)
    header = json.dumps({"kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                         "salt": base64.b64encode(salt).decode(), "nonce": base64.b64encode(prefix).decode(),
                         "chunk": CHUNK, "cipher": "AES-256-GCM"}, sort_keys=True).encode()
    aad = ENC_MAGIC + header
    aead = AESGCM(derive_key(passphrase, salt))
    with src.open("rb") as fin, dest.open("wb") as out:
        out.write(ENC_MAGIC + struct.pack(">I", len(header)) + header)
        _write_chunk(out, aead.encrypt(_nonce(prefix, 0, False), KEY_CHECK, aad))
        index = 1
        block = fin.read(CHUNK)
        while True:
            nxt = fin.read(CHUNK) if len(block) == CHUNK else b""
            last = not nxt
            _write_chunk(out, aead.encrypt(_nonce(prefix, index, last), block, aad))
            if last:
                break
            block, index = nxt, index + 1
        out.flush()
        os.fsync(out.fileno())


def _write_chunk(out: BinaryIO, data: bytes) -> None:
    out.write(struct.pack(">I", len(data)) + data)


def _read_chunk(fh: BinaryIO, path: Path) -> bytes:
    head = fh.read(4)
    if len(head) != 4:
        raise ArchiveError("backup.error.damaged", path=str(path), detail="truncated")
    (n,) = struct.unpack(">I", head)
    if n > CHUNK + 16:
        raise ArchiveError("backup.error.damaged", path=str(path), detail="chunk size")
    data = fh.read(n)
    if len(data) != n:
        raise ArchiveError("backup.error.damaged", path=str(path), detail="truncated")
    return data


def decrypt_file(src: Path, dest: Path, passphrase: str) -> None:
    """Decrypt into ``dest``; a wrong passphrase or any changed byte raises ``ArchiveError``."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    with src.open("rb") as fh:
        if fh.read(len(ENC_MAGIC)) != ENC_MAGIC:
            raise ArchiveError("backup.error.not_backup", path=str(src))
        raw_len = fh.read(4)
        if len(raw_len) != 4:
            raise ArchiveError("backup.error.damaged", path=str(src), detail="header")
        (hlen,) = struct.unpack(">I", raw_len)
        header = fh.read(hlen) if hlen < 4096 else b""
        try:
            meta = json.loads(header.decode("utf-8"))
            salt = base64.b64decode(meta["salt"], validate=True)
            prefix = base64.b64decode(meta["nonce"], validate=True)
            n, r, p = int(meta["n"]), int(meta["r"]), int(meta["p"])
            if meta.get("kdf") != "scrypt" or len(prefix) != 7 or not (2 ** 10 <= n <= 2 ** 20) \
                    or n & (n - 1) or not (1 <= r <= 32) or not (1 <= p <= 16):
                raise ValueError(meta)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise ArchiveError("backup.error.damaged", path=str(src), detail="header")
        aad = ENC_MAGIC + header
        aead = AESGCM(derive_key(passphrase, salt, n, r, p))
        try:
            check = aead.decrypt(_nonce(prefix, 0, False), _read_chunk(fh, src), aad)
        except InvalidTag:
            raise ArchiveError("backup.error.wrong_passphrase", path=str(src))
        if check != KEY_CHECK:
            raise ArchiveError("backup.error.wrong_passphrase", path=str(src))
        index = 1
        with dest.open("wb") as out:
            while True:
                data = _read_chunk(fh, src)
                try:
                    out.write(aead.decrypt(_nonce(prefix, index, False), data, aad))
                except InvalidTag:
                    try:  # the last chunk carries the "last" flag in its nonce
                        out.write(aead.decrypt(_nonce(prefix, index, True), data, aad))
                    except InvalidTag:
                        raise ArchiveError("backup.error.damaged", path=str(src), detail=f"chunk {index}")
                    break
                index += 1
            if fh.read(1):
                raise ArchiveError("backup.error.damaged", path=str(src), detail="trailing bytes")
