"""Who is acting, where from, and at what time: passed to every service call."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from models.clock import Clock
from models.config import Settings
from models.store import Store

if TYPE_CHECKING:
    from models.policy import PolicySet


def origin_of_session() -> str:
    """'local' or 'ssh 203.0.113.5 (reported by SSH_CONNECTION)': the audit names where an action
    came from. The address is what the environment says, which whoever starts the program can set,
    so the audit says where it came from; anything that is not an IP address is not recorded."""
    import ipaddress
    for var in ("SSH_CONNECTION", "SSH_CLIENT"):
        conn = os.environ.get(var)
        if conn:
            first = conn.split()[0] if conn.split() else ""
            try:
                address = str(ipaddress.ip_address(first))
            except ValueError:
                address = "?"
            return f"ssh {address} (reported by {var})"
    return "local"


@dataclass
class Actor:
    username: str
    role: str = "viewer"
    display_name: str = ""
    origin: str = field(default_factory=origin_of_session)

    @property
    def label(self) -> str:
        return self.display_name or self.username


@dataclass
class Context:
    store: Store
    actor: Actor
    clock: Clock
    settings: Settings

    def now(self) -> datetime:
        return self.clock.now()

    @cached_property
    def policy(self) -> PolicySet:
        # Imported here: the login screen's first paint needs no policy (issue 4).
        from models.policy import build_policy
        return build_policy(self.settings.regimes, self.settings.targets, self.settings.zone)

    @property
    def zone(self):
        return self.settings.zone
