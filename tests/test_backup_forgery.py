"""Issue 13, item 6: backups that cannot be forged or bombed.

A plain archive is sealed with HMAC-SHA-256 and the database's audit key, so an archive
rebuilt with an extra admin is refused whatever seal it carries; an archive whose member
inflates beyond what its manifest declares is stopped at the declared size; an encrypted
archive carries the key and restores on a machine that never saw the database.
"""
from __future__ import annotations

import io
import json
import shutil
import sqlite3
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from models import accounts, archive, auditkey, backup
from models.archive import ArchiveError
from models.store import open_store
from tests.conftest import T0, make_ctx, run_cli

PW = "Haifeng-2026"
PASS = "正确的口令 correct horse"


@pytest.fixture
def desk(store, clock):
    accounts.bootstrap_admin(make_ctx(store, clock, username="-"), "admin", "王校长", PW)
    admin = make_ctx(store, clock, role="admin", username="admin")
    accounts.create_user(admin, "zhang", "officer", "张老师", "Zhang-pass-2026")
    return admin


def digest_files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _forge_with_extra_admin(good: Path, out: Path, seal_key: bytes | None, identity: str) -> None:
    """Unpack a real plain backup, add an admin to its database, repack it with a fresh manifest."""
    work = out.parent / "forge"
    work.mkdir()
    with zipfile.ZipFile(good) as zf:
        zf.extractall(work)
    db = work / backup.DB_MEMBER
    con = sqlite3.connect(db)
    con.execute("INSERT INTO user (username, display_name, role, password_hash, disabled, created_at, version, lockouts) "
                "VALUES ('mallory', 'M', 'admin', 'x', 0, '2026-11-25T02:00:00.000000+00:00', 1, 0)")
    con.commit()
    con.close()
    manifest = json.loads((work / backup.MANIFEST).read_text())
    for f in manifest["files"]:
        if f["name"] == backup.DB_MEMBER:
            f["sha256"], f["size"] = archive.sha256_file(db), db.stat().st_size
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(backup.MANIFEST, json.dumps(manifest))
        for f in manifest["files"]:
            zf.write(work / f["name"], f["name"])
        zf.comment = archive.seal_placeholder(identity if seal_key is not None else None)
    archive.seal(out, seal_key)
    shutil.rmtree(work)


@pytest.mark.parametrize("how", ["sha256-seal", "hmac-wrong-key", "hmac-no-key-here"])
def test_a_forged_plain_backup_with_an_extra_admin_is_refused(desk, store, db_path, tmp_path, how):
    good = backup.create_backup(desk, tmp_path / "out").path
    identity = store.identity
    store.close()
    forged = tmp_path / "forged.zip"
    key = {"sha256-seal": None, "hmac-wrong-key": b"\x01" * 32, "hmac-no-key-here": b"\x02" * 32}[how]
    _forge_with_extra_admin(good, forged, key, identity if how != "hmac-no-key-here" else "f" * 36)
    before = digest_files(tmp_path)
    with pytest.raises(ArchiveError) as exc:
        backup.verify_archive(forged, key_for=backup.key_lookup(db_path))
    assert exc.value.key in ("backup.error.unauthenticated", "backup.error.forged", "backup.error.key_needed")
    with pytest.raises(ArchiveError):
        backup.restore_backup(db_path, forged, now=T0)
    assert digest_files(tmp_path) == before          # nothing written anywhere, not even a temp folder
    r = run_cli("restore", str(forged), "--yes", "--user", "admin", "--password-stdin", "--db", str(db_path),
                input=PW + "\n")
    assert r.returncode == 1 and "未做任何更改" in r.stderr and "Traceback" not in r.stderr
    s = open_store(db_path)
    try:
        assert [u.username for u in accounts.list_users()] == ["admin", "zhang"]
    finally:
        s.close()


