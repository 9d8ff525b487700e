"""``xueji-duty init``: the school's name, bureau and zone, written into the database.

``--admin USER`` also creates the first administrator (password from a prompt, twice,
or the first line of ``--password-stdin``), so the database leaves bootstrap mode.
Once accounts exist, re-initialising with ``--force`` needs an administrator's password.
"""
from __future__ import annotations

from models import accounts
from models.config import DEFAULT_BUREAU, DEFAULT_TZ
from models.context import Actor, Context, origin_of_session
from models.errors import DomainError, ValidationError
from models.i18n import t
from models.roles import require
from models.school import is_initialised
from models.setup import first_run, initialise_school
from tui.commands._passwords import read_new_password


def register(sub, add_common) -> None:
    p = sub.add_parser("init", help=t("cli.init.help"))
    add_common(p)
    p.add_argument("--school")
    p.add_argument("--bureau", default=DEFAULT_BUREAU)
    p.add_argument("--timezone", default=DEFAULT_TZ)
    p.add_argument("--force", action="store_true")
    p.add_argument("--admin", metavar="USER", help=t("cli.init.admin"))
    p.add_argument("--name", default="", help=t("cli.init.admin_name"))
    p.set_defaults(func=run)


def run(env) -> int:
    store = env.store(create=True)
    a = env.args
    initialised = is_initialised()
    users_exist = accounts.has_users()
    if a.admin and users_exist:
        raise DomainError("error.users_exist")
    add_admin_only = initialised and a.admin and not a.force
    if initialised and not a.force and not add_admin_only:
        raise DomainError("error.db_exists", path=str(store.path))
    if not add_admin_only and not (a.school or "").strip():
        raise ValidationError({"school_name": ("error.required", {})})
    if users_exist:
        ctx = env.context(write=True, fresh=True)
        require(ctx.actor, "admin")
    else:
        who = a.admin or getattr(a, "user", None) or "init"
        ctx = Context(store=store, actor=Actor(username=who, role="admin", origin=origin_of_session()),
                      clock=env.clock, settings=env.settings)
    password = read_new_password(env, a.admin) if a.admin else None
    if a.admin:
        first_run(ctx, None if add_admin_only else a.school, a.bureau, a.timezone, a.admin, a.name, password)
    else:
        initialise_school(ctx, a.school, a.bureau, a.timezone)
    if not add_admin_only:
        print(t("cli.init.done", school=a.school, path=store.path))
    if a.admin:
        print(t("cli.init.admin_done", user=a.admin))
    return 0
