"""``xueji-duty export --format json -o FILE``: everything, for archiving or moving to a new machine."""
from __future__ import annotations

import sys
from pathlib import Path

from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("export", help=t("cli.export.help"))
    add_common(p)
    p.add_argument("--format", choices=["json"], default="json", help=t("cli.export.format"))
    p.add_argument("-o", "--output", required=True, help=t("cli.export.output"))
    p.add_argument("--no-evidence", action="store_true", help=t("cli.export.no_evidence"))
    p.set_defaults(func=run)


def run(env) -> int:
    from models.export import export_to
    from models.roles import require

    ctx = env.context(write=True)
    require(ctx.actor, "officer")   # the export holds students' personal information
    with_evidence = not env.args.no_evidence
    if env.args.output == "-":
        sys.stdout.flush()
        export_to(ctx, sys.stdout, with_evidence=with_evidence)
        return 0
    out = Path(env.args.output).expanduser()
    counts = export_to(ctx, out, with_evidence=with_evidence)
    print(t("cli.export.done", path=str(out), rows=sum(counts.values()), incidents=counts.get("incident", 0)))
    print(t("cli.export.personal"))
    return 0
