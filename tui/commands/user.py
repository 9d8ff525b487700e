"""``xueji-duty user add|passwd|disable|enable|unlock|role|revoke|list``: accounts, for admins.

Account management always asks for the acting user's password (``--user NAME`` and
a prompt, or ``--password-stdin``): a remembered login on an unattended terminal
must not be enough to create accounts or reset passwords.
"""
from __future__ import annotations

from models import accounts
from models.context import Context
from models.errors import DomainError
from models.i18n import t
from models.roles import ROLES
from models.timeparse import iso_local
from tui.commands._passwords import read_current_password, read_new_password
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("user", help=t("cli.user_cmd.help"))
    add_common(p)
    us = p.add_subparsers(dest="user_cmd", required=True, parser_class=type(p))
    a = us.add_parser("add", help=t("cli.user_cmd.add"))
    add_common(a)
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=list(ROLES))
    a.add_argument("--name", default="")
    a.set_defaults(func=cmd_add)
    pw = us.add_parser("passwd", help=t("cli.user_cmd.passwd"))
    add_common(pw)
    pw.add_argument("username", nargs="?")
    pw.set_defaults(func=cmd_passwd)
    for name, func in (("disable", cmd_disable), ("enable", cmd_enable), ("unlock", cmd_unlock),
                       ("revoke", cmd_revoke)):
        sp = us.add_parser(name, help=t(f"cli.user_cmd.{name}"))
        add_common(sp)
        sp.add_argument("username")
        if name == "unlock":
            sp.add_argument("--local", action="store_true", help=t("cli.user_cmd.unlock_local"))
        sp.set_defaults(func=func)
    r = us.add_parser("role", help=t("cli.user_cmd.role"))
    add_common(r)
    r.add_argument("username")
    r.add_argument("role", choices=list(ROLES))
    r.set_defaults(func=cmd_role)
    pr = us.add_parser("profile", help=t("profile.cli.help"))
    add_common(pr)
    pr.add_argument("username", nargs="?")
    pr.add_argument("--name", default=None, help=t("profile.cli.name"))
    pr.add_argument("--title", default=None, help=t("profile.cli.title"))
    pr.add_argument("--phone", default=None, help=t("profile.cli.phone"))
    pr.set_defaults(func=cmd_profile)
    ls = us.add_parser("list", help=t("cli.user_cmd.list"))
    add_common(ls)
    ls.add_argument("--json", action="store_true", help=t("cli.json"))
    ls.set_defaults(func=cmd_list)


def _admin_ctx(env) -> Context:
    ctx = env.context(write=True, fresh=True)
    if not accounts.has_users():
        raise DomainError("error.no_users_yet")
    return ctx


def cmd_add(env) -> int:
    ctx = _admin_ctx(env)
    from models.roles import require
    require(ctx.actor, "admin")   # before asking for the new password
    password = read_new_password(env, env.args.username)
    user = accounts.create_user(ctx, env.args.username, env.args.role, env.args.name, password)
    print(t("cli.user_cmd.added", user=user.username, role=t("role." + user.role)))
    return 0


def cmd_passwd(env) -> int:
    """Your own (``--user`` omitted or the same): the current password, then the new one.

    Someone else's (``user passwd bob --user admin``): the admin's password, then bob's new one.
    """
    acting = getattr(env.args, "user", None)
    target = env.args.username or acting
    store = env.store()
    if not accounts.has_users():
        raise DomainError("error.no_users_yet")
    if not target:
        if not env.interactive():
            raise DomainError("error.need_user_for_stdin")
        target = input(t("prompt.username")).strip()
    if acting and acting != target:
        ctx = env.context(write=True, fresh=True)
        new = read_new_password(env, target)
        accounts.change_password(ctx, target, new)
    else:
        from models.context import Actor, origin_of_session
        current = read_current_password(env, target)
        anon = Context(store=store, actor=Actor(username="-", role="viewer", origin=origin_of_session()),
                       clock=env.clock, settings=env.settings)
        actor = accounts.authenticate(anon, target, current, purpose="passwd", record_success=False)
        ctx = Context(store=store, actor=actor, clock=env.clock, settings=env.settings)
        new = read_new_password(env, target)
        accounts.change_password(ctx, target, new, current_password=current)
    print(t("cli.user_cmd.passwd_done", user=target))
    return 0


