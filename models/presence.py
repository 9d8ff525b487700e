"""Who else has this incident, report or contact open, and whether they are typing.

Each running session (one process) keeps one row in a small heartbeat table,
refreshed at most once per ``BEAT_S`` while nothing changes (at once when it opens
another record or starts typing, so a colleague sees it within a second or two). A row not
refreshed for ``STALE_S`` is ignored and removed, so a session that ended or
was killed (SIGKILL, a pulled cable) disappears within 15 s; on the same host
a session whose process is gone disappears at once. A clean exit removes its row.

The table lives in a companion file beside the database (``<name>-presence.db``,
same private mode): heartbeats are not records, and written into the database
itself they would move ``PRAGMA data_version`` every few seconds and make every
screen that follows the change feed reload for nothing. Presence is best-effort:
a busy or unwritable file only means no one is shown.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

BEAT_S = 5.0       # at most one write per this many seconds while nothing changes
STALE_S = 12.0     # older than this: the session is gone (two beats missed), shown no longer

SESSION = uuid.uuid4().hex   # this process's session
HOST = socket.gethostname()

_SCHEMA = """CREATE TABLE IF NOT EXISTS presence (
    session TEXT PRIMARY KEY, username TEXT NOT NULL, display TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '', host TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT '', key TEXT NOT NULL DEFAULT '', incident INTEGER,
    what TEXT NOT NULL DEFAULT '', typing INTEGER NOT NULL DEFAULT 0, seen REAL NOT NULL)"""


@dataclass(frozen=True)
class Here:
    """One other session: who, from where, what they have open, typing or not, seen how long ago."""

    session: str
    username: str
    display: str
    origin: str
    kind: str
    key: str
    incident: int | None
    what: str
    typing: bool
    age_s: float

    @property
    def name(self) -> str:
        return self.display or self.username

    @property
    def via_ssh(self) -> bool:
        return self.origin.startswith("ssh")


def presence_path(db_path: Path) -> Path:
    return db_path.with_name(f"{db_path.stem}-presence.db")


class Presence:
    """This session's heartbeat and the others' rows, for one database."""

    def __init__(self, db_path: Path, session: str = SESSION, clock=time.time) -> None:
        self.path = presence_path(Path(db_path))
        self.session = session
        self.clock = clock
        self._con: sqlite3.Connection | None = None
        self._last_write = 0.0
        self._last_state: tuple | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._con is not None:
            return self._con
        try:
            if not self.path.exists():
                from models.store import _create_private
                _create_private(self.path)
            con = sqlite3.connect(str(self.path), timeout=1.0, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA busy_timeout = 1000")
            con.execute(_SCHEMA)
        except Exception:  # noqa: BLE001 - presence is best-effort
            return None
        self._con = con
        return con

    def beat(self, actor, kind: str = "", key: str = "", incident: int | None = None, what: str = "",
             typing: bool = False, force: bool = False) -> bool:
        """Say what this session has open; written when it changed or ``BEAT_S`` passed. True if written."""
        state = (actor.username, kind, str(key), incident, what, bool(typing))
        now = self.clock()
        # At once when another record is opened or typing starts; otherwise one write per BEAT_S.
        urgent = (self._last_state is None or self._last_state[1:5] != state[1:5]
                  or (typing and not self._last_state[5]))
        if not force and not urgent and now - self._last_write < BEAT_S:
            return False
        con = self._connect()
        if con is None:
            return False
        try:
            con.execute("INSERT INTO presence (session, username, display, origin, host, pid, kind, key, incident,"
                        " what, typing, seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(session) DO UPDATE SET"
                        " username=excluded.username, display=excluded.display, origin=excluded.origin,"
                        " kind=excluded.kind, key=excluded.key, incident=excluded.incident, what=excluded.what,"
                        " typing=excluded.typing, seen=excluded.seen",
                        (self.session, actor.username, actor.display_name or "", actor.origin or "", HOST,
                         os.getpid(), kind, str(key), incident, what, int(bool(typing)), now))
            con.execute("DELETE FROM presence WHERE seen < ?", (now - STALE_S,))
        except sqlite3.Error:
            return False
        self._last_write, self._last_state = now, state
        return True

    def others(self, kind: str | None = None, key: str | None = None,
               incident: int | None = None) -> list[Here]:
        """Other live sessions, optionally only those with this record (or this incident's) open."""
        con = self._connect()
        if con is None:
            return []
        now = self.clock()
        try:
            rows = con.execute("SELECT session, username, display, origin, host, pid, kind, key, incident, what,"
                               " typing, seen FROM presence WHERE session != ? AND seen >= ?",
                               (self.session, now - STALE_S)).fetchall()
        except sqlite3.Error:
            return []
        out = []
        for (session, username, display, origin, host, pid, k, ky, inc, what, typing, seen) in rows:
            if host == HOST and pid and not _alive(pid):
                self._drop(session)
                continue
            if kind is not None and k != kind:
                continue
            if key is not None and ky != str(key):
                continue
            if incident is not None and inc != incident:
                continue
            out.append(Here(session, username, display, origin, k, ky, inc, what, bool(typing),
                            max(0.0, now - seen)))
        return sorted(out, key=lambda h: h.age_s)

    def by_incident(self) -> dict[int, list[Here]]:
        out: dict[int, list[Here]] = {}
        for h in self.others():
            if h.incident is not None:
                out.setdefault(h.incident, []).append(h)
        return out

    def _drop(self, session: str) -> None:
        try:
            self._connect().execute("DELETE FROM presence WHERE session = ?", (session,))
        except (sqlite3.Error, AttributeError):
            pass

    def leave(self) -> None:
        """A clean exit: this session's row goes at once."""
        self._drop(self.session)
        if self._con is not None:
            self._con.close()
            self._con = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True   # another OS user's process: alive
    except OSError:
        return True
    return True


def describe(h: Here, seconds: int | None = None) -> str:
    """``王丽 正在编辑首报 · SSH · 10 秒前``."""
    from models.i18n import t
    verb = "presence.typing" if h.typing else "presence.viewing"
    kinds = {"board": "presence.kind.board", "incident": "presence.kind.incident",
             "report": "presence.kind.report", "contact": "presence.kind.contact"}
    parts = [t(verb, who=h.name, what=h.what or t(kinds.get(h.kind or "board", "presence.kind.board")))]
    parts.append(t("presence.via_ssh") if h.via_ssh else t("presence.via_local"))
    age = int(h.age_s if seconds is None else seconds)
    parts.append(t("presence.just_now") if age < 3 else t("presence.ago", n=age))
    return " · ".join(parts)
