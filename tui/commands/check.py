"""``xueji-duty check``: the database integrity check (bare) and the prevention checks.

``check`` alone runs the integrity check of the reliability work
(``tui.commands._integrity.run``); ``check list|show|done|add|edit`` manage
the scheduled prevention duties.
"""
from __future__ import annotations

import importlib
import sys

from models.checks import (FollowUp, cadence_text, responsible_text, complete_check, edit_check, add_check, get_check,
                           list_checks, runs_of, seed_defaults, view, CADENCES)
from models.cadence import local_day
from models.errors import DomainError, StoreError
from models.i18n import t
from models.profiles import display_name
from models.timeparse import fmt_local, iso_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("check", help=t("prevention.cli.check.help"))
    add_common(p)
    p.set_defaults(func=run_bare)
    csub = p.add_subparsers(dest="check_cmd", parser_class=type(p))
    ls = csub.add_parser("list", help=t("prevention.cli.check.list"))
    add_common(ls)
    ls.add_argument("--due", action="store_true", help=t("prevention.cli.check.due_only"))
    ls.add_argument("--all", action="store_true", help=t("prevention.cli.check.include_inactive"))
    ls.add_argument("--at", default=None)
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)
    sh = csub.add_parser("show", help=t("prevention.cli.check.show"))
    add_common(sh)
    sh.add_argument("id")
    sh.add_argument("--json", action="store_true", help=t("cli.json"))
    sh.set_defaults(func=cmd_show)
    dn = csub.add_parser("done", help=t("prevention.cli.check.done"))
    add_common(dn)
    dn.add_argument("id")
    dn.add_argument("--findings", default="")
    dn.add_argument("--fail", type=int, action="append", default=[], metavar="N",
                    help=t("prevention.cli.check.fail"))
    dn.add_argument("--at", default=None, help=t("prevention.cli.check.at"))
    dn.add_argument("--follow-up", default=None, metavar="TITLE", help=t("prevention.cli.check.follow_up"))
    dn.add_argument("--follow-up-due", default=None, metavar="DATE")
    dn.add_argument("--json", action="store_true", help=t("cli.json"))
    dn.set_defaults(func=cmd_done)
    for name in ("add", "edit"):
        e = csub.add_parser(name, help=t(f"prevention.cli.check.{name}"))
        add_common(e)
        if name == "edit":
            e.add_argument("id")
        e.add_argument("--title", required=(name == "add"))
        e.add_argument("--cadence", required=(name == "add"), choices=CADENCES)
        e.add_argument("--every-days", type=int)
        e.add_argument("--responsible")
        e.add_argument("--item", action="append", default=None, help=t("prevention.cli.check.item"))
        e.add_argument("--due", default=None, metavar="DATE", help=t("prevention.cli.check.next_due"))
        if name == "edit":
            e.add_argument("--active", choices=["yes", "no"])
        e.add_argument("--json", action="store_true", help=t("cli.json"))
        e.set_defaults(func=cmd_add if name == "add" else cmd_edit)


def run_bare(env) -> int:
    """No subcommand: the integrity check, if the reliability work has landed."""
    try:
        integrity = importlib.import_module("tui.commands._integrity")
    except ModuleNotFoundError as exc:
        if exc.name != "tui.commands._integrity":
            raise
        sys.stderr.write(t("app.not_available") + "\n")
        return 1
    return int(integrity.run(env) or 0)


def _seed(env, ctx) -> None:
    """Shipped duties appear on first use; a read-only database still lists what it has."""
    try:
        seed_defaults(ctx)
    except StoreError:
        if getattr(env.args, "check_cmd", "") != "list":
            raise


def state_text(v) -> str:
    if v.state == "overdue":
        return t("prevention.check.state.overdue", days=v.days)
    if v.state == "upcoming":
        return t("prevention.check.state.upcoming", days=v.days)
    return t(f"prevention.check.state.{v.state}")


def check_json(ctx, v) -> dict:
    return {"id": v.id, "title": v.title, "cadence": v.cadence, "every_days": v.every_days,
            "responsible": v.responsible, "items": v.items, "builtin": v.builtin, "active": v.active,
            "last_done_at": iso_local(v.last_done_at, ctx.zone),
            "next_due": local_day(v.next_due_at, ctx.zone).isoformat() if v.next_due_at else None,
            "state": v.state, "days": v.days, "version": v.version}


def check_line(ctx, v) -> str:
    due = local_day(v.next_due_at, ctx.zone).isoformat() if v.next_due_at else "—"
    who = f"  [{responsible_text(v.responsible)}]" if v.responsible else ""
    return f"{v.id:>3}  {due}  {state_text(v)}  {v.title}  ({cadence_text(v.cadence, v.every_days)}){who}"


