"""``xueji-duty report draft|submit|show|correct|export``: every report stage from the shell."""
from __future__ import annotations

import sys
from pathlib import Path

from models.documents import FONT_PRESETS, FORMATS, export, flagged_characters, render
from models.errors import DomainError, ValidationError
from models.i18n import t
from models.incidents import get_incident
from models.reports import (CHANNELS, Submission, check, correct, current, find_stage, form_fields,
                            open_report, regime_of_stage, report_json, reports_of, save_draft,
                            stage_title, submit)
from models.timeparse import fmt_local, parse_time
from tui.env import print_json


def register(sub, add_common) -> None:
    p = sub.add_parser("report", help=t("cli.report.help"))
    add_common(p)
    rsub = p.add_subparsers(dest="report_cmd", required=True, parser_class=type(p))

    def stage_args(q, fields=True):
        add_common(q)
        q.add_argument("id", help=t("cli.report.id"))
        q.add_argument("stage", help=t("cli.report.stage"))
        q.add_argument("--regime", help=t("cli.report.regime"))
        q.add_argument("--seq", type=int, help=t("cli.report.seq"))
        if fields:
            q.add_argument("--field", action="append", default=[], metavar="NAME=VALUE",
                           help=t("cli.report.field"))
        q.add_argument("--json", action="store_true", help=t("cli.json"))

    d = rsub.add_parser("draft", help=t("cli.report.draft"))
    stage_args(d)
    d.add_argument("--version", type=int, help=t("cli.version_merge"))
    d.set_defaults(func=cmd_draft)
    s = rsub.add_parser("submit", help=t("cli.report.submit"))
    stage_args(s)
    s.add_argument("--channel", choices=CHANNELS, help=t("cli.report.channel"))
    s.add_argument("--recipient", help=t("cli.report.recipient"))
    s.add_argument("--confirmed-by", default="", help=t("cli.report.confirmed_by"))
    s.add_argument("--late-reason", default="", help=t("cli.report.late_reason"))
    s.add_argument("--before-oral-reason", default="", help=t("cli.report.before_oral_reason"))
    s.add_argument("--at", help=t("cli.report.at"))
    s.set_defaults(func=cmd_submit)
    c = rsub.add_parser("correct", help=t("cli.report.correct"))
    stage_args(c)
    c.add_argument("--reason", required=True, help=t("cli.report.reason"))
    c.set_defaults(func=cmd_correct)
    sh = rsub.add_parser("show", help=t("cli.report.show"))
    add_common(sh)
    sh.add_argument("id", help=t("cli.report.id"))
    sh.add_argument("--json", action="store_true", help=t("cli.json"))
    sh.set_defaults(func=cmd_show)
    e = rsub.add_parser("export", help=t("cli.report.export"))
    stage_args(e, fields=False)
    e.add_argument("--format", default="docx", help=t("cli.report.format"))
    e.add_argument("--fonts", choices=sorted(FONT_PRESETS), help=t("cli.report.fonts"))
    e.add_argument("-o", "--output", default=None, help=t("cli.report.output_default"))
    e.add_argument("--title", default=None, help=t("cli.report.title"))
    e.set_defaults(func=cmd_export)


