"""Grading helper after GB/Z 20986-2007 §5: a suggestion, never a decision.

The standard grades by two routes joined with "or": the importance of the
information system crossed with the loss it suffered, and the social impact.
The suggestion is the more severe of the two, and ``reasons`` says which rule
gave it, so the leader sees why before deciding (the leader's grade and reason
are what gets recorded; see ``models.incidents.set_grade``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from models.errors import ValidationError
from models.taxonomy import GRADE_ORDER

# 信息系统的重要程度: 特别重要 / 重要 / 一般
IMPORTANCE = ("critical", "important", "ordinary")
# 系统损失: 特别严重 / 严重 / 较大 / 较小
LOSS = ("extreme", "serious", "major", "minor")
# 社会影响: 特别重大 / 重大 / 较大 / 一般 (and "none" when there is none to speak of)
IMPACT = ("extraordinary", "major", "significant", "general", "none")

# GB/Z 20986-2007 §5.2: grade by importance × loss. The standard's lowest grade, 一般 (IV), takes
# "重要信息系统遭受较大及以下" and "一般信息系统遭受严重或严重以下" losses, so nothing falls below IV.
MATRIX: dict[tuple[str, str], str] = {
    ("critical", "extreme"): "I", ("critical", "serious"): "II",
    ("critical", "major"): "III", ("critical", "minor"): "IV",
    ("important", "extreme"): "II", ("important", "serious"): "III",
    ("important", "major"): "IV", ("important", "minor"): "IV",
    ("ordinary", "extreme"): "III", ("ordinary", "serious"): "IV",
    ("ordinary", "major"): "IV", ("ordinary", "minor"): "IV",
}
IMPACT_GRADE = {"extraordinary": "I", "major": "II", "significant": "III", "general": "IV", "none": None}


@dataclass(frozen=True)
class Suggestion:
    grade: str | None                     # I … IV, or None when nothing was assessed
    by_system: str | None                 # the grade the importance × loss route gives
    by_impact: str | None                 # the grade the social-impact route gives
    reasons: tuple[tuple[str, dict], ...] = field(default_factory=tuple)  # (message key, params)


def _check(value: str | None, allowed: tuple[str, ...], name: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise ValidationError({name: ("error.grading_value", {"value": value})})
    return value


def _more_severe(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b, key=GRADE_ORDER.index)


def suggest(importance: str | None = None, loss: str | None = None,
            impact: str | None = None) -> Suggestion:
    """The grade GB/Z 20986 §5 points to, with the rule(s) that produced it."""
    importance = _check(importance, IMPORTANCE, "importance")
    loss = _check(loss, LOSS, "loss")
    impact = _check(impact, IMPACT, "impact")
    reasons: list[tuple[str, dict]] = []
    by_system = None
    if importance and loss:
        by_system = MATRIX[(importance, loss)]
        reasons.append(("grading.why_system", {"importance": importance, "loss": loss, "grade": by_system}))
    elif importance or loss:
        reasons.append(("grading.why_system_incomplete", {}))
    by_impact = IMPACT_GRADE[impact] if impact else None
    if by_impact:
        reasons.append(("grading.why_impact", {"impact": impact, "grade": by_impact}))
    grade = _more_severe(by_system, by_impact)
    if by_system and by_impact and by_system != by_impact:
        reasons.append(("grading.why_max", {"grade": grade}))
    return Suggestion(grade, by_system, by_impact, tuple(reasons))
