"""``xueji-duty drill list|end|summary``: drills and their summary document.

A drill starts with ``xueji-duty incident new … --drill``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from models.drills import end_drill, summarize, to_docx, to_markdown
from models.errors import DomainError
from models.i18n import t
from models.tables import Incident
from models.timeparse import fmt_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("drill", help=t("prevention.cli.drill.help"))
    add_common(p)
    dsub = p.add_subparsers(dest="drill_cmd", required=True, parser_class=type(p))
    ls = dsub.add_parser("list", help=t("prevention.cli.drill.list"))
    add_common(ls)
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)
    e = dsub.add_parser("end", help=t("prevention.cli.drill.end"))
    add_common(e)
    e.add_argument("id")
    e.add_argument("--findings", default="", help=t("prevention.cli.drill.findings"))
    e.add_argument("--at", default=None, help=t("prevention.cli.drill.end_at"))
    e.set_defaults(func=cmd_end)
    s = dsub.add_parser("summary", help=t("prevention.cli.drill.summary"))
    add_common(s)
    s.add_argument("id")
    s.add_argument("--format", choices=["docx", "md"], default="md")
    s.add_argument("-o", "--output", default=None, metavar="FILE")
    s.set_defaults(func=cmd_summary)


def cmd_list(env) -> int:
    ctx = env.context()
    rows = list(Incident.select().where(Incident.is_drill == True).order_by(Incident.discovered_at.desc()))  # noqa: E712
    if env.args.json:
        print_json([{"id": i.id, "code": i.code, "title": i.title, "status": i.status,
                     "started_at": fmt_local(i.discovered_at, ctx.zone), "ended_at": fmt_local(i.closed_at, ctx.zone)
                     if i.closed_at else None} for i in rows])
        return 0
    if not rows:
        print(t("prevention.cli.drill.none"))
    for i in rows:
        print(f"{i.code}  [{t('prevention.drill.mark')}]  {t(f'status.{i.status}')}  "
              f"{fmt_local(i.discovered_at, ctx.zone)}  {i.title}")
    return 0


def cmd_end(env) -> int:
    ctx = env.context(write=True)
    at = parse_time(env.args.at, now=ctx.now(), zone=ctx.zone, field="drill_end_at") if env.args.at else None
    inc = end_drill(ctx, env.args.id, env.args.findings, at=at)
    print(t("prevention.cli.drill.ended", code=inc.code))
    return 0


def cmd_summary(env) -> int:
    ctx = env.context()
    a = env.args
    s = summarize(ctx, a.id)
    if a.format == "docx":
        if not a.output:
            raise DomainError("prevention.error.docx_needs_output")
        data = to_docx(ctx, s)
    else:
        data = to_markdown(ctx, s).encode("utf-8")
    if not a.output:
        sys.stdout.write(data.decode("utf-8"))
        return 0
    path = Path(a.output).expanduser()
    from models.outfile import write_output
    try:
        write_output(path, data)
    except OSError as exc:
        raise DomainError("prevention.error.write_failed", path=str(path), detail=exc.strerror or str(exc))
    print(t("prevention.cli.drill.written", path=str(path)))
    return 0
