"""``xueji-duty audit verify``: walk the hash chain and name the first broken link."""
from __future__ import annotations

import sys

from models import audit
from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("audit", help=t("cli.audit.help"))
    add_common(p)
    asub = p.add_subparsers(dest="audit_cmd", required=True, parser_class=type(p))
    v = asub.add_parser("verify")
    add_common(v)
    v.set_defaults(func=run_verify)


def run_verify(env) -> int:
    store = env.store(create=False)
    with store.read():
        report = audit.verify()
    if report.ok:
        print(t("cli.audit.ok", n=report.checked))
        return 0
    sys.stderr.write(t("cli.audit.broken", id=report.broken_id, problem=report.problem) + "\n")
    return 1