def parse_fields(ctx, regime: str, stage: str, pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` pairs; ``\\n`` in a value is a line break (the shell makes real ones awkward)."""
    known = {f.id for f in form_fields(ctx, regime, stage)}
    out: dict[str, str] = {}
    errors = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValidationError({"field": ("error.report.field_syntax", {"value": pair})})
        if name not in known:
            errors[name] = ("error.report.field_unknown", {"known": ", ".join(sorted(known))})
            continue
        out[name] = value.replace("\\n", "\n")
    if errors:
        raise ValidationError(errors)
    return out


def _target(env, write: bool):
    ctx = env.context(write=write)
    a = env.args
    inc = get_incident(a.id)
    regime = regime_of_stage(ctx, a.stage, a.regime)
    find_stage(ctx, regime, a.stage)
    return ctx, inc, regime


def _print_report(ctx, r) -> None:
    from models.profiles import display_name
    print(f"{r.incident.code}  {stage_title(ctx, r.regime, r.stage, r.seq)}  "
          f"{t('cli.report.revision', n=r.revision)}  " + t(f"report.status.{r.status}"))
    if r.submitted_at:
        print("  " + t("cli.report.submitted_line", at=fmt_local(r.submitted_at, ctx.zone),
                       by=display_name(r.submitted_by), channel=t(f"report.channel.{r.channel or 'phone'}"),
                       recipient=r.recipient or ""))
    from models.reports import before_oral_reason
    why_first = before_oral_reason(r)
    if why_first:
        print("  " + t("field.submit_before_oral_reason") + ": " + why_first)
    from models.county.receipts import receipt_status
    state, receipt = receipt_status(r)
    if state == "signed":
        print("  " + t("county.receipt.line", by=receipt.signed_by, at=fmt_local(receipt.signed_at, ctx.zone)))
    elif state == "earlier":
        print("  " + t("county2.receipt.earlier", revision=receipt.revision or 1, by=receipt.signed_by,
                       at=fmt_local(receipt.signed_at, ctx.zone)))
    if r.late_reason:
        print("  " + t("field.submit_late_reason") + ": " + r.late_reason)
    if r.correction_reason:
        print("  " + t("field.correction_reason") + ": " + r.correction_reason)
    if r.status == "draft":
        missing = check(ctx, r)
        if missing:
            print("  " + t("cli.report.missing", fields=", ".join(f"{m.label} ({m.field})" for m in missing)))


def cmd_draft(env) -> int:
    ctx, inc, regime = _target(env, write=True)
    a = env.args
    values = parse_fields(ctx, regime, a.stage, a.field)
    r = open_report(ctx, inc.id, regime, a.stage, a.seq)
    if r.status != "draft":
        raise ValidationError({"report_status": ("error.report.frozen", {})})
    if values:
        # Without --version: merged into the version stored at this moment (no spurious conflict).
        r = save_draft(ctx, r.id, a.version, values)
    if a.json:
        print_json(report_json(ctx, r))
    else:
        _print_report(ctx, r)
    return 0


def cmd_submit(env) -> int:
    ctx, inc, regime = _target(env, write=True)
    a = env.args
    values = parse_fields(ctx, regime, a.stage, a.field)
    errors = {}
    if not a.channel:
        errors["submit_channel"] = ("error.required", {})
    if not a.recipient:
        errors["submit_recipient"] = ("error.required", {})
    if errors:
        raise ValidationError(errors)
    at = parse_time(a.at, now=ctx.now(), zone=ctx.zone, field="submit_at") if a.at else None
    r = open_report(ctx, inc.id, regime, a.stage, a.seq)
    if r.status != "draft":
        raise ValidationError({"report_status": ("error.report.frozen", {})})
    if values:
        r = save_draft(ctx, r.id, None, values)
    try:
        r = submit(ctx, r.id, r.version, Submission(channel=a.channel, recipient=a.recipient,
                                                    confirmed_by=a.confirmed_by,
                                                    late_reason=a.late_reason, at=at,
                                                    before_oral_reason=a.before_oral_reason))
    except ValidationError:
        # the fields given were saved in the draft: nothing typed is lost
        raise
    if a.json:
        print_json(report_json(ctx, r))
    else:
        _print_report(ctx, r)
    return 0


def cmd_correct(env) -> int:
    ctx, inc, regime = _target(env, write=True)
    a = env.args
    values = parse_fields(ctx, regime, a.stage, a.field)
    seq = a.seq or 1
    r = current(inc, regime, a.stage, seq)
    if r is None:
        raise DomainError("error.report.none_yet", code=inc.code, stage=stage_title(ctx, regime, a.stage, seq))
    if r.status == "draft" and r.revision > 1:
        r = r.supersedes
    new = correct(ctx, r.id, values, a.reason)
    if a.json:
        print_json(report_json(ctx, new))
    else:
        _print_report(ctx, new)
    return 0


def cmd_show(env) -> int:
    ctx = env.context()
    inc = get_incident(env.args.id)
    reps = reports_of(inc)
    if env.args.json:
        print_json({"incident": inc.code, "reports": [report_json(ctx, r) for r in reps]})
        return 0
    if not reps:
        print(t("cli.report.none", code=inc.code))
    for r in reps:
        _print_report(ctx, r)
        labels = {f.id: f.label for f in form_fields(ctx, r.regime, r.stage)}
        for fid, value in (r.fields or {}).items():
            if value:
                first, *rest = str(value).splitlines() or [""]
                print(f"    {labels.get(fid, fid)}: {first}")
                for line in rest:
                    print(f"      {line}")
    return 0


def cmd_export(env) -> int:
    ctx, inc, regime = _target(env, write=False)
    a = env.args
    if a.format not in FORMATS:
        raise ValidationError({"format": ("error.report.format_unknown", {"value": a.format})})
    seq = a.seq or 1
    r = current(inc, regime, a.stage, seq)
    if r is None:
        raise DomainError("error.report.none_yet", code=inc.code, stage=stage_title(ctx, regime, a.stage, seq))
    flagged = flagged_characters(ctx, r)
    if flagged and a.format in ("docx", "pdf"):
        print(t("cli.report.flagged", chars=" ".join(flagged)), file=sys.stderr)
    if a.format == "short" and not a.output:
        sys.stdout.write(render(ctx, r, "short").decode("utf-8"))
        return 0
    out = Path(a.output) if a.output else Path.cwd()
    path = export(ctx, r, a.format, out, a.fonts, a.title)
    print(t("cli.report.exported", path=str(path)))
    return 0
