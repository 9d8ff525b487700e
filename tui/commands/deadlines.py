"""``xueji-duty deadlines [--at TIME] [--json]``: every obligation, most urgent first."""
from __future__ import annotations

from models.i18n import t
from models.incidents import open_obligations
from models.timeparse import parse_time
from tui.env import print_json
from tui.present import obligation_json, obligation_line


def register(sub, add_common) -> None:
    p = sub.add_parser("deadlines", help=t("cli.deadlines.help"))
    add_common(p)
    p.add_argument("--at", default=None)
    p.add_argument("--all", action="store_true", help="include met and not applicable")
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.set_defaults(func=run)


def run(env) -> int:
    ctx = env.context()
    now = parse_time(env.args.at, now=ctx.now(), zone=ctx.zone, field="time") if env.args.at else ctx.now()
    pairs = [(i, o) for i, o in open_obligations(ctx, now) if env.args.all or o.is_open]
    if env.args.json:
        print_json([obligation_json(ctx, i, o) for i, o in pairs])
        return 0
    if not pairs:
        print(t("cli.deadlines.none"))
    for inc, ob in pairs:
        print(obligation_line(ctx, inc, ob))
    return 0
