"""``xueji-duty logout``: forget this terminal's remembered login and revoke it in the database."""
from __future__ import annotations

from models import accounts, secrets
from models.context import Actor, Context, origin_of_session
from models.errors import DomainError
from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("logout", help=t("cli.logout.help"))
    add_common(p)
    p.set_defaults(func=run)


def run(env) -> int:
    store = env.store(create=False)
    try:
        token = secrets.recall(store.identity)
    except secrets.KeyringUnavailable as exc:
        raise DomainError("keyring.cannot_forget", reason=t(exc.reason)) from None
    if not token:
        print(t("cli.logout.nothing"))
        return 0
    ctx = Context(store=store, actor=Actor(username="-", role="viewer", origin=origin_of_session()),
                  clock=env.clock, settings=env.settings)
    with store.read():
        owner = accounts.token_user(ctx, token)
    accounts.revoke_token(ctx, token)
    try:
        secrets.forget(store.identity)
    except secrets.KeyringUnavailable as exc:
        # Revoked in the database already: the stale token can no longer log anybody in.
        raise DomainError("keyring.cannot_forget", reason=t(exc.reason)) from None
    print(t("cli.logout.done", user=owner or "-"))
    return 0
