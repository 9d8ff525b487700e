"""``xueji-duty account list|add|password-changed|used|handover|retire``: the registry-account register.

Never a password: the register keeps dates only.
"""
from __future__ import annotations

from models.i18n import t
from models.registry_accounts import (add_account, hand_over, list_accounts, password_changed, record_use,
                                      retire)
from models.timeparse import fmt_local, iso_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("account", help=t("prevention.cli.account.help"))
    add_common(p)
    asub = p.add_subparsers(dest="account_cmd", required=True, parser_class=type(p))
    ls = asub.add_parser("list", help=t("prevention.cli.account.list"))
    add_common(ls)
    ls.add_argument("--all", action="store_true", help=t("prevention.cli.account.all"))
    ls.add_argument("--flagged", action="store_true", help=t("prevention.cli.account.flagged"))
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)
    a = asub.add_parser("add", help=t("prevention.cli.account.add"))
    add_common(a)
    a.add_argument("--login", required=True)
    a.add_argument("--holder", required=True)
    a.add_argument("--role", default="")
    a.add_argument("--password-changed", default=None, metavar="DATE")
    a.add_argument("--last-used", default=None, metavar="DATE")
    a.add_argument("--notes", default="")
    a.set_defaults(func=cmd_add)
    for name, func, extra in (("password-changed", cmd_password, None), ("used", cmd_used, None),
                              ("handover", cmd_handover, "--to"), ("retire", cmd_retire, "--reason")):
        s = asub.add_parser(name, help=t(f"prevention.cli.account.{name.replace('-', '_')}"))
        add_common(s)
        s.add_argument("id", help=t("prevention.cli.account.id"))
        s.add_argument("--at", default=None)
        if extra == "--to":
            s.add_argument("--to", required=True, help=t("prevention.cli.account.to"))
        elif extra:
            s.add_argument(extra, default="")
        s.set_defaults(func=func)


def _when(ctx, text, field):
    return parse_time(text, now=ctx.now(), zone=ctx.zone, field=field) if text else None


def flag_text(flag: str) -> str:
    return t(f"prevention.account.flag.{flag}")


def cmd_list(env) -> int:
    ctx = env.context()
    views = list_accounts(ctx, include_retired=env.args.all)
    if env.args.flagged:
        views = [v for v in views if v.flags]
    if env.args.json:
        print_json([{"id": v.row.id, "login": v.row.login, "holder": v.row.holder, "role": v.row.role,
                     "password_changed_at": iso_local(v.row.password_changed_at, ctx.zone),
                     "last_used_at": iso_local(v.row.last_used_at, ctx.zone),
                     "handed_over_at": iso_local(v.row.handed_over_at, ctx.zone),
                     "retired_at": iso_local(v.row.retired_at, ctx.zone), "flags": v.flags,
                     "password_age_days": v.password_age_days, "idle_days": v.idle_days} for v in views])
        return 0
    if not views:
        print(t("prevention.cli.account.none"))
    for v in views:
        r = v.row
        flags = "  ⚠ " + "；".join(flag_text(f) for f in v.flags) if v.flags else ""
        state = f"  [{t('prevention.account.retired')} {fmt_local(r.retired_at, ctx.zone, date=True)}]" if v.retired else ""
        print(f"{r.id:>3}  {r.login}  {r.holder}  {r.role}  "
              f"{t('prevention.account.pw_changed')} {fmt_local(r.password_changed_at, ctx.zone)}  "
              f"{t('prevention.account.last_used')} {fmt_local(r.last_used_at, ctx.zone)}{state}{flags}")
    return 0


def cmd_add(env) -> int:
    ctx = env.context(write=True)
    a = env.args
    row = add_account(ctx, a.login, a.holder, a.role,
                      password_changed_at=_when(ctx, a.password_changed, "account_password_changed_at"),
                      last_used_at=_when(ctx, a.last_used, "account_last_used_at"), notes=a.notes)
    print(t("prevention.cli.account.added", id=row.id, login=row.login))
    return 0


def cmd_password(env) -> int:
    ctx = env.context(write=True)
    row = password_changed(ctx, env.args.id, _when(ctx, env.args.at, "account_password_changed_at"))
    print(t("prevention.cli.account.password_recorded", login=row.login,
            at=fmt_local(row.password_changed_at, ctx.zone)))
    return 0


def cmd_used(env) -> int:
    ctx = env.context(write=True)
    row = record_use(ctx, env.args.id, _when(ctx, env.args.at, "account_last_used_at"))
    print(t("prevention.cli.account.use_recorded", login=row.login, at=fmt_local(row.last_used_at, ctx.zone)))
    return 0


def cmd_handover(env) -> int:
    ctx = env.context(write=True)
    row = hand_over(ctx, env.args.id, env.args.to, _when(ctx, env.args.at, "account_handed_over_at"))
    print(t("prevention.cli.account.handed_over", login=row.login, holder=row.holder))
    return 0


def cmd_retire(env) -> int:
    ctx = env.context(write=True)
    row = retire(ctx, env.args.id, env.args.reason, _when(ctx, env.args.at, "account_retired_at"))
    print(t("prevention.cli.account.retired", login=row.login))
    return 0
