"""``xueji-duty evidence add|list|verify``: register files and re-check their hashes."""
from __future__ import annotations

from models.evidence import add_evidence, evidence_for, verify
from models.i18n import t
from models.incidents import get_incident
from models.timeparse import fmt_local, iso_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("evidence", help=t("cli.evidence.help"))
    add_common(p)
    esub = p.add_subparsers(dest="evidence_cmd", required=True, parser_class=type(p))
    a = esub.add_parser("add", help=t("cli.evidence.add"))
    add_common(a)
    a.add_argument("id")
    a.add_argument("path")
    a.add_argument("--copy", action="store_true", help=t("cli.evidence.copy"))
    a.add_argument("--note", default="", help=t("cli.evidence.note"))
    a.add_argument("--collected-at", default=None, help=t("cli.evidence.collected_at"))
    a.add_argument("--collected-by", default=None, help=t("cli.evidence.collected_by"))
    a.add_argument("--json", action="store_true", help=t("cli.json"))
    a.set_defaults(func=cmd_add)
    ls = esub.add_parser("list", help=t("cli.evidence.list"))
    add_common(ls)
    ls.add_argument("id")
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)
    v = esub.add_parser("verify", help=t("cli.evidence.verify"))
    add_common(v)
    v.add_argument("id", nargs="?")
    v.add_argument("--json", action="store_true", help=t("cli.json"))
    v.set_defaults(func=cmd_verify)


def _json(ctx, ev) -> dict:
    return {"id": ev.id, "incident": ev.incident.code, "original_path": ev.original_path,
            "stored_path": ev.stored_path, "copied": ev.copied, "sha256": ev.sha256, "size": ev.size,
            "collected_by": ev.collected_by, "collected_at": iso_local(ev.collected_at, ctx.zone),
            "custody_note": ev.custody_note}


def cmd_add(env) -> int:
    ctx = env.context(write=True)
    a = env.args
    when = parse_time(a.collected_at, now=ctx.now(), zone=ctx.zone, field="collected_at") if a.collected_at else None
    ev = add_evidence(ctx, a.id, a.path, copy=a.copy, note=a.note, collected_at=when, collected_by=a.collected_by)
    if a.json:
        print_json(_json(ctx, ev))
    else:
        print(t("cli.evidence.added", id=ev.id, code=ev.incident.code, sha=ev.sha256, size=ev.size, who=ev.collected_by))
    return 0


def cmd_list(env) -> int:
    ctx = env.context()
    inc = get_incident(env.args.id)
    rows = evidence_for(inc)
    if env.args.json:
        print_json([_json(ctx, ev) for ev in rows])
        return 0
    if not rows:
        print(t("cli.evidence.none"))
    for ev in rows:
        where = ev.stored_path if ev.copied else ev.original_path
        print(f"#{ev.id}  {ev.sha256[:16]}…  {ev.size}  {fmt_local(ev.collected_at, ctx.zone)}  "
              f"{ev.collected_by}  {where}  {ev.custody_note}")
    return 0


def cmd_verify(env) -> int:
    ctx = env.context()
    checks = verify(ctx, env.args.id)
    bad = [c for c in checks if not c.ok]
    if env.args.json:
        print_json([{"id": c.evidence.id, "incident": c.evidence.incident.code, "path": str(c.path),
                     "status": c.status, "expected_sha256": c.evidence.sha256, "sha256": c.sha256,
                     "expected_size": c.evidence.size, "size": c.size} for c in checks])
    else:
        for c in checks:
            line = t(f"cli.evidence.check_{c.status}", id=c.evidence.id, code=c.evidence.incident.code,
                     path=str(c.path))
            if c.status == "changed":
                line += "\n    " + t("cli.evidence.check_detail", expected=c.evidence.sha256, actual=c.sha256,
                                      expected_size=c.evidence.size, size=c.size)
            print(line)
        print(t("cli.evidence.summary", n=len(checks), bad=len(bad)))
    return 1 if bad else 0
