"""Files the desk writes that hold personal data: private, and never through someone else's node.

Exports, reports, contact lists, evidence copies, pre-restore copies and
restored databases carry students' personal information, as the database does;
they get the database's modes (``models.store.private_mode``): 0600 files and
0700 folders, or 0660/0770 when the folder is group-writable (several OS users
sharing one database, README).

``write_output`` is the one way an output file is written: it refuses a target
that is not a regular file (a device such as ``/dev/full``, a FIFO, a symlink,
a folder, an empty name), writes a private temporary file beside it and renames
it over the target, so a reader never sees half a file and a node planted at the
path is never replaced or written through.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from models.i18n import t


class OutputRefused(OSError):
    """An output path we will not write to; ``strerror`` is the translated reason, so callers that
    already report ``OSError.strerror`` say why."""

    def __init__(self, path: Path | str, key: str) -> None:
        super().__init__(0, t(key), str(path))
        self.key = key


def _posix() -> bool:
    return os.name != "nt"   # NTFS permissions come from the profile folder; chmod cannot say them


def private_mode(folder: Path) -> int:
    from models.store import private_mode as store_mode
    return store_mode(folder)


def dir_mode(parent: Path) -> int:
    return 0o770 if private_mode(parent) == 0o660 else 0o700


def private_dir(folder: Path) -> Path:
    """``mkdir -p`` where each folder created is 0700 (0770 under a group-writable parent); folders
    that already exist keep their mode (the officer's own Documents folder is not ours to change)."""
    folder = Path(folder)
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        mode = dir_mode(d.parent)
        try:
            d.mkdir(mode=mode)
        except FileExistsError:
            continue
        if _posix():
            os.chmod(d, mode)       # the umask may have taken bits away
    return folder


def tighten_dir(folder: Path) -> None:
    """An existing folder of ours (the evidence folder, an incident's folder) made private."""
    if _posix():
        with contextlib.suppress(OSError):
            os.chmod(folder, dir_mode(folder.parent))


def check_target(path: Path) -> Path:
    path = Path(path)
    if not str(path).strip() or path.name in ("", ".", ".."):
        raise OutputRefused(path, "output.error.no_name")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise OutputRefused(path, "output.error.not_regular") from exc
    if stat.S_ISDIR(st.st_mode):
        raise OutputRefused(path, "output.error.is_dir")
    if not stat.S_ISREG(st.st_mode):
        raise OutputRefused(path, "output.error.not_regular")
    return path


@contextlib.contextmanager
def open_private(path: Path, *, exclusive: bool = True) -> Iterator[BinaryIO]:
    """A new file opened for writing with the private mode from the start (never a moment 0644)."""
    path = Path(path)
    mode = private_mode(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC) | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, mode)
    if _posix():
        os.fchmod(fd, mode)
    with os.fdopen(fd, "wb") as fh:
        yield fh


def make_private(path: Path) -> None:
    """A file we just wrote by other means (SQLite, a copy) given the private mode."""
    if _posix():
        with contextlib.suppress(FileNotFoundError):
            os.chmod(path, private_mode(Path(path).parent))


def write_output(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` privately and atomically; refuse anything but a regular file there."""
    path = check_target(Path(path).expanduser())
    private_dir(path.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name[:60]}.", suffix=".part", dir=str(path.parent))
    tmp = Path(tmp_name)
    try:
        if _posix():
            os.fchmod(fd, private_mode(path.parent))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        check_target(path)          # nothing planted at the path while we wrote
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path
