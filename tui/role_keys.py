"""Keys that need a role, or a state, the screen is not in: shown as such before they are pressed,
and explained when they are.

A screen lists the role each key's action needs in ``ACTION_ROLES`` (``RoleKeys``, a screen
mixin). For an officer without that role ``check_action`` answers ``None``: Textual's footer then
shows the key dimmed (disabled), ``?`` help marks it with the role (``screens/help.py``), and the
key runs nothing. Textual drops a disabled (or hidden, ``False``) key in silence; ``RefusedKeys``
(an app mixin) asks the node whose binding it was ``why_not(action, parameters)`` and shows that
notice instead (权限不足：此操作需要“领导”角色…), so a dimmed key pressed still says why.

``? help`` asks ``role_needed`` to mark such a key with the role. A screen may answer ``why_not``
for keys it hides for other reasons too (the incident's ``d``
on an incident that is not a drill). The services check the role again (``models.roles.require``).
"""
from __future__ import annotations

from models.errors import PermissionDenied
from models.i18n import t
from models.roles import can


class RoleKeys:
    """Screen mixin: the actions named in ``ACTION_ROLES`` are disabled without their role."""

    ACTION_ROLES: dict[str, str] = {}

    def role_needed(self, action: str, parameters=()) -> str | None:
        """The role ``action`` needs (a screen whose one action opens several things, the board's
        ``g`` menu, answers by its parameters)."""
        return self.ACTION_ROLES.get(action)

    def lacks_role(self, action: str, parameters=()) -> str | None:
        """The role ``action`` needs that the officer lacks, or None."""
        needed = self.role_needed(action, parameters)
        actor = getattr(self.app, "actor", None)
        if needed and actor is not None and not can(actor.role, needed):
            return needed
        return None

    def check_action(self, action: str, parameters) -> bool | None:
        if self.lacks_role(action, parameters):
            return None
        return super().check_action(action, parameters)

    def why_not(self, action: str, parameters) -> str | None:
        needed = self.lacks_role(action, parameters)
        if needed:
            actor = self.app.actor
            return PermissionDenied(None, needed=t("role." + needed),
                                    have=t("role." + actor.role, default=actor.role)).message
        return None


class RefusedKeys:
    """App mixin: a key whose binding is disabled or hidden where it was pressed, and whose node
    says why (``why_not``), shows that reason rather than doing nothing in silence."""

    async def _check_bindings(self, key: str, priority: bool = False) -> bool:
        if await super()._check_bindings(key, priority):
            return True
        reason = self.refusal_for(key, priority)
        if reason is None:
            return False
        self.notify(reason, severity="warning")
        return True

    def refusal_for(self, key: str, priority: bool) -> str | None:
        """Why the key ``key`` (bound with ``priority``) runs nothing on the current screen, as its
        node says it; None when no node explains (then the key goes on as Textual sends it)."""
        if not self._screen_stack:
            return None
        for node, bindings in self.screen._modal_binding_chain:
            for binding in bindings.key_to_bindings.get(key, ()):
                if binding.priority != priority:
                    continue
                try:
                    target, name, params = self._parse_action(binding.action, node)
                except Exception:
                    continue
                why = getattr(target, "why_not", None)
                if why is None or target.check_action(name, params):
                    continue
                reason = why(name, params)
                if reason:
                    return reason
        return None
