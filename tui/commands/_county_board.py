"""``xueji-duty county board [--url …] [--json] [--no-drills]``: the county board (issue 19 item 3).

With ``--url`` (or ``XUEJI_DUTY_COUNTY_URL``) it reads the county server over that login: the
bureau's sees every school, a school's only its own (row-level security). Without either, on an
enrolled school's desk (``county enrol``), it logs in with the school's stored credential and so
shows that school's rows only. ``--json`` prints the
rows in board order and the per-school counts and exits; otherwise the board opens full-screen
and follows the server's notifications.
"""
from __future__ import annotations

from models.i18n import t
from tui.env import print_json


def register_county(county_sub, add_common) -> None:
    from tui.commands.county import add_url
    p = county_sub.add_parser("board", help=t("county.board.cli.help"))
    add_common(p)
    add_url(p)
    p.add_argument("--json", action="store_true", help=t("county.board.cli.json"))
    p.add_argument("--no-drills", action="store_true", help=t("county.board.cli.no_drills"))
    p.add_argument("--no-mouse", action="store_true", help=t("cli.no_mouse"))
    p.set_defaults(func=cmd_board)


def board_url(env) -> str:
    """The login the board reads with: ``--url`` / the environment, else this desk's enrolment."""
    from tui.commands.county import county_url
    url = county_url(env, required=False)
    if url is not None:
        return url
    school = _enrolled_url(env)
    if school is not None:
        return school
    return county_url(env, required=True)      # raises: name the server


def _enrolled_url(env) -> str | None:
    """This desk's own county login when its database is enrolled (``models.county.link``: the
    school and server in its settings, the credential in the keyring or the private file beside
    it); None when it is not enrolled. The password stays in this process (a conninfo string),
    never on a command line."""
    if not env.db_path.exists():
        return None
    from models.county import link
    from models.errors import DomainError
    store = env.store(create=False)
    school, url = link.settings_of(store)
    if not school or not url:
        return None
    cred = link.load_credential(store)
    if cred is None or cred.get("school") != school:
        raise DomainError("county.error.no_credential", path=str(link.credential_path(store.path)))
    from psycopg.conninfo import make_conninfo
    return make_conninfo(url, user=cred["role"], password=cred["password"])


def cmd_board(env) -> int:
    url = board_url(env)
    drills = not env.args.no_drills
    if env.args.json:
        from models.county import board, schema
        with schema.connect(url) as conn:
            data = board.read(conn)
        print_json(board.as_json(data, env.clock.now(), drills=drills, zone=env.settings.zone))
        return 0
    from screens.county_board import run_county_board
    return run_county_board(env, url, drills=drills)