def _bomb_stream(target_bytes: int) -> bytes:
    """A raw deflate stream that inflates to ``target_bytes`` zeros, built in milliseconds:
    one compressed 1 MiB block of zeros, repeated (a full flush makes blocks independent)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(b"\0" * (1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    c2 = zlib.compressobj(9, zlib.DEFLATED, -15)
    again = c2.compress(b"\0" * (1 << 20)) + c2.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    return block * (target_bytes >> 20) + end


def _zip_with_lying_member(path: Path, manifest: bytes, name: str, stream: bytes, declared: int) -> None:
    """A zip whose member ``name`` says it holds ``declared`` bytes but whose data inflates far beyond."""
    out = io.BytesIO()
    entries = []

    def local(fname: bytes, method: int, crc: int, csize: int, usize: int, data: bytes):
        off = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, csize, usize, len(fname), 0))
        out.write(fname)
        out.write(data)
        entries.append((fname, method, crc, csize, usize, off))

    local(backup.MANIFEST.encode(), 0, zlib.crc32(manifest), len(manifest), len(manifest), manifest)
    local(name.encode(), 8, 0, len(stream), declared, stream)
    cd = out.tell()
    for fname, method, crc, csize, usize, off in entries:
        out.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, csize, usize,
                              len(fname), 0, 0, 0, 0, 0, off))
        out.write(fname)
    cd_size = out.tell() - cd
    comment = archive.seal_placeholder(json.loads(manifest)["db_uuid"])
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), cd_size, cd, len(comment)))
    out.write(comment)
    path.write_bytes(out.getvalue())


def test_a_zip_bomb_is_stopped_at_the_declared_size(desk, store, db_path, tmp_path, monkeypatch):
    identity = store.identity
    key = auditkey.load(store)
    store.close()
    stream = _bomb_stream(4 * 1024 ** 3)                # ~4 MB that inflate to 4 GiB
    assert 3_000_000 < len(stream) < 6_000_000
    manifest = json.dumps({"format": backup.FORMAT, "format_version": backup.FORMAT_VERSION, "db_uuid": identity,
                           "files": [{"name": backup.DB_MEMBER, "size": 10, "sha256": "0" * 64}]}).encode()
    bomb = tmp_path / "bomb.zip"
    _zip_with_lying_member(bomb, manifest, backup.DB_MEMBER, stream, 10)
    written: list[int] = []
    real_copy = backup.copy_member

    def spy(src, out, limit, name, arch):
        try:
            n = real_copy(src, out, limit, name, arch)
        finally:
            written.append(out.tell())
        return n

    monkeypatch.setattr(backup, "copy_member", spy)
    before = digest_files(tmp_path)
    # Unsealed (a stranger's bomb): refused before anything is unpacked.
    with pytest.raises(ArchiveError) as exc:
        backup.restore_backup(db_path, bomb, now=T0)
    assert exc.value.key == "backup.error.forged" and written == []
    # Sealed with the right key (the worst case: someone holding it): stopped at the declared 10 bytes.
    archive.seal(bomb, key)
    started = time.monotonic()
    with pytest.raises(ArchiveError) as exc:
        backup.restore_backup(db_path, bomb, now=T0)
    assert time.monotonic() - started < 5
    assert exc.value.key in ("backup.error.too_big", "backup.error.damaged", "backup.error.hash_mismatch")
    assert written and max(written) <= 10
    after = digest_files(tmp_path)
    assert {k: v for k, v in after.items() if k != "bomb.zip"} == {k: v for k, v in before.items() if k != "bomb.zip"}


def test_a_member_that_overflows_its_declared_size_is_stopped(tmp_path):
    """copy_member itself: never one byte past the limit, whatever the source holds."""
    out = io.BytesIO()
    with pytest.raises(ArchiveError) as exc:
        backup.copy_member(io.BytesIO(b"x" * 5000), out, 100, "duty.db", tmp_path / "a.zip")
    assert exc.value.key == "backup.error.too_big" and len(out.getvalue()) <= 100


def test_an_encrypted_backup_restores_on_a_machine_without_the_key(desk, store, db_path, tmp_path):
    enc = backup.create_backup(desk, tmp_path / "out", passphrase=PASS).path
    plain = backup.create_backup(desk, tmp_path / "out2").path
    store.close()
    new_machine = tmp_path / "new" / "duty.db"
    # The plain one needs its key: refused without it, restored with the copy from `audit key --export`.
    r = run_cli("restore", str(plain), "--yes", "--db", str(new_machine))
    assert r.returncode == 1 and "--audit-key" in r.stderr
    r = run_cli("restore", str(enc), "--yes", "--passphrase-stdin", "--db", str(new_machine), input=PASS + "\n")
    assert r.returncode == 0, r.stderr
    assert auditkey.key_path(new_machine).exists()       # the archive carried the key
    r = run_cli("audit", "verify", "--db", str(new_machine))
    assert r.returncode == 0, r.stderr
    other = tmp_path / "other" / "duty.db"
    r = run_cli("restore", str(plain), "--yes", "--db", str(other), "--audit-key", str(db_path) + ".key")
    assert r.returncode == 0, r.stderr
    assert run_cli("audit", "verify", "--db", str(other)).returncode == 0


def test_every_manifest_holds_the_audit_head(desk, store, tmp_path):
    result = backup.create_backup(desk, tmp_path / "out")
    head = result.manifest["audit_head"]
    assert head["count"] == 2 and len(head["last"]) == 64      # bootstrap and one account
