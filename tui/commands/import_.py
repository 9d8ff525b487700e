"""``xueji-duty import FILE``: load a JSON export into an empty database (a new machine)."""
from __future__ import annotations

import sys
from pathlib import Path

from models.i18n import t


def register(sub, add_common) -> None:
    p = sub.add_parser("import", help=t("cli.import.help"))
    add_common(p)
    p.add_argument("file")
    p.set_defaults(func=run)


def run(env) -> int:
    from models.export import import_into, load

    path = Path(env.args.file).expanduser()
    data = load(path)
    store = env.store()
    result = import_into(store, data, source=str(path))
    print(t("cli.import.done", db=str(store.path), rows=sum(result.counts.values()),
            incidents=result.counts.get("incident", 0), files=result.evidence_files))
    if not result.chain_ok:
        sys.stderr.write(t("cli.import.chain_bad") + "\n")
        return 1
    return 0
