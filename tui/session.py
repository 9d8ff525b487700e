"""Who is at the keyboard: first-run setup, login, the idle lock and logout, mixed into the app.

The app starts on the setup screen while the database has no account (nobody could
log in), on the board when this terminal's remembered login is valid, else on the
login screen. After ``idle_lock_minutes`` of the app's clock without a key press the
app sets ``locked``: screens hide titles, names and numbers, and the next key opens
the unlock dialog instead of doing anything. Everything is audited with the origin.
"""
from __future__ import annotations

import asyncio
from datetime import timedelta

from textual import events

from models.context import Actor, origin_of_session
from models.errors import DomainError
from models.i18n import t

IDLE_CHECK_S = 2.0   # how often the idle lock looks at the clock (a comparison, nothing more)


def anonymous() -> Actor:
    return Actor(username="-", role="viewer", origin=origin_of_session())


class SessionMixin:
    """Login state and the idle lock. ``DutyApp`` calls ``_init_session`` and ``start_session``."""

    idle_lock_enabled = True

    def _init_session(self, actor: Actor | None) -> None:
        self.logged_in = actor is not None
        self.actor = actor or anonymous()
        self.last_activity = self.clock.now()
        self.remembered_token: str | None = None

    # ------------------------------------------------------------------ start

    def start_session(self) -> None:
        self.set_interval(IDLE_CHECK_S, self.check_idle_lock, name="idle-lock")
        if self.logged_in:
            self.open_screen("board")
            return
        from models import accounts     # here, not at the top: the board's start-up never needs it
        with self.store.read():
            need_setup = not accounts.has_users()
        self.open_screen("setup" if need_setup else "login")

    async def login_as(self, actor: Actor, token: str | None = None) -> None:
        """Replace the login or setup screen with the board, as ``actor``."""
        self.actor = actor
        self.logged_in = True
        self.locked = False
        self.remembered_token = token
        self.note_activity()
        await self._reset_to("board")

    async def _reset_to(self, name: str) -> None:
        """Clear the stack and open ``name``, from an app worker: the caller is often a worker of
        the very screen being removed, and awaiting its own removal would never return."""
        async def reset() -> None:
            while len(self.screen_stack) > 1:
                await self.pop_screen()
            self.open_screen(name)
        self.run_worker(reset(), group="session-reset", exclusive=True)

    # ------------------------------------------------------------------ idle lock

    def note_activity(self) -> None:
        self.last_activity = self.clock.now()

    def check_idle_lock(self) -> bool:
        """Lock once the app's clock says the keyboard has been idle long enough; True if it locked."""
        if not self.logged_in or self.locked or not self.idle_lock_enabled:
            return False
        minutes = self.settings.idle_lock_minutes
        if not minutes or minutes <= 0:
            return False
        if self.clock.now() - self.last_activity >= timedelta(minutes=minutes):
            self.lock("idle")
            return self.locked
        return False

    def _has_account(self) -> bool:
        """Whether the acting user can unlock with a password (a demo or bootstrap actor cannot)."""
        cached = getattr(self, "_account_known", None)
        if cached is None or cached[0] != self.actor.username:
            from models.tables import User
            with self.store.read():
                exists = User.select().where((User.username == self.actor.username)
                                             & (User.disabled == False)).exists()  # noqa: E712
            cached = self._account_known = (self.actor.username, exists)
        return cached[1]

    def lock(self, why: str = "idle") -> None:
        if self.locked or not self.logged_in:
            return
        if not self._has_account():
            # Nobody could unlock it: a demo or a database still without accounts.
            if why == "manual":
                self.notify(t("session.no_account_lock"), severity="warning")
            return
        self.locked = True   # first: hiding must not wait for the audit write
        from models import accounts
        try:
            accounts.record_lock(self.ctx, True, why)
        except DomainError as exc:
            self.notify(exc.message, severity="error")

    def unlocked(self) -> None:
        """The unlock dialog checked the password (and audited ``session.unlock``)."""
        self.locked = False
        self.note_activity()

    def action_lock(self) -> None:
        self.lock("manual")

    def intercept_input(self, event: events.Event) -> bool:
        """Note activity; while locked, any key or click opens the unlock dialog instead. True = swallowed."""
        if not isinstance(event, (events.Key, events.MouseDown, events.Paste)):
            return False
        # Without an account nobody could unlock (lock() never locks such a session itself; a
        # screen's test may set ``locked`` directly): keys then reach the screens, which ignore
        # actions while locked.
        if self.locked and self.logged_in and self._has_account():
            from screens.unlock import UnlockScreen
            if not any(isinstance(s, UnlockScreen) for s in self.screen_stack):
                self.push_screen(UnlockScreen())
                return True
            return False
        self.note_activity()
        return False

    # ------------------------------------------------------------------ logout

    async def logout(self) -> None:
        """Forget this terminal's remembered login (revoked in the database too), back to login."""
        from models import accounts
        ctx = self.ctx
        token = self.remembered_token
        try:
            if token:
                accounts.revoke_token(ctx, token)
            else:
                accounts.record_logout(ctx)
        except DomainError as exc:
            self.notify(exc.message, severity="error")
        if token:
            from models import secrets
            try:
                await secrets.arun(secrets.forget, self.store.identity)
            except secrets.KeyringUnavailable as exc:
                self.notify(t("keyring.cannot_forget", reason=t(exc.reason)), severity="warning")
        self.logged_in = False
        self.locked = False
        self.remembered_token = None
        self.actor = anonymous()
        await self._reset_to("login")

    async def action_logout(self) -> None:
        await self.logout()

    def action_change_password(self) -> None:
        if self.logged_in and not self.locked:
            self.open_screen("password")


async def in_thread(app, fn, *args):
    """Run a domain call that spends CPU (scrypt) off the event loop, on its own DB connection."""
    def work():
        try:
            return fn(*args)
        finally:
            app.store.db.close()   # this thread's connection only (peewee keeps one per thread)
    return await asyncio.to_thread(work)
