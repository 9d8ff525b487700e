"""Who else has this open: a one-line notice on the incident, report and contact screens.

A screen mixes in ``ShowsPresence``, says what it shows (``presence_target``) and
whether its user is typing (``presence_typing``), and calls ``start_presence()`` in
``on_mount``. Once a second it sends this session's heartbeat (only while it is the
screen in front; ``models.presence`` writes at most every few seconds) and shows
the other sessions that have the same record, or anything of the same incident, open.
"""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from models.presence import Presence, describe

PRESENCE_EVERY_S = 1.0


def app_presence(app) -> Presence | None:
    """One heartbeat per app (two apps in one test process are two sessions)."""
    p = getattr(app, "_presence", None)
    if p is None:
        try:
            import uuid
            p = Presence(app.store.path, session=uuid.uuid4().hex)
        except Exception:  # noqa: BLE001 - no presence rather than no screen
            return None
        app._presence = p
    return p


class PresenceLine(Static):
    DEFAULT_CSS = """
    PresenceLine { dock: bottom; height: auto; max-height: 2; margin-bottom: 1; padding: 0 1;
                   background: $warning 25%; display: none; }
    PresenceLine.-shown { display: block; }
    """


class ShowsPresence:
    def presence_target(self) -> tuple[str, str, int | None, str] | None:
        """(kind, key, incident id, what it is called: 首报, 2026-001, 李科长)."""
        return None

    def presence_typing(self) -> bool:
        return False

    def presence_scope(self) -> dict:
        """Whom to show: by default everyone with anything of the same incident open, else the same record."""
        target = self.presence_target()
        if target is None:
            return {}
        kind, key, incident, _ = target
        return {"incident": incident} if incident is not None else {"kind": kind, "key": key}

    def replaced_scope(self) -> tuple[str, object, str] | None:
        """(entity, id, label) whose replaced values this user is told about."""
        return None

    def field_name(self, name: str) -> str:
        from models.i18n import t
        return t("field." + name, default=name)

    def _replaced_tick(self) -> None:
        """A colleague kept their value over one this user saved: say which and who, once."""
        from models.i18n import t
        from models.merge import last_audit_id, replaced_notices
        from models.profiles import display_name
        scope = self.replaced_scope()
        if scope is None:
            return
        entity, entity_id, label = scope
        after = getattr(self, "_notices_after", None)
        try:
            if after is None:
                self._notices_after = last_audit_id()
                return
            notes = replaced_notices(self.app.ctx, after, entity, entity_id)
        except Exception:  # noqa: BLE001 - a busy database: next second
            return
        for n in notes:
            self._notices_after = max(self._notices_after, n["id"])
            self.notify(t("merge.replaced_notice", by=display_name(n["by"]), field=self.field_name(n["field"]), label=label),
                        severity="warning", timeout=15, markup=False)

    def start_presence(self) -> None:
        self._presence_shown = ""
        self.set_interval(PRESENCE_EVERY_S, self.presence_tick, name="presence")
        self.call_after_refresh(self.presence_tick)

    def presence_tick(self) -> None:
        p = app_presence(self.app)
        target = self.presence_target()
        if p is None or target is None or getattr(self.app, "actor", None) is None:
            return
        self._replaced_tick()
        kind, key, incident, what = target
        if self.app.screen is self:
            p.beat(self.app.actor, kind, key, incident, what, self.presence_typing())
        locked = bool(getattr(self.app, "locked", False))
        here = [] if locked else p.others(**self.presence_scope())
        text = "  ".join(describe(h) for h in here)
        if text == getattr(self, "_presence_shown", ""):
            return
        self._presence_shown = text
        lines = self.query(PresenceLine)
        line = lines.first() if lines else None
        if line is None:
            if not text:
                return
            line = PresenceLine("", id="presence-line")
            self.mount(line)    # docked above the footer's line, never over the keys
        line.update(Text(text))
        line.set_class(bool(text), "-shown")
