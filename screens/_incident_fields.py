"""Pickers' data for incident forms (category, subcategory, grade), shared by the new and edit forms."""
from __future__ import annotations

from rich.text import Text

from models.errors import ValidationError
from models.i18n import get_language, t
from models.taxonomy import load_taxonomy


def category_label(cat, sub=None) -> Text:
    text = Text(cat.name)
    if sub is not None:
        text.append(" › " + sub.name)
    if cat.in_plan:
        if get_language() == "zh" and cat.plan_class_zh and cat.plan_class_zh != cat.zh:
            text.append(f"  预案：{cat.plan_class_zh}", style="dim")
    else:
        text.append("  " + t("incident.not_in_plan_flag"), style="yellow")
    return text


def category_shown(cat, sub=None) -> str:
    return f"{cat.name} › {sub.name}" if sub is not None else cat.name


def category_choices(text: str):
    for cat, sub in load_taxonomy().search(text):
        yield (cat.id, sub.id if sub else None), category_shown(cat, sub), category_label(cat, sub)


def resolve_category(text: str):
    try:
        return load_taxonomy().category(text)
    except ValidationError:
        return None


def subcategory_choices_for(cat_id: str | None):
    def source(text: str):
        if not cat_id:
            return
        cat = load_taxonomy().category(cat_id)
        needle = (text or "").strip().lower()
        for sub in cat.subcategories:
            if not needle or needle in sub.zh.lower() or needle in sub.en.lower() or needle in sub.id:
                yield sub.id, sub.name, Text(sub.name)
    return source


def grade_shown(g) -> str:
    return f"{g.id} {g.name}"


def grade_choices(text: str):
    needle = (text or "").strip().lower()
    undecided = t("incident.grade_undecided")
    if not needle or needle in undecided.lower():
        yield "", undecided, Text(undecided, style="dim")
    for g in load_taxonomy().grades:
        warning = g.warning_zh if get_language() == "zh" else g.warning_en
        names = f"{g.id} {g.zh} {g.en}".lower()
        if not needle or needle in names:
            label = Text(f"{g.id} {g.name}")
            label.append(f"  {warning}", style=g.colour)
            yield g.id, grade_shown(g), label
