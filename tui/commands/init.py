"""``xueji-duty init``: the school's name, bureau and zone, written into the database."""
from __future__ import annotations

from models.config import DEFAULT_BUREAU, DEFAULT_TZ
from models.context import Actor, Context
from models.errors import DomainError
from models.i18n import t
from models.school import is_initialised, save_school_settings


def register(sub, add_common) -> None:
    p = sub.add_parser("init", help=t("cli.init.help"))
    add_common(p)
    p.add_argument("--school", required=True)
    p.add_argument("--bureau", default=DEFAULT_BUREAU)
    p.add_argument("--timezone", default=DEFAULT_TZ)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=run)


def run(env) -> int:
    store = env.store(create=True)
    if is_initialised() and not env.args.force:
        raise DomainError("error.db_exists", path=str(store.path))
    actor = Actor(username=getattr(env.args, "user", None) or "init", role="admin")
    ctx = Context(store=store, actor=actor, clock=env.clock, settings=env.settings)
    save_school_settings(ctx, {"school_name": env.args.school.strip(), "bureau": env.args.bureau.strip(),
                               "timezone": env.args.timezone.strip()})
    from models.checks import seed_defaults  # the plan's prevention duties, as editable defaults
    seed_defaults(ctx)
    print(t("cli.init.done", school=env.args.school, path=store.path))
    return 0