def _date(ctx, text, field):
    return local_day(parse_time(text, now=ctx.now(), zone=ctx.zone, field=field), ctx.zone)


def cmd_list(env) -> int:
    ctx = env.context()
    _seed(env, ctx)
    now = parse_time(env.args.at, now=ctx.now(), zone=ctx.zone, field="time") if env.args.at else ctx.now()
    views = list_checks(ctx, now, due_only=env.args.due, include_inactive=env.args.all)
    if env.args.json:
        print_json([check_json(ctx, v) for v in views])
        return 0
    if not views:
        print(t("prevention.cli.check.none_due" if env.args.due else "prevention.cli.check.none"))
    for v in views:
        print(check_line(ctx, v))
    return 0


def cmd_show(env) -> int:
    ctx = env.context()
    _seed(env, ctx)
    check = get_check(env.args.id)
    v = view(check, ctx.now(), ctx.zone)
    runs = runs_of(check.id)
    if env.args.json:
        data = check_json(ctx, v)
        data["runs"] = [{"id": r.id, "done_at": iso_local(r.done_at, ctx.zone), "done_by": r.done_by,
                         "due": local_day(r.due_at, ctx.zone).isoformat() if r.due_at else None,
                         "findings": r.findings, "items": r.items, "incident": r.incident_id,
                         "follow_up": r.follow_up_id} for r in runs]
        print_json(data)
        return 0
    print(check_line(ctx, v))
    for i, item in enumerate(v.items, 1):
        print(f"  {i}. {item}")
    if runs:
        print(t("prevention.cli.check.history"))
    for r in runs:
        unticked = [k for k, ok in (r.items or {}).items() if not ok]
        line = f"  {fmt_local(r.done_at, ctx.zone)}  {display_name(r.done_by)}"
        if r.findings:
            line += f"  {r.findings}"
        if unticked:
            line += "  ✗ " + "；".join(unticked)
        print(line)
    return 0


def cmd_done(env) -> int:
    ctx = env.context(write=True)
    _seed(env, ctx)
    a = env.args
    check = get_check(a.id)
    items = [it for it in view(check, ctx.now(), ctx.zone).items]
    ticks = {}
    for n in a.fail:
        if n < 1 or n > len(items):
            raise DomainError("prevention.error.item_number", n=n, count=len(items))
        ticks[items[n - 1]] = False
    done_at = parse_time(a.at, now=ctx.now(), zone=ctx.zone, field="check_done_at") if a.at else None
    follow = None
    if a.follow_up:
        due = _date(ctx, a.follow_up_due, "check_follow_up") if a.follow_up_due else local_day(ctx.now(), ctx.zone)
        follow = FollowUp(title=a.follow_up, due=due)
    result = complete_check(ctx, check.id, findings=a.findings, ticks=ticks, done_at=done_at, follow_up=follow)
    v = view(result.check, ctx.now(), ctx.zone)
    if a.json:
        print_json(check_json(ctx, v) | {"run": result.run.id, "late_days": result.late_days,
                                         "follow_up": result.follow_up.id if result.follow_up else None})
        return 0
    nxt = local_day(result.check.next_due_at, ctx.zone).isoformat() if result.check.next_due_at else "—"
    print(t("prevention.cli.check.recorded", title=result.check.title, next=nxt))
    if result.late_days:
        print(t("prevention.cli.check.was_late", days=result.late_days))
    if result.follow_up:
        print(t("prevention.cli.check.follow_up_created", id=result.follow_up.id, title=result.follow_up.title))
    return 0


def cmd_add(env) -> int:
    ctx = env.context(write=True)
    a = env.args
    first = _date(ctx, a.due, "next_due") if a.due else None
    row = add_check(ctx, a.title, a.cadence, every_days=a.every_days, responsible=a.responsible or "",
                    checklist=a.item or [], first_due=first)
    v = view(row, ctx.now(), ctx.zone)
    if a.json:
        print_json(check_json(ctx, v))
    else:
        print(t("prevention.cli.check.added", id=row.id) + "  " + check_line(ctx, v))
    return 0


def cmd_edit(env) -> int:
    ctx = env.context(write=True)
    a = env.args
    changes = {}
    for name in ("title", "cadence", "every_days", "responsible"):
        value = getattr(a, name)
        if value is not None:
            changes[name] = value
    if a.item is not None:
        changes["checklist"] = a.item
    if a.due:
        changes["next_due"] = _date(ctx, a.due, "next_due")
    if a.active:
        changes["active"] = a.active == "yes"
    row = edit_check(ctx, a.id, None, changes)
    v = view(row, ctx.now(), ctx.zone)
    if a.json:
        print_json(check_json(ctx, v))
    else:
        print(t("prevention.cli.check.edited") + "  " + check_line(ctx, v))
    return 0
