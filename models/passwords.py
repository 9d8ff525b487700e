"""Password verifiers and login-token hashes: the only secrets-adjacent values the database holds.

Passwords are kept as scrypt verifiers (stdlib ``hashlib.scrypt``), memory-hard so
a stolen copy of the database file is expensive to attack, and verifiable by every
session that opens the shared file (the registry terminal and a colleague over SSH).
The parameters are written into each verifier so they can be raised later without
invalidating old ones: ``needs_rehash`` tells the login path to upgrade them.

Login tokens are 256-bit random values; a plain SHA-256 of such a value is enough
(there is nothing to guess), and it makes the lookup a simple indexed equality.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from models.errors import ValidationError

# OWASP's scrypt equivalences: N=2^17,p=1 ≈ N=2^15,p=3 (32 MiB each pass); ~0.3 s on the
# 2-core test machine, measured in bench/ (see README), which is acceptable once per login.
SCRYPT_N = 2 ** 15
SCRYPT_R = 8
SCRYPT_P = 3
SALT_BYTES = 16
KEY_BYTES = 32
_MAXMEM = 256 * 1024 * 1024
SCHEME = "scrypt"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                          dklen=KEY_BYTES)


def make_verifier(password: str) -> str:
    """``scrypt$n=32768,r=8,p=3$<salt>$<key>``: the password cannot be read back from it."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{SCHEME}$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _parse(verifier: str) -> tuple[int, int, int, bytes, bytes] | None:
    try:
        scheme, params, salt, key = verifier.split("$")
        if scheme != SCHEME:
            return None
        values = dict(part.split("=") for part in params.split(","))
        return (int(values["n"]), int(values["r"]), int(values["p"]),
                base64.b64decode(salt), base64.b64decode(key))
    except (ValueError, KeyError, AttributeError):
        return None


def check_password(password: str, verifier: str | None) -> bool:
    """Constant-time comparison; a missing or unreadable verifier never matches."""
    parsed = _parse(verifier or "")
    if parsed is None:
        # Spend the same effort as a real check, so the answer's timing reveals nothing.
        _derive(password, b"\0" * SALT_BYTES, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return False
    n, r, p, salt, key = parsed
    return hmac.compare_digest(_derive(password, salt, n, r, p), key)


def needs_rehash(verifier: str | None) -> bool:
    parsed = _parse(verifier or "")
    return parsed is None or parsed[:3] != (SCRYPT_N, SCRYPT_R, SCRYPT_P)


def burn_time(password: str) -> None:
    """Do the work of one check for an unknown user, so usernames cannot be probed by timing."""
    check_password(password, None)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(("xueji-duty-login:" + token).encode("utf-8")).hexdigest()


def _classes(password: str) -> int:
    kinds = set()
    for ch in password:
        if ch.isdigit():
            kinds.add("digit")
        elif ch.isalpha() and ch.isascii():
            kinds.add("upper" if ch.isupper() else "lower")
        else:
            kinds.add("other")  # punctuation, spaces, Chinese characters
    return len(kinds)


def validate_password(password: str, username: str, min_length: int, field: str = "password") -> None:
    """The school's rules: long enough, not the username, not all one kind of character."""
    if password is None or len(password) < max(1, min_length):
        raise ValidationError({field: ("error.password_short", {"min": min_length})})
    if password.strip().casefold() == (username or "").strip().casefold():
        raise ValidationError({field: ("error.password_is_username", {})})
    if _classes(password) < 2:
        raise ValidationError({field: ("error.password_one_class", {})})
