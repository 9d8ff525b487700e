"""Reports for WeChat / DingTalk: plain text, and a short first message of at most 300 characters.

Markdown pasted into a chat shows its ``#`` and ``**`` literally, so the plain
version has none. The short version is what goes out first, before the
document: what happened, when, where, how large, what was done, whom to call.
"""
from __future__ import annotations

import re

from models.context import Context
from models.documents import _not_a_login, build_letter, cn_time, to_text
from models.docx_layout import unprintable
from models.tables import Report

SHORT_MAX = 300
# Where each part of the short message is found, in the order the stages' forms use.
_SCALE = ("affected_scope", "impact", "verified_scope", "impact_assessment", "info_types", "damage")
_MEASURES = ("measures_taken", "remedial_measures", "handling", "measures_summary", "planned_measures")
_LIST_MARK = re.compile(r"^\s*(\d+[.．、]|[（(][\d一二三四五六七八九十]+[）)]|[一二三四五六七八九十]+、)\s*")


def plain_text(ctx: Context, report: Report) -> str:
    """The whole document as plain text: no Markdown syntax, nothing a chat app would mangle."""
    return to_text(build_letter(ctx, report), markdown=False)


def _one_line(text: str) -> str:
    parts = [_LIST_MARK.sub("", ln).strip().rstrip("；;。") for ln in (text or "").splitlines()]
    return "；".join(p for p in parts if p)


def _cut(text: str, room: int) -> str:
    if room <= 1:
        return ""
    return text if len(text) <= room else text[:room - 1] + "…"


def short_text(ctx: Context, report: Report, limit: int = SHORT_MAX) -> str:
    """What, when, where, scale, measures taken, contact: at most ``limit`` characters."""
    inc = report.incident
    v = {k: str(x or "").strip() for k, x in (report.fields or {}).items()}
    school = v.get("reporting_unit") or ctx.settings.school_name or ""
    head = ("【演练】" if inc.is_drill else "") + (f"【{school}】" if school else "")
    when = v.get("occurred_at") or cn_time(inc.occurred_at or inc.discovered_at, ctx.zone)
    where = v.get("location") or inc.location or ""
    what = inc.title + ("" if inc.title.endswith("事件") else "事件")
    first = f"{when}，{where}{'，' if where else ''}发生{what}。"
    scale = next((_one_line(v[k]) for k in _SCALE if v.get(k)), "")
    measures = next((_one_line(v[k]) for k in _MEASURES if v.get(k)), "")
    person = _not_a_login(v.get("contact_person", ""))
    phone = v.get("contact_phone", "")
    contact = f"联系人：{person}{'，' if person and phone else ''}{phone}。" if (person or phone) else ""
    fixed = len(head) + len(first) + len(contact) + len("影响：。") + len("已采取：。")
    room = max(0, limit - fixed)
    # Share what is left between scale and measures; measures get what scale does not need.
    scale_s = _cut(scale, max(room // 2, room - len(measures)))
    measures_s = _cut(measures, room - len(scale_s))
    text = head + first
    if scale_s:
        text += f"影响：{scale_s}。"
    if measures_s:
        text += f"已采取：{measures_s}。"
    text += contact
    if len(text) > limit:
        text = _cut(text, limit)
    return text


def flagged(text: str) -> list[str]:
    """Characters an official face cannot print (emoji…): shown to the officer before export."""
    return unprintable(text)
