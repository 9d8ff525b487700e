"""Evidence (保留证据): files registered with their SHA-256, size, collector and custody note.

A file is either copied into the evidence folder beside the database (so the
record survives the original being cleaned up) or referenced where it lies.
``verify`` re-hashes every file and names any that changed or disappeared:
the hash taken at registration is the reference, and it is never updated.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from models import audit
from models.context import Context
from models.errors import ValidationError
from models.incidents import _clean_text, get_incident
from models.outfile import open_private, private_dir, tighten_dir
from models.text import path_text, readable_name, text_path
from models.roles import require
from models.tables import Evidence, Incident

CHUNK = 1024 * 1024


def sha256_of(path: Path) -> tuple[str, int]:
    """(hex digest, size) read in chunks, so a disk image does not fill memory."""
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


PART = ".part"      # a copy being written; ``check`` reports one left behind by a kill


def part_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}{PART}")


def _copy_hashing(src: Path, dest: Path) -> tuple[str, int]:
    """Copy and hash in one pass; the digest is of the bytes actually written. The copy is written
    under a hidden ``.NAME.part`` name, private from the start (students' data: 0600, not the
    source's mode), and renamed to ``dest`` only when complete, so a kill leaves no file that
    looks whole."""
    h = hashlib.sha256()
    size = 0
    part = part_name(dest)
    try:
        with src.open("rb") as fin, open_private(part) as fout:
            while chunk := fin.read(CHUNK):
                fout.write(chunk)
                h.update(chunk)
                size += len(chunk)
            fout.flush()
            os.fsync(fout.fileno())
        st = src.stat()
        os.utime(part, ns=(st.st_atime_ns, st.st_mtime_ns))   # the original's times, not its mode
        if dest.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dest))
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return h.hexdigest(), size


def _free_name(folder: Path, name: str) -> Path:
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{n}{suffix}"
        n += 1
    return candidate


def _source(path: str | os.PathLike) -> Path:
    text = str(path).strip()
    if not text:
        raise ValidationError({"path": ("error.required", {})})
    src = Path(text).expanduser()
    if not src.exists():
        raise ValidationError({"path": ("error.evidence_missing", {"path": text})})
    if not src.is_file():
        raise ValidationError({"path": ("error.evidence_not_file", {"path": text})})
    return src.resolve()


def default_collector(ctx: Context) -> str:
    """The collector an evidence form offers and a registration without one records: the acting
    officer's profile name, or the login when the profile has none."""
    from models.profiles import display_name
    return display_name(ctx.actor.username)


def add_evidence(ctx: Context, ref: Any, path: str | os.PathLike, *, copy: bool = False,
                 note: str = "", collected_at: datetime | None = None,
                 collected_by: str | None = None) -> Evidence:
    """Register one file. On a failed write the copy is removed again: no orphan files."""
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    src = _source(path)
    note = _clean_text(note, "custody_note")
    # Who collected it, as typed; when nobody is named, the officer by the profile's name (王丽), as
    # a report's 联系人 names them, not by the login (wangli). A stored value is never rewritten.
    collector = _clean_text(collected_by or "", "collected_by", limit=200) or default_collector(ctx)
    when = collected_at or ctx.now()
    stored_rel = None
    dest = None
    try:
        if copy:
            folder = ctx.store.evidence_dir / inc.code
            from models.import_check import safe_relative
            if not safe_relative(inc.code) or "/" in inc.code:
                # A code that is not one (an edited file or import): never a folder outside (issue 13).
                raise ValidationError({"path": ("error.evidence_bad_code", {"code": inc.code[:60]})})
            private_dir(folder)
            tighten_dir(ctx.store.evidence_dir)   # made 0755 by an older version: students' files
            tighten_dir(folder)
            dest = _free_name(folder, readable_name(src.name))
            digest, size = _copy_hashing(src, dest)
            stored_rel = dest.relative_to(ctx.store.evidence_dir).as_posix()
        else:
            digest, size = sha256_of(src)
    except OSError as exc:
        if dest is not None and dest.exists():
            dest.unlink()
        raise ValidationError({"path": ("error.evidence_unreadable", {"path": str(src), "detail": exc.strerror or str(exc)})})
    try:
        with ctx.store.write():
            ev = Evidence.create(incident=inc, original_path=path_text(src), stored_path=stored_rel, copied=copy,
                                 sha256=digest, size=size, collected_by=collector, collected_at=when,
                                 custody_note=note, created_at=ctx.now())
            audit.record(ctx, "evidence.add", "incident", inc.id,
                         {"evidence": [None, ev.id], "file": [None, path_text(src.name)], "sha256": [None, digest],
                          "size": [None, size], "copied": [None, copy]}, note or None)
    except BaseException:
        if dest is not None and dest.exists():
            dest.unlink()
        raise
    return ev


def evidence_for(inc: Incident | int) -> list[Evidence]:
    return list(Evidence.select().where(Evidence.incident == inc).order_by(Evidence.collected_at, Evidence.id))


def file_of(ev: Evidence, evidence_dir: Path) -> Path:
    """The file to check: our copy when there is one, else the original."""
    if ev.copied and ev.stored_path:
        return evidence_dir / Path(ev.stored_path)
    return text_path(ev.original_path)


@dataclass(frozen=True)
class Check:
    evidence: Evidence
    path: Path
    status: str            # ok | changed | missing | unreadable
    sha256: str | None = None
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def verify(ctx: Context, ref: Any = None) -> list[Check]:
    """Re-hash every registered file (of one incident, or all); reading only, never fixing."""
    with ctx.store.read():
        q = Evidence.select().order_by(Evidence.incident, Evidence.id)
        if ref is not None:
            q = q.where(Evidence.incident == get_incident(ref))
        rows: Iterable[Evidence] = list(q)
    out = []
    for ev in rows:
        path = file_of(ev, ctx.store.evidence_dir)
        if not path.is_file():
            out.append(Check(ev, path, "missing"))
            continue
        try:
            digest, size = sha256_of(path)
        except OSError:
            out.append(Check(ev, path, "unreadable"))
            continue
        out.append(Check(ev, path, "ok" if digest == ev.sha256 and size == ev.size else "changed", digest, size))
    return out
