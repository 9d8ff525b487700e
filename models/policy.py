"""Reporting regimes and their stages, loaded from ``assets/policies/*.toml``.

A regime is data, not code: adding one is adding a file. The engine in
``deadlines.py`` only knows anchors, offsets and applicability conditions.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping

from models import tomlcache
from models.i18n import pick

POLICY_DIR = Path(__file__).resolve().parent.parent / "assets" / "policies"
ANCHORS = ("occurred_at", "discovered_at", "handling_closed_at", "none")


@dataclass(frozen=True)
class FieldSpec:
    id: str
    zh: str
    en: str
    required: bool = False
    prefill: str | None = None
    multiline: bool = False
    help_zh: str = ""
    help_en: str = ""

    @property
    def label(self) -> str:
        return pick(self.zh, self.en)

    @property
    def help(self) -> str:
        return pick(self.help_zh, self.help_en)


@dataclass(frozen=True)
class Stage:
    regime: str
    id: str
    zh: str
    en: str
    kind: str
    anchor: str
    offset_minutes: int
    figure: str  # "statutory" or "school_target"
    citation_zh: str
    citation_en: str
    fields: tuple[FieldSpec, ...]
    repeatable: bool = False
    optional: bool = False
    while_open: bool = False
    grades: tuple[str, ...] = ()
    personal_info: bool | None = None
    late_discovery_needs_reason: bool = False
    # Calendar units, added to ``offset_minutes``: "30日" is 30 calendar days, NIS2's "one month"
    # is the same day next month (clamped to the month's end: 31 Jan → 28 Feb).
    offset_days: int = 0
    offset_months: int = 0
    # This stage is due no later than that stage of the same regime ("先口头，后书面").
    capped_by: str | None = None
    # A written report sent before this (oral) stage needs a recorded reason.
    oral_first: str | None = None

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)

    @property
    def citation(self) -> str:
        return pick(self.citation_zh, self.citation_en)

    @property
    def key(self) -> str:
        return f"{self.regime}.{self.id}"

    @property
    def anchor_stages(self) -> tuple[str, ...]:
        """For ``stage:a|b`` anchors: the stages whose latest submission starts the clock."""
        if self.anchor.startswith("stage:"):
            return tuple(self.anchor[6:].split("|"))
        return ()

    def required_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.required]

    def due_from(self, anchor: datetime, zone: tzinfo | None = None) -> datetime:
        """The deadline this stage's offset gives from ``anchor``; calendar units count in ``zone``."""
        return add_offset(anchor, self.offset_minutes, self.offset_days, self.offset_months, zone)


def add_months(local: datetime, months: int) -> datetime:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


def add_offset(anchor: datetime, minutes: int = 0, days: int = 0, months: int = 0,
               zone: tzinfo | None = None) -> datetime:
    """Calendar days and months on the wall clock of ``zone`` (UTC if none), then minutes."""
    if days or months:
        local = anchor.astimezone(zone or timezone.utc)
        wall = add_months(local.replace(tzinfo=None), months) + timedelta(days=days)
        anchor = _localize(wall, zone or timezone.utc).astimezone(anchor.tzinfo)
    return anchor + timedelta(minutes=minutes)


def _localize(wall: datetime, zone: tzinfo) -> datetime:
    """A naive wall-clock time in ``zone``; a time skipped by a DST jump moves forward."""
    aware = wall.replace(tzinfo=zone)
    roundtrip = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if roundtrip != wall:  # in a spring-forward gap
        aware = (wall + timedelta(hours=1)).replace(tzinfo=zone)
    return aware


@dataclass(frozen=True)
class Regime:
    id: str
    zh: str
    en: str
    recipient_zh: str
    recipient_en: str
    source: str
    stages: tuple[Stage, ...]
    header_fields: tuple[FieldSpec, ...] = ()
    always_on: bool = False
    default_enabled: bool = True
    oral_recipient_roles: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)

    @property
    def recipient(self) -> str:
        return pick(self.recipient_zh, self.recipient_en)

    def stage(self, stage_id: str) -> Stage:
        for s in self.stages:
            if s.id == stage_id:
                return s
        raise KeyError(stage_id)


