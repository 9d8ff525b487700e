"""``xueji-duty doctor``: the keyring, the database file, the terminal, the time zones and the
document fonts, with what to do.

Exit 1 when something would stop the app from working (a database that cannot be
opened or written, a network file system); warnings alone exit 0.
"""
from __future__ import annotations

from models import diagnostics as dx
from models.errors import DomainError
from models.i18n import t
from tui.env import print_json

MARK = {dx.OK: "ok", dx.INFO: "--", dx.WARN: "!!", dx.FAIL: "XX"}


def register(sub, add_common) -> None:
    p = sub.add_parser("doctor", help=t("cli.doctor.help"))
    add_common(p)
    p.add_argument("--json", action="store_true", help=t("cli.json"))
    p.set_defaults(func=run)


def run(env) -> int:
    findings: list[dx.Finding] = []
    opened, users_exist, schema, identity = False, None, None, None
    try:
        if env.db_path.exists():
            store = env.store(create=False)
            with store.read():
                from models.accounts import has_users
                users_exist = has_users()
                schema = store.meta("schema_version")
                identity = store.identity
            opened = True
    except DomainError as exc:
        findings.append(dx.Finding("database", dx.FAIL, exc.message))
    findings += dx.keyring_findings(identity)
    findings += dx.database_findings(env.db_path, opened, users_exist, schema)
    findings.append(dx.Finding("database", dx.INFO, t("doctor.config", path=str(env.config_path),
                                                        exists=env.config_path.exists())))
    findings += dx.terminal_findings()
    findings += dx.timezone_findings(env.settings.timezone)
    findings += dx.font_findings((env.settings.extra or {}).get("document_fonts") or "official")
    if env.args.json:
        print_json([f.as_dict() for f in findings])
    else:
        area = None
        for f in findings:
            if f.area != area:
                area = f.area
                print(t(f"doctor.area.{area}"))
            print(f"  [{MARK[f.status]}] {f.what}")
            if f.todo:
                print(f"       → {f.todo}")
    return 1 if any(f.status == dx.FAIL for f in findings) else 0
