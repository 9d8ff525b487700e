"""``xueji-duty county enrol|sync|status``: the school's link to the county (issue 19, item 2).

``enrol`` reads the bureau's one-time secret from standard input (one line; never an argument,
so it never shows in the process list or the shell's history). ``sync`` sends what the outbox
holds and pulls receipts: ``--once`` one round, ``--drain`` until nothing is pending (retrying
with back-off while the server is unreachable), neither: until stopped (Ctrl-C, SIGTERM).
"""
from __future__ import annotations

import signal
import sys
import threading

from models.errors import DomainError
from models.i18n import t
from tui.env import print_json


def register_county(county_sub, add_common) -> None:
    from tui.commands.county import add_url
    enrol = county_sub.add_parser("enrol", help=t("county.link.cli.enrol"))
    add_common(enrol)
    add_url(enrol)
    enrol.add_argument("--school", required=True, help=t("county.link.cli.school"))
    enrol.add_argument("--json", action="store_true", help=t("cli.json"))
    enrol.set_defaults(func=cmd_enrol)

    sync = county_sub.add_parser("sync", help=t("county.link.cli.sync"))
    add_common(sync)
    how = sync.add_mutually_exclusive_group()
    how.add_argument("--once", action="store_true", help=t("county.link.cli.once"))
    how.add_argument("--drain", action="store_true", help=t("county.link.cli.drain"))
    sync.add_argument("--all", action="store_true", dest="resend_all", help=t("county.trust.cli.all"))
    sync.add_argument("--json", action="store_true", help=t("cli.json"))
    sync.set_defaults(func=cmd_sync)

    status = county_sub.add_parser("status", help=t("county.link.cli.status"))
    add_common(status)
    status.add_argument("--json", action="store_true", help=t("cli.json"))
    status.set_defaults(func=cmd_status)


def cmd_enrol(env) -> int:
    from models.county import link, outbox
    from models.roles import require
    from tui.commands.county import county_url
    url = county_url(env)
    ctx = env.context(write=True)      # --password-stdin: the first line is the officer's password
    require(ctx.actor, "admin")
    if env.interactive():
        import getpass
        secret = getpass.getpass(t("county.link.cli.secret_prompt"))
    else:
        secret = env.stdin_line()
    outbox.use_settings(env.settings)
    got = link.enrol(ctx.store, url, env.args.school, secret, ctx=ctx)
    if env.args.json:
        print_json(got)
    else:
        print(t("county.link.enrolled", school=got["school"], url=got["url"], n=got["queued"]))
        print(t("county.link.credential_keyring") if got["credential"] == "keyring"
              else t("county.link.credential_file"))
    return 0


def _store(env):
    from models.county import outbox
    store = env.store(create=False)
    outbox.use_settings(env.settings)
    return store


def cmd_sync(env) -> int:
    from models.county import link
    store = _store(env)
    if env.args.resend_all:
        # Everything again (the county lost data): queued against the county's own versions, so
        # it needs the server; one round, then the summary (with --drain: until nothing is left).
        counts = link.sync_all(store, now=env.clock.now())
        if env.args.drain and counts.get("pending"):
            more = _run_loop(env, store, drain=True)
            for k in ("sent", "applied", "duplicates", "stale", "removed", "receipts"):
                counts[k] = counts.get(k, 0) + more.get(k, 0)
            counts["pending"] = more.get("pending", 0)
        _print_resync(env, counts)
        return 0
    if env.args.once:
        counts = link.sync_once(store)
        _print_counts(env, counts)
        return 0
    totals = _run_loop(env, store, drain=env.args.drain)
    _print_counts(env, totals)
    return 0


def _run_loop(env, store, *, drain: bool) -> dict:
    from models.county import link
    school, _ = link.settings_of(store)
    if not school:
        raise DomainError("county.error.not_enrolled")
    stop = threading.Event()

    def _stop(signum, frame):  # noqa: ARG001
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop)
    last_error: list[str] = []

    def on_state(state: dict) -> None:
        err = state.get("last_error")
        if err and (not last_error or last_error[-1] != err):
            sys.stderr.write(t("county.link.retrying", detail=err) + "\n")
            sys.stderr.flush()
        last_error.append(err or "")

    totals: dict = {}
    link.run(store, stop, drain=drain, on_state=on_state, totals=totals, stop_on_fatal=True)
    with store.read():
        from models.county import outbox
        totals["pending"] = outbox.pending(store)
    return totals


def _print_resync(env, counts: dict) -> None:
    if env.args.json:
        print_json({k: counts.get(k, 0) for k in ("queued", "removals", "sent", "applied", "duplicates", "stale",
                                                   "removed", "pending", "receipts")})
        return
    print(t("county.trust.resync_queued", n=counts.get("queued", 0), removals=counts.get("removals", 0)))
    _print_counts(env, counts)


def _print_counts(env, counts: dict) -> None:
    if env.args.json:
        print_json({k: counts.get(k, 0) for k in ("sent", "applied", "duplicates", "stale", "removed", "pending",
                                                   "receipts", "failures") if k in counts})
    else:
        print(t("county.link.synced", sent=counts.get("sent", 0), applied=counts.get("applied", 0),
                dup=counts.get("duplicates", 0), stale=counts.get("stale", 0),
                pending=counts.get("pending", 0), receipts=counts.get("receipts", 0)))
        if counts.get("removed"):
            print(t("county.trust.removed_sent", n=counts["removed"]))


def cmd_status(env) -> int:
    from models.county import link, outbox
    store = _store(env)
    school, url = link.settings_of(store)
    state = link.read_state(store.path)
    with store.read():
        waiting = outbox.pending(store) if school else 0
    got = link.line(store, env.settings.zone, state)
    if env.args.json:
        print_json({"enrolled": bool(school), "school": school, "url": url, "pending": waiting,
                    "last_ok": state.get("last_ok"), "last_error": state.get("last_error"),
                    "line": got[0] if got else None})
        return 0
    if not school:
        print(t("county.link.not_enrolled"))
        return 0
    print(t("county.link.status", school=school, url=url))
    print(got[0] if got else "")
    return 0
