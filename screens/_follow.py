"""Following every commit: reload a screen when anyone (this session included) wrote.

``Store.feed`` (``models.store.ChangeFeed``) combines ``PRAGMA data_version``, which
moves only on other connections' commits, with this process's own commit count, so
a screen shows what this session just saved as well as what the colleague saved.
Checking it costs microseconds; the reload runs only when something was written.
"""
from __future__ import annotations

FOLLOW_EVERY_S = 0.5


class FollowsOtherSessions:
    """Mixin for a Screen with a ``reload()``; call ``follow_other_sessions(name)`` in ``on_mount``."""

    def follow_other_sessions(self, name: str, every: float = FOLLOW_EVERY_S) -> None:
        self.app.store.feed.follow(self)
        self.set_interval(every, self._poll, name=name)

    def _poll(self) -> None:
        if self.app.store.feed.changed(self):
            self.reload()

    def on_unmount(self) -> None:
        self.app.store.feed.forget(self)
