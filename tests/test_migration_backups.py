"""The copies made before a schema catch-up (``<stem>.v<N>-<stamp>.bak``) do not pile up: the
newest 3 and those younger than a week stay, the one just made always, nothing else is touched."""
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from models.backup import prune_migration_backups
from models.store import open_store

DATA = Path(__file__).parent / "data"


def _copy(db: Path, at: datetime, version: int = 1, stem: str | None = None) -> Path:
    """A real copy of the database under the name open_store gives it."""
    dest = db.with_name(f"{stem or db.stem}.v{version}-{at.strftime('%Y%m%dT%H%M%SZ')}.bak")
    shutil.copy(db, dest)
    return dest


def test_a_catch_up_keeps_the_newest_three_and_the_last_week_and_never_touches_others(tmp_path):
    db = tmp_path / "duty.db"
    shutil.copy(DATA / "release-0.1.db", db)
    shutil.copytree(DATA / "release-0.1-evidence", tmp_path / "duty-evidence")
    now = datetime.now(timezone.utc)
    old = [_copy(db, now - timedelta(days=d)) for d in (400, 200, 90, 60, 30)]
    other_db = _copy(db, now - timedelta(days=500), stem="other")       # another database's copy
    stray = tmp_path / "duty.v1-before-the-move.bak"                    # not named by open_store
    shutil.copy(db, stray)
    (tmp_path / f"{old[0].name}-wal").write_bytes(b"")                  # a sidecar goes with its copy
    store = open_store(db)                                              # schema 1 → current: a copy, then the steps
    try:
        made = store.backup_made
        assert made is not None and made.exists()
    finally:
        store.close()
    left = sorted(p.name for p in tmp_path.glob("duty.v*.bak"))
    # The one just made, and the two newest before it (60 and 30 days old); 90, 200, 400 days gone.
    assert left == sorted([made.name, old[3].name, old[4].name, stray.name])
    assert other_db.exists() and not (tmp_path / f"{old[0].name}-wal").exists()
    # The copy kept is the database as it was: it opens as the old release's file.
    con = sqlite3.connect(str(made))
    try:
        assert con.execute("SELECT value FROM schema_meta WHERE key='schema_version'").fetchone() == ("1",)
    finally:
        con.close()


def test_a_week_of_copies_is_kept_whole_and_the_one_just_made_always(tmp_path):
    db = tmp_path / "duty.db"
    open_store(db).close()
    now = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
    week = [_copy(db, now - timedelta(days=d, hours=1)) for d in (0, 1, 2, 3, 6)]
    older = [_copy(db, now - timedelta(days=d)) for d in (8, 9)]
    assert prune_migration_backups(db, week[0], now=now) == sorted(older, reverse=True)
    assert all(p.exists() for p in week)
    # A clock that was wrong once: copies stamped in the future count as the newest, yet the
    # copy just made (older by its name) is never the one that goes.
    future = [_copy(db, now + timedelta(days=300 + d)) for d in range(3)]
    just = _copy(db, now - timedelta(days=40))
    later = now + timedelta(days=30)                       # the week is long past for the others
    gone = prune_migration_backups(db, just, now=later)
    assert just.exists() and all(p.exists() for p in future)
    assert sorted(gone) == sorted(week)
