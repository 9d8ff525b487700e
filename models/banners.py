"""Lines the board shows above the incidents: active warnings, checks due, backup status.

Each feature module listed in ``PROVIDER_MODULES`` may define
``banners(ctx, now) -> list[Banner]``; the board calls ``collect`` when the
database changed, never on the one-second tick. A module that is missing or
has no ``banners`` is skipped, so features land in any order.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime

PROVIDER_MODULES = ("models.warnings", "models.checks", "models.backup", "models.county.link")
LEVELS = ("info", "warning", "error", "red", "orange", "yellow", "blue")


@dataclass(frozen=True)
class Banner:
    key: str            # stable id, for keyed diffs on the board
    text: str           # already translated; shown literally (never parsed as markup)
    level: str = "info"


def collect(ctx, now: datetime) -> list[Banner]:
    out: list[Banner] = []
    for name in PROVIDER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        provider = getattr(module, "banners", None)
        if provider is not None:
            out.extend(provider(ctx, now))
    return out
