"""The keyring wrapper: real keyring API, test backends set with keyring.set_keyring."""
from __future__ import annotations

import time

import keyring
import pytest
from keyring.backends import fail, null

from models import secrets
from tests.keyrings import HangingKeyring, LockedKeyring, PlaintextLikeKeyring


def test_remember_recall_forget_with_the_in_memory_backend(memory_keyring):
    secrets.remember("db-1", "tok")
    assert secrets.recall("db-1") == "tok" and secrets.recall("db-2") is None
    assert ("xueji-duty:db-1", "remembered-login") in memory_keyring.store   # service names the database
    assert secrets.forget("db-1") and secrets.recall("db-1") is None
    assert secrets.forget("db-1") is False


@pytest.mark.parametrize("backend, reason", [
    (fail.Keyring(), "keyring.reason.none"),
    (null.Keyring(), "keyring.reason.none"),
    (PlaintextLikeKeyring(), "keyring.reason.insecure"),
])
def test_fail_null_and_insecure_backends_are_no_secure_keyring(backend, reason):
    keyring.set_keyring(backend)
    st = secrets.status()
    assert not st.usable and st.reason == reason
    with pytest.raises(secrets.KeyringUnavailable) as exc:
        secrets.remember("db", "tok")
    assert exc.value.reason == reason


def test_a_locked_keyring_error_is_reported_not_raised_raw():
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(secrets.KeyringUnavailable) as exc:
        secrets.recall("db")
    assert exc.value.reason == "keyring.reason.error"


def test_a_hanging_backend_is_abandoned_within_three_seconds_and_not_retried():
    hang = HangingKeyring()
    keyring.set_keyring(hang)
    try:
        start = time.monotonic()
        with pytest.raises(secrets.KeyringUnavailable) as exc:
            secrets.recall("db")
        took = time.monotonic() - start
        assert exc.value.reason == "keyring.reason.hung" and took < 3.5
        start = time.monotonic()
        with pytest.raises(secrets.KeyringUnavailable):
            secrets.remember("db", "tok")
        assert time.monotonic() - start < 0.5 and hang.calls == 1   # known hung: no second wait
    finally:
        hang.release.set()


def test_ssh_without_a_desktop_refuses_desktop_backends(monkeypatch):
    class FakeSecretService(PlaintextLikeKeyring):
        priority = 5
    FakeSecretService.__module__ = "keyring.backends.SecretService"
    keyring.set_keyring(FakeSecretService())
    monkeypatch.setattr(secrets.sys, "platform", "linux")
    monkeypatch.setenv("SSH_CONNECTION", "203.0.113.5 50000 10.0.0.2 22")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert secrets.status().reason == "keyring.reason.ssh"
    monkeypatch.setenv("XUEJI_DUTY_KEYRING", "on")   # an admin who set up an unlocked keyring
    assert secrets.status().usable
    monkeypatch.setenv("XUEJI_DUTY_KEYRING", "off")
    assert secrets.status().reason == "keyring.reason.off"
