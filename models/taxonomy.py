"""Categories, subcategories and grades, loaded from ``assets/taxonomy.toml``.

The plan's five classes come first in every list the officer picks from; the
other five 2023 categories follow, flagged as not named in the plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from models import tomlcache
from models.errors import ValidationError
from models.i18n import pick

ASSETS = Path(__file__).resolve().parent.parent / "assets"
GRADE_ORDER = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Subcategory:
    id: str
    zh: str
    en: str

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)


@dataclass(frozen=True)
class Category:
    id: str
    code: str
    zh: str
    en: str
    zh_2007: str
    plan_class: str | None
    plan_class_zh: str | None
    subcategories: tuple[Subcategory, ...]

    @property
    def in_plan(self) -> bool:
        return self.plan_class is not None

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)

    def sub(self, sub_id: str) -> Subcategory | None:
        return next((s for s in self.subcategories if s.id == sub_id), None)


@dataclass(frozen=True)
class Grade:
    id: str
    zh: str
    en: str
    warning_zh: str
    warning_en: str
    colour: str

    @property
    def name(self) -> str:
        return pick(self.zh, self.en)

    @property
    def rank(self) -> int:
        """1 for I (most severe) … 4 for IV."""
        return GRADE_ORDER.index(self.id) + 1


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    grades: tuple[Grade, ...]

    def category(self, key: str) -> Category:
        """Find a category by id, code, or Chinese or English name (2007 or 2023)."""
        needle = (key or "").strip().lower()
        for cat in self.categories:
            names = {cat.id, cat.code.lower(), cat.zh, cat.en.lower(), cat.zh_2007,
                     (cat.plan_class_zh or ""), (cat.plan_class or "")}
            names.discard("")
            if needle in {n.lower() for n in names}:
                return cat
        raise ValidationError({"category": ("error.category_unknown", {"value": key})})

    def subcategory(self, cat: Category, key: str | None) -> Subcategory | None:
        if not key:
            return None
        needle = key.strip().lower()
        for sub in cat.subcategories:
            if needle in {sub.id, sub.zh.lower(), sub.en.lower(), sub.zh.removesuffix("事件").lower()}:
                return sub
        raise ValidationError({"subcategory": ("error.subcategory_unknown",
                                               {"value": key, "category": cat.name})})

    def grade(self, key: str | None) -> Grade | None:
        if key in (None, ""):
            return None
        needle = key.strip().upper().replace("Ⅰ", "I").replace("Ⅱ", "II").replace("Ⅲ", "III").replace("Ⅳ", "IV")
        for g in self.grades:
            if needle in (g.id, g.zh.upper(), g.en.upper()) or key.strip() == g.zh:
                return g
        raise ValidationError({"grade": ("error.grade_unknown", {"value": key})})

    def search(self, text: str) -> list[tuple[Category, Subcategory | None]]:
        """Type-to-narrow: every (category, subcategory) whose names contain ``text``."""
        needle = (text or "").strip().lower()
        hits: list[tuple[Category, Subcategory | None]] = []
        for cat in self.categories:
            cat_names = " ".join([cat.zh, cat.en, cat.zh_2007, cat.plan_class_zh or "", cat.id]).lower()
            if not needle or needle in cat_names:
                hits.append((cat, None))
            for sub in cat.subcategories:
                if needle and (needle in sub.zh.lower() or needle in sub.en.lower() or needle in sub.id):
                    hits.append((cat, sub))
        return hits


@lru_cache(maxsize=1)
def load_taxonomy() -> Taxonomy:
    data = tomlcache.load(ASSETS / "taxonomy.toml")
    plan = {p["id"]: p for p in data["plan_classes"]}
    cats = []
    for c in data["categories"]:
        pc = c.get("plan_class")
        cats.append(Category(
            id=c["id"], code=c["code"], zh=c["zh"], en=c["en"], zh_2007=c.get("zh_2007", ""),
            plan_class=pc, plan_class_zh=plan[pc]["zh"] if pc else None,
            subcategories=tuple(Subcategory(*s) for s in c.get("subcategories", [])),
        ))
    # The plan's classes first, in the plan's order; then the rest as the standard lists them.
    order = [p["category"] for p in data["plan_classes"]]
    cats.sort(key=lambda c: (order.index(c.id) if c.id in order else len(order)))
    grades = tuple(Grade(**g) for g in data["grades"])
    return Taxonomy(tuple(cats), grades)
