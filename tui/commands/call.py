"""``xueji-duty call log|list``: phone calls of an incident, the call tree's progress."""
from __future__ import annotations

from models.calls import call_label, calls_for, log_call
from models.calltree import DEFAULT_SITUATION, incident_progress, situation_name
from models.contacts import display_name, ensure_seeded, seed_if_possible
from models.i18n import t
from models.incidents import get_incident
from models.timeparse import fmt_local, iso_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("call", help=t("cli.call.help"))
    add_common(p)
    csub = p.add_subparsers(dest="call_cmd", required=True, parser_class=type(p))
    lg = csub.add_parser("log", help=t("cli.call.log"))
    add_common(lg)
    lg.add_argument("id", help=t("cli.call.incident"))
    lg.add_argument("--contact", required=True, help=t("cli.contact.ref"))
    lg.add_argument("--outcome", required=True, help="reached | no_answer | busy | message")
    lg.add_argument("--notes", "--said", dest="said", default="", help=t("cli.call.notes"))
    lg.add_argument("--instructions", default="", help=t("cli.call.instructions"))
    lg.add_argument("--number", help=t("cli.call.number"))
    lg.add_argument("--at", help=t("cli.call.at"))
    lg.add_argument("--late-reason", default="", help=t("cli.call.late_reason"))
    lg.add_argument("--json", action="store_true", help=t("cli.json"))
    lg.set_defaults(func=cmd_log)
    ls = csub.add_parser("list", help=t("cli.call.list"))
    add_common(ls)
    ls.add_argument("id", help=t("cli.call.incident"))
    ls.add_argument("--situation", default=DEFAULT_SITUATION)
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)


def call_json(ctx, c) -> dict:
    return {"id": c.id, "incident": c.incident_id, "contact": c.contact_id, "name": c.contact_name,
            "role": c.contact_role, "number": c.number, "at": iso_local(c.at, ctx.zone),
            "outcome": c.outcome, "said": c.said, "instructions": c.instructions, "logged_by": c.logged_by}


def cmd_log(env) -> int:
    ctx = env.context(write=True)
    ensure_seeded(ctx)
    a = env.args
    at = parse_time(a.at, now=ctx.now(), zone=ctx.zone, field="call.at") if a.at else None
    res = log_call(ctx, a.id, a.contact, a.outcome, said=a.said, instructions=a.instructions,
                   number=a.number, at=at, late_reason=a.late_reason)
    if a.json:
        print_json(call_json(ctx, res.call) | {"oral_reports": [r.id for r in res.oral_reports],
                                               "already_met": res.already_met})
        return 0
    c = res.call
    print(t("cli.call.logged", who=call_label(c), number=c.number or "-", at=fmt_local(c.at, ctx.zone),
            outcome=t("call_outcome." + c.outcome)))
    for r in res.oral_reports:
        print(t("cli.call.oral_met", stage=ctx.policy.stage(r.regime, r.stage).name, recipient=r.recipient))
    return 0


def cmd_list(env) -> int:
    ctx = env.context()
    seed_if_possible(ctx)
    inc = get_incident(env.args.id)
    calls = calls_for(inc.id)
    prog = incident_progress(inc.id, env.args.situation)
    if env.args.json:
        print_json({"calls": [call_json(ctx, c) for c in calls],
                    "tree": {"situation": prog.situation,
                             "steps": [{"position": s.position, "role": s.role, "label": s.label,
                                        "state": s.state, "attempts": s.attempts,
                                        "next_contact": s.next_contact.id if s.next_contact else None}
                                       for s in prog.steps],
                             "next_contact": prog.next_contact.id if prog.next_contact else None}})
        return 0
    print(f"{inc.code}  {inc.title}")
    for c in calls:
        line = f"  {fmt_local(c.at, ctx.zone)}  {call_label(c)}  {c.number or '-'}  {t('call_outcome.' + c.outcome)}"
        if c.said:
            line += f"  「{c.said}」"
        if c.instructions:
            line += "  " + t("contacts.instructions_short", text=c.instructions)
        print(line)
    if not calls:
        print("  " + t("contacts.no_calls"))
    print(t("contacts.tree_title", name=situation_name(prog.situation)))
    for s in prog.steps:
        mark = "▶" if s is prog.next_step else " "
        who = display_name(s.next_contact) if s.next_contact else ""
        print(f" {mark}{s.position}. {s.label}  {t('tree_state.' + s.state)}  {who}".rstrip())
    return 0


