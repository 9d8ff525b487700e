"""``xueji-duty incident grade|handled|close|withdraw|note``: thin wrappers over the services.

Kept apart from ``incident.py`` (new/list/show) so features can add subcommands
without editing the same lines.
"""
from __future__ import annotations

from models.i18n import t
from models.incidents import close_incident, get_incident, mark_handled, set_grade, withdraw_incident
from models.notes import add_note
from models.taxonomy import load_taxonomy
from models.timeparse import fmt_local, parse_time


def register_actions(isub, add_common) -> None:
    g = isub.add_parser("grade", help=t("cli.incident.grade"))
    add_common(g)
    g.add_argument("id")
    g.add_argument("grade", help="I | II | III | IV | 特别重大 | 重大 | 较大 | 一般")
    g.add_argument("--reason", required=True)
    g.set_defaults(func=cmd_grade)
    h = isub.add_parser("handled", help=t("cli.incident.handled"))
    add_common(h)
    h.add_argument("id")
    h.add_argument("--at", default=None)
    h.set_defaults(func=cmd_handled)
    c = isub.add_parser("close", help=t("cli.incident.close"))
    add_common(c)
    c.add_argument("id")
    c.add_argument("--over", action="append", default=[], metavar="REGIME.STAGE=REASON",
                   help=t("cli.incident.over_help"))
    c.set_defaults(func=cmd_close)
    w = isub.add_parser("withdraw", help=t("cli.incident.withdraw"))
    add_common(w)
    w.add_argument("id")
    w.add_argument("--reason", required=True)
    w.set_defaults(func=cmd_withdraw)
    e = isub.add_parser("edit", help=t("cli.incident.edit"))
    add_common(e)
    e.add_argument("id")
    e.add_argument("--title")
    e.add_argument("--occurred")
    e.add_argument("--discovered")
    e.add_argument("--location")
    e.add_argument("--asset")
    e.add_argument("--description")
    pi = e.add_mutually_exclusive_group()
    pi.add_argument("--personal-info", dest="personal_info", action="store_const", const=True, default=None)
    pi.add_argument("--no-personal-info", dest="personal_info", action="store_const", const=False)
    e.add_argument("--reason", required=True, help=t("cli.incident.edit_reason"))
    e.add_argument("--version", type=int, help=t("cli.version_merge"))
    e.add_argument("--json", action="store_true", help=t("cli.json"))
    e.set_defaults(func=cmd_edit)
    n = isub.add_parser("note", help=t("cli.incident.note"))
    add_common(n)
    n.add_argument("id")
    n.add_argument("text")
    n.set_defaults(func=cmd_note)


def cmd_grade(env) -> int:
    ctx = env.context(write=True)
    inc = set_grade(ctx, env.args.id, env.args.grade, env.args.reason)
    print(t("cli.incident.graded", code=inc.code, grade=f"{inc.grade} {load_taxonomy().grade(inc.grade).name}"))
    return 0


def cmd_handled(env) -> int:
    ctx = env.context(write=True)
    at = parse_time(env.args.at, now=ctx.now(), zone=ctx.zone, field="handling_closed_at") if env.args.at else None
    inc = mark_handled(ctx, env.args.id, at)
    print(t("cli.incident.marked_handled", code=inc.code, at=fmt_local(inc.handling_closed_at, ctx.zone)))
    return 0


def cmd_close(env) -> int:
    """Closing prints the checklist of what is still owed; owed reports block it (exit 1) unless a
    leader closes over them with a reason (``--over``)."""
    from models.incidents import CloseBlocked, parse_over
    from tui.present import obligation_line
    ctx = env.context(write=True)
    try:
        inc = close_incident(ctx, env.args.id, parse_over(env.args.over))
    except CloseBlocked as exc:
        print(t("cli.incident.close_checklist"))
        target = get_incident(env.args.id)
        for ob in exc.checklist:
            mark = "✗" if ob in exc.blocking else "·"
            print(f"  {mark} [{t('figure.' + ob.figure)}] " + obligation_line(ctx, target, ob, with_code=False))
        print(t("cli.incident.close_hint", key=exc.blocking[0].key))
        raise
    print(t("cli.incident.closed", code=inc.code))
    from models.incidents import incident_obligations
    for ob in incident_obligations(ctx, inc):
        if ob.state == "missed":
            print("  " + obligation_line(ctx, inc, ob, with_code=False))
    return 0


def cmd_withdraw(env) -> int:
    ctx = env.context(write=True)
    inc = withdraw_incident(ctx, env.args.id, env.args.reason)
    print(t("cli.incident.withdrawn", code=inc.code))
    return 0


def cmd_note(env) -> int:
    ctx = env.context(write=True)
    note = add_note(ctx, env.args.id, env.args.text)
    print(t("cli.incident.noted", code=note.incident.code))
    return 0


def cmd_edit(env) -> int:
    """The same service as the TUI's edit screen: only the options given are changed, merged."""
    from models.incidents import get_incident, update_incident
    from tui.env import print_json
    from tui.present import incident_json
    ctx = env.context(write=True)
    a = env.args
    now = ctx.now()
    changes: dict = {}
    for opt, name in (("title", "title"), ("location", "location"), ("asset", "asset"),
                      ("description", "description")):
        if getattr(a, opt) is not None:
            changes[name] = getattr(a, opt)
    if a.occurred is not None:
        changes["occurred_at"] = parse_time(a.occurred, now=now, zone=ctx.zone, field="occurred_at")
    if a.discovered is not None:
        changes["discovered_at"] = parse_time(a.discovered, now=now, zone=ctx.zone, field="discovered_at")
    if a.personal_info is not None:
        changes["personal_info"] = a.personal_info
    before = get_incident(a.id)
    inc = update_incident(ctx, a.id, a.version, changes, a.reason)
    if a.json:
        print_json(incident_json(ctx, inc))
    elif inc.version == before.version:
        print(t("cli.incident.unchanged", code=inc.code))
    else:
        names = t("merge.joiner").join(t("field." + k, default=k) for k in changes)
        print(t("cli.incident.edited", code=inc.code, fields=names, version=inc.version))
    return 0
