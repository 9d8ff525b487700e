"""``xueji-duty stats --year 2026 [--semester 1|2 | --month M] [--format json|docx|xlsx] [-o FILE]``.

Real incidents only (drills and withdrawn false alarms apart), reports on time per stage,
occurrence to first report, prevention checks and drills: the annual report for the bureau.
Without ``--format`` the tables are printed; ``json`` without ``-o`` goes to standard output.
"""
from __future__ import annotations

import sys

from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("stats", help=t("stats.cli.help"))
    add_common(p)
    p.add_argument("--year", default=None, help=t("stats.cli.year"))
    p.add_argument("--semester", default=None, help=t("stats.cli.semester"))
    p.add_argument("--month", default=None, help=t("stats.cli.month"))
    p.add_argument("--format", default=None, help=t("stats.cli.format"))
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.add_argument("-o", "--output", default=None, help=t("stats.cli.output"))
    p.set_defaults(func=run)


def run(env) -> int:
    from models import annual_report as ar
    from models.errors import ValidationError
    from models.stats import compute, period
    ctx = env.context()
    a = env.args
    year = a.year if a.year is not None else ctx.now().astimezone(ctx.zone).year
    fmt = "json" if a.json else a.format
    if fmt is not None and fmt not in ar.FORMATS:
        raise ValidationError({"format": ("stats.error.format", {"value": fmt, "known": ", ".join(ar.FORMATS)})})
    if fmt in ("docx", "xlsx") and not a.output:
        raise ValidationError({"output": ("stats.error.need_output", {})})
    with ctx.store.read():
        data = compute(ctx, period(ctx.settings, year, a.semester, a.month))
    if fmt == "json" and not a.output:
        sys.stdout.write(ar.render(ctx, data, "json").decode("utf-8"))
        return 0
    if fmt:
        path = ar.export(ctx, data, fmt, a.output)
        print(t("stats.cli.written", path=str(path)))
        return 0
    print(ar.doc_title(data))
    for table in ar.tables(ctx, data):
        print()
        print(f"【{table.title}】")
        rows = ar.text_rows(table)
        if not rows:
            print("  " + t("stats.none"))
        print("  " + " | ".join(table.header))
        for row in rows:
            print("  " + " | ".join(row))
    return 0
