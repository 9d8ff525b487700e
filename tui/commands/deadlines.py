"""``xueji-duty deadlines [--at TIME] [--json]``: every obligation, most urgent first."""
from __future__ import annotations

from models.i18n import t
from models.incidents import list_incidents, open_obligations
from models.timeparse import parse_time
from tui.env import print_json
from tui.present import obligation_json, obligation_line


def register(sub, add_common) -> None:
    p = sub.add_parser("deadlines", help=t("cli.deadlines.help"))
    add_common(p)
    p.add_argument("--at", default=None, help=t("cli.at_help"))
    p.add_argument("--all", action="store_true", help="include met, missed, not applicable and closed incidents")
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.set_defaults(func=run)


def run(env) -> int:
    ctx = env.context()
    now = parse_time(env.args.at, now=ctx.now(), zone=ctx.zone, field="time") if env.args.at else ctx.now()
    # As of another time, or everything: the record of every incident, closed ones included
    # (an incident closed since may have been open then; a closed one keeps what it missed).
    incs = list_incidents(include_closed=True) if (env.args.all or env.args.at) else None
    pairs = [(i, o) for i, o in open_obligations(ctx, now, incs) if env.args.all or o.is_open]
    if env.args.json:
        print_json([obligation_json(ctx, i, o) for i, o in pairs])
        return 0
    if not pairs:
        print(t("cli.deadlines.none"))
    for inc, ob in pairs:
        print(obligation_line(ctx, inc, ob))
    return 0