def cmd_disable(env) -> int:
    ctx = _admin_ctx(env)
    accounts.set_disabled(ctx, env.args.username, True)
    print(t("cli.user_cmd.disabled", user=env.args.username))
    return 0


def cmd_enable(env) -> int:
    ctx = _admin_ctx(env)
    accounts.set_disabled(ctx, env.args.username, False)
    print(t("cli.user_cmd.enabled", user=env.args.username))
    return 0


def cmd_unlock(env) -> int:
    if getattr(env.args, "local", False):
        # The file's owner needs no account: guesses from elsewhere cannot lock the desk for good.
        ctx = env.context(write=False)
        accounts.unlock_local(ctx, env.args.username)
        print(t("cli.user_cmd.unlocked", user=env.args.username))
        return 0
    ctx = _admin_ctx(env)
    accounts.unlock_user(ctx, env.args.username)
    print(t("cli.user_cmd.unlocked", user=env.args.username))
    return 0


def cmd_revoke(env) -> int:
    ctx = _admin_ctx(env)
    n = accounts.revoke_logins(ctx, env.args.username)
    print(t("cli.user_cmd.revoked", user=env.args.username, n=n))
    return 0


def cmd_role(env) -> int:
    ctx = _admin_ctx(env)
    accounts.set_role(ctx, env.args.username, env.args.role)
    print(t("cli.user_cmd.role_set", user=env.args.username, role=t("role." + env.args.role)))
    return 0


def cmd_list(env) -> int:
    ctx = _admin_ctx(env)
    from models.roles import require
    require(ctx.actor, "admin")
    now = ctx.now()
    users = accounts.list_users()
    if env.args.json:
        print_json([{"username": u.username, "display_name": u.display_name, "role": u.role,
                     "disabled": u.disabled,
                     "locked_until": iso_local(u.locked_until, ctx.zone) if u.locked_until and u.locked_until > now else None,
                     "password_changed_at": iso_local(u.password_changed_at, ctx.zone),
                     "remembered_logins": u.remembered_logins} for u in users])
        return 0
    for u in users:
        flags = []
        if u.disabled:
            flags.append(t("cli.user_cmd.flag_disabled"))
        if u.locked_until and u.locked_until > now:
            flags.append(t("cli.user_cmd.flag_locked", until=iso_local(u.locked_until, ctx.zone)))
        print(f"{u.username:<16} {t('role.' + u.role):<8} {u.display_name:<12} "
              f"{t('cli.user_cmd.remembered', n=u.remembered_logins)} {' '.join(flags)}".rstrip())
    return 0


def cmd_profile(env) -> int:
    """``user profile [NAME] [--name] [--title] [--phone]``: your own, or (admins) anyone's; no option shows it."""
    from models.profiles import profile_of, set_profile
    a = env.args
    if a.name is None and a.title is None and a.phone is None:
        ctx = env.context()
        prof = profile_of(a.username or ctx.actor.username)
        if prof is None:
            accounts.get_user(a.username or ctx.actor.username)   # the clear "no such user"
        print(t("profile.cli.show", user=prof.username, name=prof.name or "—", title=prof.title or "—",
                phone=prof.phone or "—"))
        return 0
    ctx = env.context(write=True)
    user = set_profile(ctx, a.username, name=a.name, title=a.title, phone=a.phone)
    print(t("profile.cli.done", user=user.username, name=user.display_name or "—", title=user.title or "—",
            phone=user.phone or "—"))
    return 0
