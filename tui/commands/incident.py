"""``xueji-duty incident new|list|show``."""
from __future__ import annotations

from models.deadlines import next_obligation
from models.i18n import t
from models.incidents import IncidentInput, create_incident, get_incident, incident_obligations, list_incidents
from models.taxonomy import load_taxonomy
from models.timeparse import fmt_local, parse_time
from tui.env import print_json
from tui.present import incident_json, obligation_json, obligation_line


def register(sub, add_common) -> None:
    p = sub.add_parser("incident", help=t("cli.incident.help"))
    add_common(p)
    isub = p.add_subparsers(dest="incident_cmd", required=True, parser_class=type(p))
    n = isub.add_parser("new")
    add_common(n)
    n.add_argument("--title", required=True)
    n.add_argument("--category", required=True)
    n.add_argument("--subcategory")
    n.add_argument("--occurred", required=True)
    n.add_argument("--discovered", default="now")
    n.add_argument("--grade")
    n.add_argument("--location", default="")
    n.add_argument("--asset", default="")
    n.add_argument("--reported-by", default="")
    n.add_argument("--description", default="")
    n.add_argument("--delay-reason")
    n.add_argument("--personal-info", action="store_true")
    n.add_argument("--personal-info-unsure", action="store_true", help=t("cli.incident.personal_info_unsure"))
    n.add_argument("--drill", action="store_true", help=t("prevention.cli.incident.drill"))
    n.add_argument("--json", action="store_true", help=t("cli.json"))
    n.set_defaults(func=cmd_new)
    ls = isub.add_parser("list")
    add_common(ls)
    ls.add_argument("--all", action="store_true")
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)
    sh = isub.add_parser("show")
    add_common(sh)
    sh.add_argument("id")
    sh.add_argument("--at", default=None, help=t("cli.at_help"))
    sh.add_argument("--json", action="store_true", help=t("cli.json"))
    sh.set_defaults(func=cmd_show)
    from tui.commands._incident_actions import register_actions
    register_actions(isub, add_common)


def incident_input_from_args(env, ctx, a) -> IncidentInput:
    now = ctx.now()
    occurred = parse_time(a.occurred, now=now, zone=ctx.zone, field="occurred_at")
    discovered = parse_time(a.discovered, now=now, zone=ctx.zone, field="discovered_at")
    return IncidentInput(title=a.title, category=a.category, subcategory=a.subcategory,
                         occurred_at=occurred, discovered_at=discovered, grade=a.grade,
                         location=a.location, asset=a.asset, personal_info=None if getattr(a, "personal_info_unsure", False) else a.personal_info,
                         reported_by=a.reported_by, description=a.description,
                         delay_reason=a.delay_reason, is_drill=getattr(a, "drill", False))


def cmd_new(env) -> int:
    ctx = env.context(write=True)
    inc = create_incident(ctx, incident_input_from_args(env, ctx, env.args))
    if env.args.json:
        print_json(incident_json(ctx, inc))
    else:
        print(t("cli.incident.created", code=inc.code, title=inc.title))
        if inc.is_drill:
            print("  " + t("prevention.cli.incident.drill_created"))
        for ob in incident_obligations(ctx, inc):
            if ob.is_open:
                print("  " + obligation_line(ctx, inc, ob))
    return 0


def cmd_list(env) -> int:
    ctx = env.context()
    incs = list_incidents(include_closed=env.args.all)
    if env.args.json:
        print_json([incident_json(ctx, i, with_obligations=False) | {"next": _next_json(ctx, i)} for i in incs])
        return 0
    if not incs:
        print(t("cli.incident.none"))
    tax = load_taxonomy()
    for inc in incs:
        nxt = next_obligation(incident_obligations(ctx, inc))
        cat = tax.category(inc.category).name
        line = f"{inc.code}  {inc.grade or '-':>3}  {t('status.' + inc.status)}  {cat}  {inc.title}"
        if inc.is_drill:
            line = line.replace(inc.code, f"{inc.code} [{t('prevention.drill.mark')}]", 1)
        if nxt:
            line += "  → " + obligation_line(ctx, inc, nxt, with_code=False)
        print(line)
    return 0


def _next_json(ctx, inc):
    nxt = next_obligation(incident_obligations(ctx, inc))
    return obligation_json(ctx, inc, nxt) if nxt else None


def cmd_show(env) -> int:
    """The incident and its obligations; with ``--at`` the obligations as they stood then."""
    from tui.present import fmt_local
    ctx = env.context()
    inc = get_incident(env.args.id)
    at = parse_time(env.args.at, now=ctx.now(), zone=ctx.zone, field="time") if env.args.at else None
    obls = incident_obligations(ctx, inc, at)
    data = incident_json(ctx, inc, with_obligations=False)
    data["obligations"] = [obligation_json(ctx, inc, o) for o in obls]
    if at is not None:
        from models.timeparse import iso_local
        data["as_of"] = iso_local(at, ctx.zone)
        data["recorded"] = inc.created_at <= at
    if env.args.json:
        print_json(data)
        return 0
    for key in ("code", "title", "category_name", "subcategory_name", "grade", "status", "occurred_at",
                "discovered_at", "handling_closed_at", "location", "asset", "personal_info",
                "reported_by", "description", "delay_reason"):
        value = _shown(ctx, inc, key, data.get(key))
        if value in (None, ""):
            continue
        label = t("field." + key.removesuffix("_name"), default=key)
        print(f"{label}: {value}")
    if at is not None:
        if inc.created_at > at:
            print(t("cli.incident.not_recorded_at", at=fmt_local(at, ctx.zone)))
            return 0
        print(t("cli.incident.as_of", at=fmt_local(at, ctx.zone)))
    for ob in obls:
        print("  " + obligation_line(ctx, inc, ob, with_code=False))
    return 0


def _shown(ctx, inc, key: str, value):
    """A stored value in words for the human output (never ``open``, ``False`` or an ISO stamp)."""
    if key == "personal_info":
        if inc.personal_info_unsure:
            return t("incident.pi.unsure")
        return t("incident.yes") if inc.personal_info else t("incident.no")
    if value in (None, ""):
        return value
    if key == "status":
        return t("status." + str(value), default=str(value))
    if key == "grade":
        g = load_taxonomy().grade(str(value))
        return f"{g.id} {g.name}" if g else value
    if key in ("occurred_at", "discovered_at", "handling_closed_at") and getattr(inc, key, None) is not None:
        return fmt_local(getattr(inc, key), ctx.zone)
    return value
