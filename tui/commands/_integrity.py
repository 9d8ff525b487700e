"""The integrity report behind a bare ``xueji-duty check`` (the command module belongs to prevention)."""
from __future__ import annotations

import sys

from models.i18n import t


def run(env) -> int:
    """Print every finding; 0 when all is well, 1 on any problem."""
    from models.integrity import run_checks

    ctx = env.context()
    findings = run_checks(ctx, quick=bool(getattr(env.args, "quick", False)))
    from rich.cells import cell_len     # columns on the terminal: a Chinese character takes two

    names = {f.name: t(f"integrity.name.{f.name}") for f in findings}
    width = max(cell_len(n) for n in names.values())
    for f in findings:
        mark = t("integrity.mark_ok") if f.ok else t("integrity.mark_bad")
        name = names[f.name]
        print(f"{mark} {name}{' ' * (width - cell_len(name))}  {f.message}")
    bad = [f for f in findings if not f.ok]
    if bad:
        sys.stderr.write(t("integrity.summary_bad", n=len(bad)) + "\n")
        return 1
    print(t("integrity.summary_ok"))
    return 0
