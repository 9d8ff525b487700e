"""The statistics as tables, and the annual report to the bureau as .docx, .xlsx and JSON.

Everything is drawn from the one dict ``models.stats.compute()`` returns: ``tables()`` turns
it into titled tables (the statistics screen shows the same ones), ``to_xlsx`` writes one sheet
per table, ``to_docx`` writes a GB/T 9704 letter through ``models.documents`` (title, recipient,
the figures in words, signature and date) followed by the tables as 附表. So the three formats
always carry the same figures.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contextlib import contextmanager

from models.errors import ValidationError
from models.i18n import get_language, pick, set_language, t

FORMATS = ("json", "docx", "xlsx")


@dataclass
class Table:
    key: str                 # also the sheet's order
    title: str
    header: list[str]
    kinds: list[str]         # text | int | rate | minutes (how a cell is shown)
    rows: list[list[Any]]


# ---------------------------------------------------------------- names

@contextmanager
def in_chinese():
    """The documents go to the bureau: Chinese whatever the officer's screen language."""
    before = get_language()
    set_language("zh")
    try:
        yield
    finally:
        set_language(before)


def period_text(data: dict[str, Any]) -> str:
    """The period's name in the current language (``2026年度``), from the figures' own period."""
    from datetime import date

    from models.stats import Period, period_label
    p = data["period"]
    first, last = date.fromisoformat(p["from"]), date.fromisoformat(p["to"])
    return period_label(Period(p["year"], p["semester"], p["month"], first, last, None, None))


def class_names() -> dict[str, str]:
    from models import tomlcache
    from models.taxonomy import ASSETS
    data = tomlcache.load(ASSETS / "taxonomy.toml")
    out = {p["id"]: pick(p["zh"], p["en"]) for p in data["plan_classes"]}
    out["not_in_plan"] = t("stats.not_in_plan")
    return out


def category_name(cat_id: str) -> str:
    from models.taxonomy import load_taxonomy
    try:
        return load_taxonomy().category(cat_id).name
    except ValidationError:
        return cat_id


def grade_name(g: str) -> str:
    if g in ("", None, "undecided"):
        return t("stats.grade_undecided")
    from models.taxonomy import load_taxonomy
    try:
        grade = load_taxonomy().grade(g)
        return f"{grade.name}（{grade.id}）" if grade else g
    except ValidationError:
        return g


def stage_name(ctx, key: str) -> str:
    regime, _, stage = key.partition(".")
    try:
        reg = ctx.policy.regime(regime)
        st = reg.stage(stage)
    except KeyError:
        return key
    return f"{reg.name} · {st.name}"


def rate_text(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f}%"


