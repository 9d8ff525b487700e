"""Following the other session: reload a screen when another connection committed.

``PRAGMA data_version`` moves only on others' commits and costs microseconds,
so checking it once a second is cheap; the reload runs only when it moved.
"""
from __future__ import annotations


class FollowsOtherSessions:
    """Mixin for a Screen with a ``reload()``; call ``follow_other_sessions(name)`` in ``on_mount``."""

    _version: int | None = None

    def follow_other_sessions(self, name: str) -> None:
        self.set_interval(1.0, self._poll, name=name)

    def _poll(self) -> None:
        try:
            version = self.app.store.data_version()
        except Exception:  # a busy or vanished database: try again next second
            return
        if self._version is not None and version != self._version:
            self.reload()
        self._version = version
