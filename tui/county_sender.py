"""The app's background sender to the county (issue 19, item 2): a daemon thread, never the UI's.

Started by the app when its database is enrolled (looked at on mount, then every
``RECHECK_S``, so an enrolment made from the CLI meanwhile is picked up); it runs
``models.county.link.run`` on its own thread, hence its own SQLite connection (peewee keeps one
per thread) and its own PostgreSQL connection. The officer's screens never wait on it: a
server that does not answer costs this thread its back-off, nothing else. When what the board's
line would say changes (sent, failing, back again) it asks the board to re-read; a successful
send also commits (the rows marked sent), which the change feed brings to the board anyway.
Stopped on the app's exit (``stop``). An in-app restore from a backup (``screens.backup``)
first ``pause``s it — its SQLite connection, held open in its own thread, would make the
restore's exclusive lock refuse — and ``resume``s it afterwards on
the restored database (``app.store`` then), where ``link`` renumbers what goes above what the
county holds from before the restore. A sender that does not stop in time (a round waiting on
a slow server) makes the restore refuse with what is true (``county.trust.sender_busy``: this
session's own sender, try again), not as if another session held the file.
"""
from __future__ import annotations

import threading

RECHECK_S = 30.0
PAUSE_S = 8.0       # how long a restore waits for the sender to let go (a round on a slow server)


def start(app) -> None:
    app._county_sender = None
    app._county_stop = threading.Event()
    _maybe_start(app)
    # Always: an enrolment made from the CLI meanwhile, a sender that died, a restored database.
    app.set_interval(RECHECK_S, lambda: _maybe_start(app), name="county-recheck")


def _maybe_start(app) -> None:
    sender = getattr(app, "_county_sender", None)
    if (sender is not None and sender.is_alive()) or app._county_stop.is_set():
        return
    from models.county import outbox
    store = app.store
    if store is None or store.read_only:
        return
    try:
        with store.read():
            school = outbox.enrolled_school(store)
    except Exception:  # noqa: BLE001 - a busy or odd database: look again later
        return
    if not school:
        return
    thread = threading.Thread(target=_work, args=(app, app._county_stop), name="xueji-county-sender",
                              daemon=True)
    app._county_sender = thread
    thread.start()


def _work(app, stop: threading.Event) -> None:
    from models.county import link, outbox
    store = app.store
    outbox.use_settings(app.settings)
    shown: list = [None]

    def on_state(state: dict) -> None:
        if stop.is_set():
            return
        try:
            got = link.line(store, app.settings.zone, state)
        except Exception:  # noqa: BLE001 - the line is cosmetic; the sending goes on
            return
        if got == shown[0]:
            return
        shown[0] = got
        try:
            app.call_from_thread(_refresh, app)
        except RuntimeError:     # the app is gone
            stop.set()

    try:
        link.run(store, stop, on_state=on_state)
    except Exception:  # noqa: BLE001 - never take the app down; the state file says what failed
        pass
    finally:
        try:
            store.db.close()     # this thread's own connection
        except Exception:  # noqa: BLE001
            pass


def _refresh(app) -> None:
    for screen in app.screen_stack:
        if type(screen).__name__ == "BoardScreen":
            screen.reload()


def stop(app, timeout: float = 1.0) -> None:
    event = getattr(app, "_county_stop", None)
    if event is not None:
        event.set()
    thread = getattr(app, "_county_sender", None)
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)


def pause(app, timeout: float | None = None) -> bool:
    """Stop the sender and wait until it let go of the database (its thread closes its own
    connection on the way out); True once it has. ``timeout`` covers a round in progress on a
    slow server (its connection attempt gives up after 5 s)."""
    if getattr(app, "_county_stop", None) is None:
        return True
    stop(app, PAUSE_S if timeout is None else timeout)
    thread = getattr(app, "_county_sender", None)
    return thread is None or not thread.is_alive()


def resume(app) -> None:
    """Start again on ``app.store`` (after a restore: the restored database), if it is enrolled.
    A sender that did not stop in time keeps its stop signal and ends on its own; the recheck
    starts the new one then."""
    if getattr(app, "_county_stop", None) is None:
        return
    app._county_stop = threading.Event()
    old = getattr(app, "_county_sender", None)
    if old is not None and old.is_alive():
        return
    app._county_sender = None
    _maybe_start(app)