def minutes_text(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    m = int(round(minutes))
    return t("stats.minutes", h=m // 60, m=m % 60) if m >= 60 else t("stats.minutes_short", m=m)


def cell_text(value: Any, kind: str) -> str:
    if kind == "rate":
        return rate_text(value)
    if kind == "minutes":
        return minutes_text(value)
    if value is None:
        return "—"
    return str(value)


def outcome_name(o: str) -> str:
    return t(f"stats.outcome.{o}") if o in ("met", "met_late", "missed", "open") else "—"


# ---------------------------------------------------------------- the tables

def tables(ctx, data: dict[str, Any]) -> list[Table]:
    inc = data["incidents"]
    fr = data["first_report"]
    ch = data["checks"]
    out: list[Table] = []
    summary = [
        [t("stats.row.real"), inc["real"]],
        [t("stats.row.withdrawn"), inc["withdrawn"]],
        [t("stats.row.drills"), inc["drills"]],
        [t("stats.row.first_count"), fr["count"]],
        [t("stats.row.first_median"), fr["median_minutes"]],
        [t("stats.row.first_worst"), fr["worst_minutes"]],
        [t("stats.row.checks_runs"), ch["runs"]],
        [t("stats.row.checks_on_time"), ch["on_time"]],
        [t("stats.row.checks_late"), ch["late"]],
        [t("stats.row.checks_rate"), ch["rate"]],
    ]
    # One column of mixed kinds: the kind rides on the row (see _row_kind).
    out.append(Table("summary", t("stats.table.summary"), [t("stats.col.item"), t("stats.col.value")],
                     ["text", "mixed"], summary))
    names = class_names()
    total = inc["real"]

    def share(n: int) -> float | None:
        return round(n / total, 4) if total else None

    out.append(Table("by_class", t("stats.table.by_class"),
                     [t("stats.col.class"), t("stats.col.count"), t("stats.col.share")], ["text", "int", "rate"],
                     [[names.get(k, k), n, share(n)] for k, n in inc["by_class"].items()]))
    out.append(Table("by_category", t("stats.table.by_category"),
                     [t("stats.col.category"), t("stats.col.count"), t("stats.col.share")], ["text", "int", "rate"],
                     [[category_name(k), n, share(n)] for k, n in inc["by_category"].items()]))
    out.append(Table("by_grade", t("stats.table.by_grade"),
                     [t("stats.col.grade"), t("stats.col.count"), t("stats.col.share")], ["text", "int", "rate"],
                     [[grade_name(k), n, share(n)] for k, n in inc["by_grade"].items()]))
    out.append(Table("by_month", t("stats.table.by_month"), [t("stats.col.month"), t("stats.col.count")],
                     ["text", "int"], [[k, n] for k, n in inc["by_month"].items()]))
    out.append(Table("on_time", t("stats.table.on_time"),
                     [t("stats.col.stage"), t("stats.outcome.met"), t("stats.outcome.met_late"),
                      t("stats.outcome.missed"), t("stats.outcome.open"), t("stats.col.rate")],
                     ["text", "int", "int", "int", "int", "rate"],
                     [[stage_name(ctx, k), c["met"], c["met_late"], c["missed"], c["open"], c["rate"]]
                      for k, c in data["on_time"].items()]))
    out.append(Table("drills", t("stats.table.drills"),
                     [t("stats.col.code"), t("stats.col.date"), t("stats.col.title"), t("stats.col.ended")],
                     ["text"] * 4,
                     [[d["code"], d["occurred_at"], d["title"], t("stats.yes") if d["ended"] else t("stats.no")]
                      for d in data["drills"]]))
    out.append(Table("list", t("stats.table.list"),
                     [t("stats.col.code"), t("stats.col.date"), t("stats.col.title"), t("stats.col.category"),
                      t("stats.col.grade"), t("stats.col.status"), t("stats.col.first")],
                     ["text"] * 7,
                     [[r["code"], r["occurred_at"], r["title"], category_name(r["category"]),
                       grade_name(r["grade"]), t(f"status.{r['status']}"), outcome_name(r["first_report"])]
                      for r in data["list"]]))
    return out


SUMMARY_KINDS = ["int", "int", "int", "int", "minutes", "minutes", "int", "int", "int", "rate"]


def row_kinds(table: Table, index: int) -> list[str]:
    if table.key == "summary":
        return ["text", SUMMARY_KINDS[index]]
    return table.kinds


def text_rows(table: Table) -> list[list[str]]:
    return [[cell_text(v, k) for v, k in zip(row, row_kinds(table, i))] for i, row in enumerate(table.rows)]


# ---------------------------------------------------------------- xlsx

def sheet_name(title: str) -> str:
    bad = '[]:*?/\\'
    return "".join("_" if ch in bad else ch for ch in title)[:31]


def to_xlsx(ctx, data: dict[str, Any]) -> bytes:
    """One sheet per table; counts as numbers, rates as fractions shown as percentages; in Chinese."""
    with in_chinese():
        return _xlsx(ctx, data)


def _xlsx(ctx, data: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    heading = Font(name="宋体", bold=True)
    body = Font(name="宋体")
    for table in tables(ctx, data):
        ws = wb.create_sheet(sheet_name(table.title))
        ws.append([f"{data['school']}{period_text(data)} · {table.title}"])
        ws["A1"].font = Font(name="宋体", bold=True, size=12)
        ws.append(table.header)
        for cell in ws[2]:
            cell.font = heading
            cell.alignment = Alignment(horizontal="center")
        for i, row in enumerate(table.rows):
            kinds = row_kinds(table, i)
            values = []
            for v, k in zip(row, kinds):
                if v is None:
                    values.append("—" if k != "text" else "")
                elif k == "minutes":
                    values.append(round(float(v), 1))
                else:
                    values.append(v)
            ws.append(values)
            r = ws.max_row
            for col, k in enumerate(kinds, 1):
                cell = ws.cell(row=r, column=col)
                cell.font = body
                if k == "rate" and isinstance(cell.value, float):
                    cell.number_format = "0.00%"
        for col, head in enumerate(table.header, 1):
            width = max([_width(str(head))] + [_width(str(ws.cell(row=r, column=col).value or ""))
                                               for r in range(3, ws.max_row + 1)])
            ws.column_dimensions[ws.cell(row=2, column=col).column_letter].width = min(60, width + 2)
    props = wb.properties
    props.title = doc_title(data)
    props.language = "zh-CN"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# ---------------------------------------------------------------- docx

def doc_title(data: dict[str, Any]) -> str:
    return t("stats.doc.title", school=data["school"], period=period_text(data))


# Column widths (in characters) of each table in the letter: the first column holds the names.
COL_WIDTHS = {"summary": (18, 9), "by_class": (14, 6, 6), "by_category": (14, 6, 6), "by_grade": (14, 6, 6),
              "by_month": (10, 8), "on_time": (11, 3.5, 4.5, 3, 4, 4.5), "drills": (5, 7, 12, 3),
              "list": (4.5, 6, 8, 5, 4, 3, 3)}


def _letter(ctx, data: dict[str, Any]):
    """The report as the documents module's ``Letter``: figures in words, every table in its section."""
    from models.documents import Letter, Section, cn_date, cn_number
    inc, fr, ch = data["incidents"], data["first_report"], data["checks"]
    label = period_text(data)
    names = class_names()
    by_table = {tb.key: tb for tb in tables(ctx, data)}

    def grid(key: str) -> list[list[str]] | None:
        tb = by_table[key]
        rows = text_rows(tb)
        return [tb.header] + rows if rows else None

    classes = "、".join(t("stats.doc.n_of", name=names.get(k, k), n=n) for k, n in inc["by_class"].items() if n)
    grades = "、".join(t("stats.doc.n_of", name=grade_name(k), n=n) for k, n in inc["by_grade"].items() if n)
    overview = [t("stats.doc.overview", period=label, real=inc["real"], drills=inc["drills"],
                  withdrawn=inc["withdrawn"])]
    if classes:
        overview.append(t("stats.doc.by_class") + "：" + classes + "。")
    if grades:
        overview.append(t("stats.doc.by_grade") + "：" + grades + "。")
    timely = [stage_name(ctx, key) + "：" + t("stats.doc.stage_line", met=c["met"], late=c["met_late"],
                                                missed=c["missed"], open=c["open"], rate=rate_text(c["rate"])) + "。"
              for key, c in data["on_time"].items()]
    if fr["count"]:
        timely.append(t("stats.doc.first_time") + "：" + t(
            "stats.doc.first_time_line", n=fr["count"], median=minutes_text(fr["median_minutes"]),
            worst=minutes_text(fr["worst_minutes"]), code=fr["worst_code"]) + "。")
    prevention = [t("stats.doc.checks") + "：" + t("stats.doc.checks_line", runs=ch["runs"], on_time=ch["on_time"],
                                                    late=ch["late"], rate=rate_text(ch["rate"])) + "。",
                  t("stats.doc.drills_line", n=inc["drills"]) + "。"]
    plan = [("summary", overview), ("by_class", []), ("by_category", []), ("by_grade", []), ("by_month", []),
            ("on_time", timely), ("drills", prevention), ("list", [])]
    sections = []
    for n, (key, paras) in enumerate(plan, 1):
        heading = t("stats.doc.h.prevention") if key == "drills" else by_table[key].title
        table = grid(key)
        sections.append(Section(f"{cn_number(n)}、{heading}", paras or ([] if table else [t("stats.none")]),
                                table, COL_WIDTHS.get(key, ())))
    recipient = (ctx.settings.bureau or "") + ("：" if ctx.settings.bureau else "")
    now = ctx.now()
    return Letter(title=doc_title(data), recipient=recipient, opening=t("stats.doc.opening", period=label),
                  sections=sections, closing=t("stats.doc.closing"), signature=data["school"],
                  date=cn_date(now, ctx.zone), kind="report",
                  title_hints=tuple(h for h in (data["school"],) if h), author=data["school"],
                  created=now, modified=now)


def to_docx(ctx, data: dict[str, Any]) -> bytes:
    """The report in GB/T 9704 layout, through ``models.documents`` (its tables included)."""
    from models.documents import font_preset
    from models.documents import to_docx as letter_docx
    with in_chinese():
        return letter_docx(_letter(ctx, data), font_preset(ctx))


# ---------------------------------------------------------------- export

def render(ctx, data: dict[str, Any], fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise ValidationError({"format": ("stats.error.format", {"value": fmt, "known": ", ".join(FORMATS)})})
    if fmt == "json":
        return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(ctx, data)
    return to_docx(ctx, data)


def export(ctx, data: dict[str, Any], fmt: str, path: Path) -> Path:
    """Written atomically: a half-written file is never left where the officer expects the report."""
    payload = render(ctx, data, fmt)
    path = Path(path).expanduser()
    from models.outfile import write_output
    try:
        write_output(path, payload)
    except OSError as exc:
        raise ValidationError({"output": ("stats.error.write_failed",
                                          {"path": str(path), "detail": exc.strerror or str(exc)})})
    return path


def default_name(data: dict[str, Any], fmt: str) -> str:
    """The document's own (Chinese) title as the file name."""
    with in_chinese():
        return f"{doc_title(data)}.{fmt}"
