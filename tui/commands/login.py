"""``xueji-duty login``: check the password and remember this terminal in the OS keyring.

Without a secure keyring (a headless box, an SSH session) nothing is remembered and
the command says so: there is no file to fall back on, by design.
"""
from __future__ import annotations

import platform

from models import accounts, secrets
from models.context import Actor, Context, origin_of_session
from models.errors import DomainError
from models.i18n import t
from tui.commands._passwords import read_current_password


def register(sub, add_common) -> None:
    p = sub.add_parser("login", help=t("cli.login.help"))
    add_common(p)
    p.set_defaults(func=run)


def terminal_label() -> str:
    origin = origin_of_session()
    return f"{platform.node()} · {origin}"


def run(env) -> int:
    store = env.store()
    if not accounts.has_users():
        raise DomainError("error.no_users_yet")
    st = secrets.status()
    if not st.usable:
        raise DomainError("keyring.cannot_remember", reason=t(st.reason))
    name = getattr(env.args, "user", None)
    if not name:
        if getattr(env.args, "password_stdin", False) or not env.interactive():
            raise DomainError("error.need_user_for_stdin")
        name = input(t("prompt.username")).strip()
    anon = Context(store=store, actor=Actor(username="-", role="viewer", origin=origin_of_session()),
                   clock=env.clock, settings=env.settings)
    actor = accounts.authenticate(anon, name, read_current_password(env, name), purpose="login")
    ctx = Context(store=store, actor=actor, clock=env.clock, settings=env.settings)
    # Replace an earlier remembered login for this database rather than leave it live.
    try:
        old = secrets.recall(store.identity)
    except secrets.KeyringUnavailable:
        old = None
    token = accounts.issue_token(ctx, actor.username, terminal_label())
    try:
        secrets.remember(store.identity, token)
    except secrets.KeyringUnavailable as exc:
        accounts.revoke_token(ctx, token)
        raise DomainError("keyring.cannot_remember", reason=t(exc.reason)) from None
    if old and old != token:
        accounts.revoke_token(ctx, old)
    print(t("cli.login.done", user=actor.username, backend=st.backend))
    return 0
