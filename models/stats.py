"""Incident statistics for the school's records and inspections: real incidents only.

Drills are counted apart (how many were held), never mixed into the figures
about real incidents.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from models.tables import Incident


@dataclass
class IncidentStats:
    total: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_grade: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    drills_held: int = 0


def incident_stats(since: datetime | None = None, until: datetime | None = None) -> IncidentStats:
    q = Incident.select()
    if since is not None:
        q = q.where(Incident.occurred_at >= since)
    if until is not None:
        q = q.where(Incident.occurred_at < until)
    real = [i for i in q if not i.is_drill]
    drills = sum(1 for i in q if i.is_drill)
    return IncidentStats(total=len(real), by_category=dict(Counter(i.category for i in real)),
                         by_grade=dict(Counter(i.grade or "-" for i in real)),
                         by_status=dict(Counter(i.status for i in real)), drills_held=drills)