@dataclass(frozen=True)
class PolicySet:
    """The regimes in force for this school, with its targets applied."""

    regimes: tuple[Regime, ...] = field(default_factory=tuple)
    zone: tzinfo | None = None   # the desk's zone: calendar days and months count on its wall clock

    def regime(self, regime_id: str) -> Regime:
        for r in self.regimes:
            if r.id == regime_id:
                return r
        raise KeyError(regime_id)

    def stage(self, regime_id: str, stage_id: str) -> Stage:
        return self.regime(regime_id).stage(stage_id)

    def stages(self) -> Iterable[Stage]:
        for r in self.regimes:
            yield from r.stages


def _fields(raw: list[dict]) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(**f) for f in raw)


def _load_regime(path: Path) -> Regime:
    data = tomlcache.load(path)
    stages = []
    for s in data.get("stages", []):
        anchor = s["anchor"]
        if anchor not in ANCHORS and not anchor.startswith("stage:"):
            raise ValueError(f"{path.name}: stage {s['id']} has unknown anchor {anchor!r}")
        stages.append(Stage(
            regime=data["id"], id=s["id"], zh=s["zh"], en=s["en"], kind=s.get("kind", "written"),
            anchor=anchor, offset_minutes=int(s.get("offset_minutes", 0)),
            figure=s.get("figure", "school_target"),
            citation_zh=s.get("citation_zh", ""), citation_en=s.get("citation_en", ""),
            fields=_fields(s.get("fields", [])), repeatable=s.get("repeatable", False),
            optional=s.get("optional", False), while_open=s.get("while_open", False),
            grades=tuple(s.get("grades", ())), personal_info=s.get("personal_info"),
            late_discovery_needs_reason=s.get("late_discovery_needs_reason", False),
            offset_days=int(s.get("offset_days", 0)), offset_months=int(s.get("offset_months", 0)),
            capped_by=s.get("capped_by"), oral_first=s.get("oral_first"),
        ))
    return Regime(
        id=data["id"], zh=data["zh"], en=data["en"], recipient_zh=data.get("recipient_zh", ""),
        recipient_en=data.get("recipient_en", ""), source=data.get("source", ""),
        stages=tuple(stages), header_fields=_fields(data.get("header_fields", [])),
        always_on=data.get("always_on", False), default_enabled=data.get("default_enabled", True),
        oral_recipient_roles=tuple(data.get("oral_recipient_roles", ())),
    )


@lru_cache(maxsize=1)
def all_regimes() -> tuple[Regime, ...]:
    return tuple(_load_regime(p) for p in sorted(POLICY_DIR.glob("*.toml")))


def build_policy(enabled: Iterable[str] | None = None,
                 targets: Mapping[str, int] | None = None, zone: tzinfo | None = None) -> PolicySet:
    """Choose the regimes in force and apply the school's targets.

    Only school targets may be changed; a statutory figure in ``targets`` is
    ignored, because the law does not bend to the config file.
    """
    enabled_set = set(enabled) if enabled is not None else None
    targets = dict(targets or {})
    chosen = []
    for regime in all_regimes():
        on = regime.always_on or (regime.id in enabled_set if enabled_set is not None
                                  else regime.default_enabled)
        if not on:
            continue
        stages = []
        for st in regime.stages:
            minutes = targets.get(st.key)
            if minutes is not None and st.figure == "school_target":
                # A school target is given in minutes: it replaces the whole offset.
                st = replace(st, offset_minutes=int(minutes), offset_days=0, offset_months=0)
            stages.append(st)
        chosen.append(replace(regime, stages=tuple(stages)))
    # school_plan first: it is the plan the officer works to.
    chosen.sort(key=lambda r: (not r.always_on, r.id))
    return PolicySet(tuple(chosen), zone)
