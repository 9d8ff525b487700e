"""``xueji-duty county board [--url …] [--json] [--no-drills]``: the county board (issue 19 item 3).

With ``--url`` (or ``XUEJI_DUTY_COUNTY_URL``) it reads the county server over that login: the
bureau's sees every school, a school's only its own (row-level security). ``--json`` prints the
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
    """An enrolled school's own login (``models.county.link``), when this desk has one."""
    try:
        from models.county import link
    except ImportError:
        return None
    getter = getattr(link, "board_url", None)
    if getter is None:
        return None
    return getter(env)


def cmd_board(env) -> int:
    url = board_url(env)
    drills = not env.args.no_drills
    if env.args.json:
        from models.county import board, schema
        with schema.connect(url) as conn:
            data = board.read(conn)
        print_json(board.as_json(data, env.clock.now(), drills=drills))
        return 0
    from screens.county_board import run_county_board
    return run_county_board(env, url, drills=drills)
