"""``xueji-duty warning add|list|lift|done``: warnings from above and the response checklist."""
from __future__ import annotations

from models.i18n import t
from models.profiles import display_name
from models.timeparse import fmt_local, iso_local, parse_time
from models.warnings import (actions_of, add_warning, parse_actions, level_words, lift_warning, list_warnings,
                             progress, set_action_done, status_of)
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("warning", help=t("prevention.cli.warning.help"))
    add_common(p)
    wsub = p.add_subparsers(dest="warning_cmd", required=True, parser_class=type(p))
    a = wsub.add_parser("add", help=t("prevention.cli.warning.add"))
    add_common(a)
    a.add_argument("--level", required=True, help="red | orange | yellow | blue (红/橙/黄/蓝, I–IV)")
    a.add_argument("--source", required=True, help=t("prevention.cli.warning.source"))
    a.add_argument("--content", required=True)
    a.add_argument("--received", default="now")
    a.add_argument("--until", default=None, help=t("prevention.cli.warning.until"))
    a.add_argument("--action", action="append", default=None, metavar="DEPT:ACTION",
                   help=t("prevention.cli.warning.action"))
    a.add_argument("--json", action="store_true", help=t("cli.json"))
    a.set_defaults(func=cmd_add)
    ls = wsub.add_parser("list", help=t("prevention.cli.warning.list"))
    add_common(ls)
    ls.add_argument("--all", action="store_true", help=t("prevention.cli.warning.all"))
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)
    lf = wsub.add_parser("lift", help=t("prevention.cli.warning.lift"))
    add_common(lf)
    lf.add_argument("id")
    lf.add_argument("--reason", default="")
    lf.set_defaults(func=cmd_lift)
    dn = wsub.add_parser("done", help=t("prevention.cli.warning.done"))
    add_common(dn)
    dn.add_argument("action_id", type=int)
    dn.add_argument("--undo", action="store_true")
    dn.set_defaults(func=cmd_done)


def _actions(specs):
    return None if specs is None else parse_actions("\n".join(specs))


def warning_json(ctx, w) -> dict:
    now = ctx.now()
    return {"id": w.id, "level": w.level, "level_words": level_words(w.level), "source": w.source,
            "content": w.content, "received_at": iso_local(w.received_at, ctx.zone),
            "valid_until": iso_local(w.valid_until, ctx.zone), "status": status_of(w, now),
            "lifted_at": iso_local(w.lifted_at, ctx.zone), "lifted_by": w.lifted_by,
            "actions": [{"id": a.id, "department": a.department, "action": a.action,
                         "done_at": iso_local(a.done_at, ctx.zone), "done_by": a.done_by}
                        for a in actions_of(w)]}


def cmd_add(env) -> int:
    ctx = env.context(write=True)
    a = env.args
    now = ctx.now()
    received = parse_time(a.received, now=now, zone=ctx.zone, field="warning_received_at")
    until = parse_time(a.until, now=now, zone=ctx.zone, field="warning_valid_until") if a.until else None
    w = add_warning(ctx, a.level, source=a.source, content=a.content, received_at=received,
                    valid_until=until, actions=_actions(a.action))
    if a.json:
        print_json(warning_json(ctx, w))
    else:
        print(t("prevention.cli.warning.added", id=w.id, level=level_words(w.level)))
        for act in actions_of(w):
            print(f"  [{act.id}] {act.department}: {act.action}")
    return 0


def cmd_list(env) -> int:
    ctx = env.context()
    now = ctx.now()
    rows = list_warnings(now, include_inactive=env.args.all)
    if env.args.json:
        print_json([warning_json(ctx, w) for w in rows])
        return 0
    if not rows:
        print(t("prevention.cli.warning.none"))
    for w in rows:
        p = progress(w)
        until = fmt_local(w.valid_until, ctx.zone) if w.valid_until else t("prevention.warning.until_lifted")
        status = t(f"prevention.warning.status.{status_of(w, now)}")
        print(f"{w.id:>3}  {level_words(w.level)}  {status}  "
              f"{w.source}: {w.content}  ({p.done}/{p.total})  → {until}")
        for act in actions_of(w):
            mark = "✓" if act.done_at else "·"
            who = f"  {display_name(act.done_by)} {fmt_local(act.done_at, ctx.zone)}" if act.done_at else ""
            print(f"     {mark} [{act.id}] {act.department}: {act.action}{who}")
    return 0


def cmd_lift(env) -> int:
    ctx = env.context(write=True)
    w = lift_warning(ctx, env.args.id, env.args.reason)
    print(t("prevention.cli.warning.lifted", id=w.id, by=display_name(w.lifted_by), at=fmt_local(w.lifted_at, ctx.zone)))
    return 0


def cmd_done(env) -> int:
    ctx = env.context(write=True)
    row = set_action_done(ctx, env.args.action_id, not env.args.undo)
    key = "prevention.cli.warning.action_undone" if env.args.undo else "prevention.cli.warning.action_done"
    print(t(key, department=row.department, action=row.action))
    return 0
