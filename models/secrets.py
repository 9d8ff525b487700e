"""The OS keyring, used only for "remember me on this terminal", and never trusted to answer.

A desktop keyring can hang (a locked Secret Service whose unlock prompt appears on
a desktop nobody is looking at, an SSH session reaching the desktop's D-Bus), or
be absent (headless box: the ``fail`` backend). So every keyring call runs on a
fresh daemon thread and is abandoned after ``TIMEOUT_S``; once one call has hung,
the keyring is considered unusable for the rest of the process rather than making
the officer wait again. Insecure backends (``fail``, ``null``, anything with
priority below 1 such as keyrings.alt's plain-text file) count as "no secure
keyring": the caller says so in one line and uses the password. There is no file
fallback, by design.

The service name carries the database's identity, so two databases on one
machine never share a remembered login.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

TIMEOUT_S = 3.0
SERVICE_PREFIX = "xueji-duty"
ACCOUNT = "remembered-login"
# Backends that talk to a desktop session over D-Bus: over SSH without a desktop they
# either fail slowly or wait for an unlock prompt nobody can see.
_DBUS_MODULES = ("keyring.backends.SecretService", "keyring.backends.kwallet", "keyring.backends.libsecret")

_hung = threading.Event()


class KeyringUnavailable(Exception):
    """No secure keyring: ``reason`` is a message key (models/i18n) for the one-line notice."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class KeyringStatus:
    usable: bool
    backend: str
    priority: float | None
    reason: str = ""        # message key when not usable
    detail: str = ""


def service_name(identity: str) -> str:
    return f"{SERVICE_PREFIX}:{identity or 'unknown'}"


def _spawn(fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
    """Run ``fn`` on its own daemon thread: a hung call is left behind, never joined."""
    fut: concurrent.futures.Future = concurrent.futures.Future()

    def target() -> None:
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            fut.set_exception(exc)

    threading.Thread(target=target, name="xueji-keyring", daemon=True).start()
    return fut


def _guarded(fn: Callable[..., Any], *args: Any, timeout: float) -> Any:
    if _hung.is_set():
        raise KeyringUnavailable("keyring.reason.hung")
    try:
        return _spawn(fn, *args).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        _hung.set()
        raise KeyringUnavailable("keyring.reason.hung") from None


def reset() -> None:
    """Forget an earlier hang (tests; and `doctor`, which wants a fresh look)."""
    _hung.clear()


def _backend_info() -> KeyringStatus:
    import keyring
    from keyring.backends import fail, null

    kr = keyring.get_keyring()
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    try:
        priority = float(kr.priority)
    except Exception as exc:  # noqa: BLE001 - a backend that cannot even say its priority
        return KeyringStatus(False, name, None, "keyring.reason.broken", str(exc))
    if isinstance(kr, (fail.Keyring, null.Keyring)):
        return KeyringStatus(False, name, priority, "keyring.reason.none")
    if priority < 1:
        return KeyringStatus(False, name, priority, "keyring.reason.insecure")
    if _ssh_without_desktop() and _is_dbus_backend(kr):
        return KeyringStatus(False, name, priority, "keyring.reason.ssh")
    return KeyringStatus(True, name, priority)


def _is_dbus_backend(kr: Any) -> bool:
    backends = [kr] + list(getattr(kr, "backends", []) or [])
    return any(type(b).__module__.startswith(_DBUS_MODULES) for b in backends)


def _ssh_without_desktop() -> bool:
    """An SSH login on Linux with no display: a desktop keyring there is unreachable or unattended."""
    if os.environ.get("XUEJI_DUTY_KEYRING", "").lower() == "on":
        return False
    if not sys.platform.startswith("linux"):
        return False
    ssh = os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_CLIENT") or os.environ.get("SSH_TTY")
    desktop = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    return bool(ssh) and not desktop


def status(timeout: float = TIMEOUT_S) -> KeyringStatus:
    """Which backend keyring would use and whether we accept it (backend detection can hang too)."""
    if os.environ.get("XUEJI_DUTY_KEYRING", "").lower() == "off":
        return KeyringStatus(False, "-", None, "keyring.reason.off")
    try:
        return _guarded(_backend_info, timeout=timeout)
    except KeyringUnavailable as exc:
        return KeyringStatus(False, "?", None, exc.reason, exc.detail)
    except Exception as exc:  # noqa: BLE001 - import or detection trouble
        return KeyringStatus(False, "?", None, "keyring.reason.broken", str(exc))


def _require_usable(timeout: float) -> None:
    st = status(timeout)
    if not st.usable:
        raise KeyringUnavailable(st.reason, st.detail)


def _call(op: Callable[..., Any], *args: Any, timeout: float) -> Any:
    """Check the backend, then do ``op``, both within one ``timeout`` budget."""
    from keyring.errors import KeyringError
    deadline = time.monotonic() + timeout
    _require_usable(timeout)
    try:
        return _guarded(op, *args, timeout=max(0.05, deadline - time.monotonic()))
    except KeyringUnavailable:
        raise
    except KeyringError as exc:
        raise KeyringUnavailable("keyring.reason.error", str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - D-Bus and backend errors come in many types
        raise KeyringUnavailable("keyring.reason.error", f"{type(exc).__name__}: {exc}") from exc


def _get(service: str) -> str | None:
    import keyring
    return keyring.get_password(service, ACCOUNT)


def _set(service: str, token: str) -> None:
    import keyring
    keyring.set_password(service, ACCOUNT, token)


def _delete(service: str) -> bool:
    import keyring
    from keyring.errors import PasswordDeleteError
    try:
        keyring.delete_password(service, ACCOUNT)
    except PasswordDeleteError:
        return False
    return True


def recall(identity: str, timeout: float = TIMEOUT_S) -> str | None:
    """The token remembered for this database, or None; ``KeyringUnavailable`` if no secure keyring."""
    return _call(_get, service_name(identity), timeout=timeout)


def remember(identity: str, token: str, timeout: float = TIMEOUT_S) -> None:
    _call(_set, service_name(identity), token, timeout=timeout)


def forget(identity: str, timeout: float = TIMEOUT_S) -> bool:
    return bool(_call(_delete, service_name(identity), timeout=timeout))


async def arun(fn: Callable[..., Any], *args: Any) -> Any:
    """Await one of the functions above without blocking the event loop (or Textual's pool)."""
    return await asyncio.wrap_future(_spawn(fn, *args))


# --- the audit trail's key (issue 13) ---------------------------------------------------------
# The per-database HMAC key of the audit chain, where there is a secure keyring (models/auditkey.py
# falls back to a private key file beside the database). Same time limit as every call above.

AUDIT_SERVICE_PREFIX = "xueji-duty-audit"
AUDIT_ACCOUNT = "audit-key"


def audit_service_name(identity: str) -> str:
    return f"{AUDIT_SERVICE_PREFIX}:{identity or 'unknown'}"


def _get_audit(service: str) -> str | None:
    import keyring
    return keyring.get_password(service, AUDIT_ACCOUNT)


def _set_audit(service: str, value: str) -> None:
    import keyring
    keyring.set_password(service, AUDIT_ACCOUNT, value)


def recall_audit_key(identity: str, timeout: float = TIMEOUT_S) -> str | None:
    """The audit key kept for this database, or None; ``KeyringUnavailable`` if no secure keyring."""
    return _call(_get_audit, audit_service_name(identity), timeout=timeout)


def keep_audit_key(identity: str, value: str, timeout: float = TIMEOUT_S) -> None:
    _call(_set_audit, audit_service_name(identity), value, timeout=timeout)
