"""``xueji-duty ledger add|list``: the 学籍使用台账 (data-use ledger)."""
from __future__ import annotations

from models.i18n import t
from models.ledger import UseInput, add_use, list_uses
from models.timeparse import fmt_local, iso_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("ledger", help=t("prevention.cli.ledger.help"))
    add_common(p)
    lsub = p.add_subparsers(dest="ledger_cmd", required=True, parser_class=type(p))
    a = lsub.add_parser("add", help=t("prevention.cli.ledger.add"))
    add_common(a)
    a.add_argument("--who", required=True, help=t("field.ledger_who"))
    a.add_argument("--data", required=True, help=t("field.ledger_data"))
    a.add_argument("--purpose", required=True, help=t("field.ledger_purpose"))
    a.add_argument("--approved-by", required=True, help=t("field.ledger_approved_by"))
    a.add_argument("--recipient", default="", help=t("field.ledger_recipient"))
    a.add_argument("--at", default="now")
    a.set_defaults(func=cmd_add)
    ls = lsub.add_parser("list", help=t("prevention.cli.ledger.list"))
    add_common(ls)
    ls.add_argument("--since", default=None)
    ls.add_argument("--until", default=None)
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)


def cmd_add(env) -> int:
    ctx = env.context(write=True)
    a = env.args
    at = parse_time(a.at, now=ctx.now(), zone=ctx.zone, field="ledger_at")
    row = add_use(ctx, UseInput(who=a.who, data=a.data, purpose=a.purpose, approved_by=a.approved_by,
                                recipient=a.recipient, at=at))
    print(t("prevention.cli.ledger.added", id=row.id))
    return 0


def cmd_list(env) -> int:
    ctx = env.context()
    a = env.args
    since = parse_time(a.since, now=ctx.now(), zone=ctx.zone, field="time") if a.since else None
    until = parse_time(a.until, now=ctx.now(), zone=ctx.zone, field="time") if a.until else None
    rows = list_uses(since, until)
    if a.json:
        print_json([{"id": r.id, "at": iso_local(r.at, ctx.zone), "who": r.who, "data": r.data,
                     "purpose": r.purpose, "approved_by": r.approved_by, "recipient": r.recipient,
                     "recorded_by": r.recorded_by} for r in rows])
        return 0
    if not rows:
        print(t("prevention.cli.ledger.none"))
    for r in rows:
        to = f" → {r.recipient}" if r.recipient else ""
        print(f"{r.id:>3}  {fmt_local(r.at, ctx.zone)}  {r.who}  {r.data}{to}  "
              f"{t('field.ledger_purpose')}: {r.purpose}  {t('field.ledger_approved_by')}: {r.approved_by}")
    return 0
