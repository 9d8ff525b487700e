"""``xueji-duty county init|add-school|add-bureau|…``: the county view (issue 19).

The bureau's commands (``init``, ``add-school``, ``add-bureau``) take the county server's URL
(``--url`` or ``XUEJI_DUTY_COUNTY_URL``, so a password need not appear in the process list) and
need no school database. Other modules add their own sub-commands to the same ``county``
parser: every ``tui.commands._county_*`` module's ``register_county(county_sub, add_common)``
is called here, so the school's link and the county board live in files of their own.
"""
from __future__ import annotations

import importlib
import os
import pkgutil

from models.errors import DomainError
from models.i18n import t
from tui.env import print_json

URL_ENV = "XUEJI_DUTY_COUNTY_URL"


def register(sub, add_common) -> None:
    p = sub.add_parser("county", help=t("county.cli.help"))
    add_common(p)
    county_sub = p.add_subparsers(dest="county_command", parser_class=type(p))

    init = county_sub.add_parser("init", help=t("county.cli.init"))
    add_common(init)
    add_url(init)
    init.add_argument("--json", action="store_true", help=t("cli.json"))
    init.set_defaults(func=cmd_init)

    school = county_sub.add_parser("add-school", help=t("county.cli.add_school"))
    add_common(school)
    school.add_argument("code", help=t("county.cli.code"))
    school.add_argument("name", help=t("county.cli.name"))
    add_url(school)
    school.add_argument("--json", action="store_true", help=t("cli.json"))
    school.set_defaults(func=cmd_add_school)

    bureau = county_sub.add_parser("add-bureau", help=t("county.cli.add_bureau"))
    add_common(bureau)
    bureau.add_argument("username", help=t("county.cli.bureau_user"))
    add_url(bureau)
    bureau.add_argument("--json", action="store_true", help=t("cli.json"))
    bureau.set_defaults(func=cmd_add_bureau)

    import tui.commands as pkg
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_county_"):
            importlib.import_module(f"tui.commands.{info.name}").register_county(county_sub, add_common)
    p.set_defaults(func=lambda env: _usage(p))


def _usage(parser) -> int:
    parser.print_help()
    return 2


def add_url(p, required: bool = True) -> None:
    p.add_argument("--url", default=None, help=t("county.cli.url", env=URL_ENV))


def county_url(env, required: bool = True) -> str | None:
    url = env.args.url or os.environ.get(URL_ENV) or None
    if url is None and required:
        raise DomainError("county.error.need_url", env=URL_ENV)
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise DomainError("county.error.bad_url")
    return url


NEED_SUPERUSER = ("county.error.need_superuser", "county.error.need_superuser_cmd")


def _wrong_login(exc: DomainError) -> int:
    """The wrong login for a bureau command (not a superuser): a usage error (exit 2), nothing
    was changed (``schema.require_superuser`` runs before the first change)."""
    import sys
    if exc.key not in NEED_SUPERUSER:
        raise exc
    sys.stderr.write(t("cli.error_prefix") + exc.message + "\n")
    return 2


def cmd_init(env) -> int:
    from models.county import schema
    try:
        version = schema.init(county_url(env))
    except DomainError as exc:
        return _wrong_login(exc)
    if env.args.json:
        print_json({"version": version})
    else:
        print(t("county.cli.initialised", version=version))
    return 0


def cmd_add_school(env) -> int:
    from models.county import schema
    try:
        got = schema.add_school(county_url(env), env.args.code, env.args.name)
    except DomainError as exc:
        return _wrong_login(exc)
    if env.args.json:
        print_json({"school": got["school"], "role": got["role"], "secret": got["secret"]})
    else:
        print(t("county.cli.school_added", school=got["school"], name=got["name"], role=got["role"]))
        print(got["secret"])
        print(t("county.cli.secret_once", school=got["school"]))
    return 0


def cmd_add_bureau(env) -> int:
    from models.county import schema
    try:
        got = schema.add_bureau(county_url(env), env.args.username)
    except DomainError as exc:
        return _wrong_login(exc)
    if env.args.json:
        print_json({"user": got["user"], "secret": got["secret"]})
    else:
        print(t("county.cli.bureau_added", user=got["user"]))
        print(got["secret"])
    return 0
