"""``xueji-duty county receipt SCHOOL INCIDENT STAGE [--seq N]``: the bureau signs for a report.

Run by the bureau over its own login (``--url`` or ``XUEJI_DUTY_COUNTY_URL``): the county server
records who signed (that login) and when (the server's time); the school's link brings the
receipt back, and the school's report shows it as 确认人 / 签收时间 (``models.county.receipts``).
"""
from __future__ import annotations

from models.i18n import t
from tui.env import print_json


def register_county(county_sub, add_common) -> None:
    from tui.commands.county import add_url
    p = county_sub.add_parser("receipt", help=t("county.receipt.cli.help"))
    add_common(p)
    p.add_argument("school", help=t("county.cli.code"))
    p.add_argument("incident", help=t("county.receipt.cli.incident"))
    p.add_argument("stage", help=t("county.receipt.cli.stage"))
    p.add_argument("--seq", type=int, default=1, help=t("county.receipt.cli.seq"))
    p.add_argument("--revision", type=int, default=None, help=t("county2.receipt.cli.revision_help"))
    add_url(p)
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.set_defaults(func=cmd_receipt)


def cmd_receipt(env) -> int:
    from models.county.receipts import sign
    from models.timeparse import fmt_local
    from tui.commands.county import county_url
    a = env.args
    got = sign(county_url(env), a.school.strip(), a.incident.strip(), a.stage, a.seq, a.revision)
    at = got["signed_at"]
    if a.json:
        print_json({"school": got["school"], "incident": got["incident"], "regime": got["regime"],
                    "stage": got["stage"], "seq": got["seq"], "signed_by": got["signed_by"],
                    "signed_at": at.isoformat() if at is not None else None, "already": got["already"],
                    "revision": got["revision"], "latest": got["latest"]})
        return 0
    key = "county.receipt.cli.already" if got["already"] else "county.receipt.cli.signed"
    print(t(key, school=got["school"], incident=got["incident"], stage=f"{got['regime']}.{got['stage']}",
            seq=got["seq"], by=got["signed_by"], at=fmt_local(at, env.settings.zone, with_zone=True)))
    # Which revision the signature is for (county2): a correction the school sent later waits.
    print(t("county2.receipt.cli.revision", revision=got["revision"]))
    if got["latest"] > (got["revision"] or 1):
        print(t("county2.receipt.cli.newer", latest=got["latest"], school=got["school"],
                incident=got["incident"], stage=f"{got['regime']}.{got['stage']}"))
    return 0
