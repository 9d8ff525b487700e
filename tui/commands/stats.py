"""``xueji-duty stats [--since] [--until] [--json]``: real incidents only; drills counted apart."""
from __future__ import annotations

from models.i18n import t
from models.stats import incident_stats
from models.taxonomy import load_taxonomy
from models.timeparse import parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("stats", help=t("prevention.cli.stats.help"))
    add_common(p)
    p.add_argument("--since", default=None)
    p.add_argument("--until", default=None)
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.set_defaults(func=run)


def run(env) -> int:
    ctx = env.context()
    now = ctx.now()
    since = parse_time(env.args.since, now=now, zone=ctx.zone, field="time") if env.args.since else None
    until = parse_time(env.args.until, now=now, zone=ctx.zone, field="time") if env.args.until else None
    s = incident_stats(since, until)
    if env.args.json:
        print_json({"total": s.total, "by_category": s.by_category, "by_grade": s.by_grade,
                    "by_status": s.by_status, "drills_held": s.drills_held})
        return 0
    tax = load_taxonomy()
    print(t("prevention.cli.stats.total", n=s.total))
    for cat, n in sorted(s.by_category.items(), key=lambda kv: -kv[1]):
        print(f"  {tax.category(cat).name}: {n}")
    for status, n in sorted(s.by_status.items()):
        print(f"  {t(f'status.{status}')}: {n}")
    print(t("prevention.cli.stats.drills", n=s.drills_held))
    return 0
