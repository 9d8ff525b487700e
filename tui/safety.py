"""At start-up, off the UI thread: the quick integrity check, then the daily automatic backup.

Both run in a thread worker so a large database or a slow USB stick never
delays the board; whatever they find reaches the officer as a banner (and a
notification for a problem), never as a crash.
"""
from __future__ import annotations

import threading

from models.i18n import t


# Seconds after start-up: the check and the backup read the whole database, and in the first
# moments they would compete with the first paint for the interpreter (issue 4).
DELAY_S = 1.5


def start(app, delay: float = DELAY_S) -> None:
    app.safety_done = False
    app.set_timer(delay, lambda: app.run_worker(lambda: _work(app), thread=True, group="safety",
                                                name="safety-start", exit_on_error=False))


def _work(app) -> None:
    from models import backup, integrity
    from models.context import Actor, Context

    # Not the logged-in user: this runs before login too, and the audit names it "system".
    ctx = Context(store=app.store, actor=Actor(username="system", role="viewer"), clock=app.clock,
                  settings=app.settings)
    problems: list[str] = []
    try:
        findings = integrity.startup_check(ctx)
        problems = [f.message for f in findings if not f.ok]
        backup.run_auto_backup(ctx)
    except Exception as exc:  # the check must never take the app down
        problems.append(t("integrity.failed", detail=f"{type(exc).__name__}: {exc}"))
    finally:
        if threading.current_thread() is not threading.main_thread():
            ctx.store.db.close()  # this thread's own connection (peewee keeps one per thread)
    try:
        app.call_from_thread(_show, app, problems)
    except RuntimeError:  # the app already quit
        pass


def _show(app, problems: list[str]) -> None:
    """Only a problem needs the board redrawn; a backup's own write already moves data_version."""
    app.safety_done = True
    if not problems:
        return
    for message in problems:
        app.notify(t("integrity.banner", problem=message), severity="error", timeout=20)
    reload = getattr(app.screen, "reload", None)
    if callable(reload):
        reload()
