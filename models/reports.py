"""Report services: drafts that save themselves, check, submit, freeze, correct.

A report is one row of ``Report`` per (incident, regime, stage, seq, revision).
While ``status`` is ``draft`` the row *is* the draft: it lives in the database,
so a crash or a dropped SSH connection loses at most the last few seconds of
typing. Submission freezes the row; a correction is a new revision that
supersedes the old one, so what the bureau received is never rewritten.
Every save names the version it read (``ConflictError`` when the other session
saved first), and every write appends its audit event in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from peewee import fn

from models import audit
from models.context import Context
from models.deadlines import obligations
from models.errors import ConflictError, NotFound, ValidationError
from models.i18n import get_language, t
from models.incidents import facts, get_incident, report_facts
from models.policy import FieldSpec, Regime, Stage
from models.roles import require
from models.tables import Draft, Incident, Report
from models.versioning import row_dict, update_versioned

CHANNELS = ("phone", "fax", "email", "in_person", "online")
FIELD_MAX = 20000
SHORT_MAX = 500


# ---------------------------------------------------------------- stage lookup

def find_stage(ctx: Context, regime: str, stage: str) -> tuple[Regime, Stage]:
    """The regime and stage in force; an unknown or disabled one is a clear validation error."""
    try:
        reg = ctx.policy.regime(regime)
    except KeyError:
        known = ", ".join(r.id for r in ctx.policy.regimes)
        raise ValidationError({"report_regime": ("error.report.regime_unknown", {"value": regime, "known": known})})
    try:
        return reg, reg.stage(stage)
    except KeyError:
        known = ", ".join(s.id for s in reg.stages)
        raise ValidationError({"report_stage": ("error.report.stage_unknown", {"value": stage, "regime": regime,
                                                                         "known": known})})


def regime_of_stage(ctx: Context, stage: str, regime: str | None = None) -> str:
    """``first`` alone means the school plan's; a stage only one regime has names that regime."""
    if regime:
        return regime
    hits = [r.id for r in ctx.policy.regimes if any(s.id == stage for s in r.stages)]
    if "school_plan" in hits or not hits:
        return "school_plan"
    return hits[0]


def form_fields(ctx: Context, regime: str, stage: str) -> list[FieldSpec]:
    """What the form shows: the stage's own fields, then (for letters) the regime's header fields.

    An oral report is a record of a phone call, not a letter: it has no header.
    """
    reg, st = find_stage(ctx, regime, stage)
    header = () if st.kind == "oral" else reg.header_fields
    seen: set[str] = set()
    out = []
    for f in (*st.fields, *header):
        if f.id not in seen:
            seen.add(f.id)
            out.append(f)
    return out


# ---------------------------------------------------------------- prefill

def fmt_cn_time(dt: datetime | None, zone) -> str:
    """``2026年11月25日8时30分``: the style of a Chinese report (no zero padding of the hour).

    Always Chinese: what it makes is saved into reports, which the bureau reads in Chinese
    whatever language the officer's interface speaks (issue 16).
    """
    if dt is None:
        return ""
    local = dt.astimezone(zone)
    text = f"{local.year}年{local.month}月{local.day}日{local.hour}时"
    return text + (f"{local.minute:02d}分" if local.minute else "")


def fmt_cn_date(dt: datetime, zone) -> str:
    local = dt.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日"


def stage_title(ctx: Context, regime: str, stage: str, seq: int) -> str:
    _, st = find_stage(ctx, regime, stage)
    return f"{st.name}{seq}" if st.repeatable and seq > 1 else st.name


def _previous_report_text(ctx: Context, inc: Incident, regime: str, stage: str, seq: int) -> str:
    """The last submitted report before this one, e.g. ``首报（2026年11月25日9时05分）``."""
    rows = (Report.select().where((Report.incident == inc) & (Report.regime == regime)
                                  & (Report.status == "submitted") & Report.submitted_at.is_null(False))
            .order_by(Report.submitted_at.desc()))
    for r in rows:
        if r.stage == stage and r.seq >= seq:
            continue
        try:
            _, st = find_stage(ctx, regime, r.stage)
            name = f"{st.zh}{r.seq}" if st.repeatable and r.seq > 1 else st.zh
        except ValidationError:
            name = r.stage
        return f"{name}（{fmt_cn_time(r.submitted_at, ctx.zone)}）"
    return ""


def prefill_values(ctx: Context, inc: Incident, regime: str, stage: str, seq: int) -> dict[str, str]:
    """Every prefill key the policy files use, computed from the incident and the settings."""
    # Prefills are saved into the report: Chinese names whatever the interface language.
    from models.documents import category_zh, grade_zh
    category_name = category_zh(inc.category, inc.subcategory)
    grade_name = grade_zh(inc.grade)
    zone = ctx.zone
    # 联系人 / 联系电话 / 签发人 from the writer's profile (models.profiles); 签发人 only when the
    # writer is a leader or an admin (an officer's report is signed off by a leader).
    from models.profiles import profile_of
    from models.roles import can
    prof = profile_of(ctx.actor.username) if ctx.actor.username != "-" else None
    user_name = ((prof.name if prof else "") or ctx.actor.label) if ctx.actor.username != "-" else ""
    return {
        "occurred_at": fmt_cn_time(inc.occurred_at, zone),
        "discovered_at": fmt_cn_time(inc.discovered_at, zone),
        "handling_closed_at": fmt_cn_time(inc.handling_closed_at, zone),
        "location": inc.location or "",
        "asset": inc.asset or "",
        "description": inc.description or "",
        "reported_by": inc.reported_by or "",
        "category_name": category_name,
        "grade_name": grade_name,
        "school_name": ctx.settings.school_name or "",
        "bureau": ctx.settings.bureau or "",
        "user_name": user_name,
        "user_phone": prof.phone if prof else "",
        "user_title": prof.title if prof else "",
        "signer": user_name if can(ctx.actor.role, "leader") else "",
        "previous_report": _previous_report_text(ctx, inc, regime, stage, seq),
        "times": t("report.times_value", discovered=fmt_cn_time(inc.discovered_at, zone),
                   occurred=fmt_cn_time(inc.occurred_at, zone), lang="zh"),
    }


def prefilled_fields(ctx: Context, inc: Incident, regime: str, stage: str, seq: int) -> dict[str, str]:
    values = prefill_values(ctx, inc, regime, stage, seq)
    return {f.id: values.get(f.prefill, "") if f.prefill else "" for f in form_fields(ctx, regime, stage)}


# ---------------------------------------------------------------- reading

def versions(inc: Incident, regime: str, stage: str, seq: int) -> list[Report]:
    """Every revision of one report, oldest first."""
    return list(Report.select().where((Report.incident == inc) & (Report.regime == regime)
                                      & (Report.stage == stage) & (Report.seq == seq))
                .order_by(Report.revision))


def current(inc: Incident, regime: str, stage: str, seq: int) -> Report | None:
    """The latest revision: the draft being typed, or the submission in force."""
    revs = versions(inc, regime, stage, seq)
    return revs[-1] if revs else None


def in_force(inc: Incident, regime: str, stage: str, seq: int) -> Report | None:
    """The submitted revision that counts (a correction's draft does not replace it yet)."""
    for r in reversed(versions(inc, regime, stage, seq)):
        if r.status == "submitted":
            return r
    return None


def get_report(report_id: int) -> Report:
    r = Report.get_or_none(Report.id == report_id)
    if r is None:
        raise NotFound("error.report.not_found", ref=report_id)
    return r


def reports_of(inc: Incident) -> list[Report]:
    return list(Report.select().where(Report.incident == inc)
                .order_by(Report.regime, Report.stage, Report.seq, Report.revision))


def next_seq(ctx: Context, inc: Incident, regime: str, stage: str) -> int:
    """For a repeatable stage: the draft in progress, else one after the last submitted."""
    _, st = find_stage(ctx, regime, stage)
    if not st.repeatable:
        return 1
    top = (Report.select(fn.MAX(Report.seq)).where((Report.incident == inc) & (Report.regime == regime)
                                                  & (Report.stage == stage)).scalar())
    if not top:
        return 1
    latest = current(inc, regime, stage, top)
    if latest is not None and latest.status == "draft" and latest.revision == 1:
        return top
    return top + 1


# ---------------------------------------------------------------- validation

def _clean(value: Any, limit: int = FIELD_MAX) -> str:
    text = "" if value is None else str(value)
    # Control characters (ESC…) have no place in a report; tabs and newlines do.
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    return text.replace("\r\n", "\n")


def clean_fields(ctx: Context, regime: str, stage: str, values: Mapping[str, Any]) -> dict[str, str]:
    """Known field names only; text cleaned and within length."""
    known = {f.id for f in form_fields(ctx, regime, stage)}
    errors: dict[str, tuple[str, dict]] = {}
    out: dict[str, str] = {}
    for name, value in values.items():
        if name not in known:
            errors[name] = ("error.report.field_unknown", {"known": ", ".join(sorted(known))})
            continue
        text = _clean(value)
        if len(text) > FIELD_MAX:
            errors[name] = ("error.too_long", {"max": FIELD_MAX})
            continue
        out[name] = text
    if errors:
        raise ValidationError(errors)
    return out


@dataclass(frozen=True)
class Missing:
    field: str
    label: str


def check(ctx: Context, report: Report) -> list[Missing]:
    """What a submission would lack: every required field still empty."""
    values = report.fields or {}
    return [Missing(f.id, f.label) for f in form_fields(ctx, report.regime, report.stage)
            if f.required and not str(values.get(f.id, "")).strip()]


# ---------------------------------------------------------------- writing

def _report_dict(r: Report) -> dict:
    d = row_dict(r)
    return {k: v for k, v in d.items() if k not in ("id",)}


def open_report(ctx: Context, incident_ref: Any, regime: str, stage: str, seq: int | None = None) -> Report:
    """The latest revision of this report; a new draft prefilled from the incident if there is none.

    Opening is a write only the first time (creating the draft); viewers may
    look at what exists but not start one.
    """
    inc = get_incident(incident_ref)
    reg, st = find_stage(ctx, regime, stage)
    if seq is None:
        seq = next_seq(ctx, inc, regime, stage)
    if seq < 1 or (seq > 1 and not st.repeatable):
        raise ValidationError({"report_seq": ("error.report.seq_invalid", {"stage": st.name})})
    existing = current(inc, regime, stage, seq)
    if existing is not None:
        return existing
    if seq > next_seq(ctx, inc, regime, stage):
        # 续报三 before 续报二 exists would leave a hole in the series the bureau reads.
        raise ValidationError({"report_seq": ("error.report.seq_gap", {"stage": st.name,
                                                                       "next": next_seq(ctx, inc, regime, stage)})})
    require(ctx.actor, "officer")
    if inc.status in ("closed", "withdrawn"):
        raise ValidationError({"report_status": ("error.report.incident_closed", {"status": t("status." + inc.status)})})
    now = ctx.now()
    values = prefilled_fields(ctx, inc, regime, stage, seq)
    with ctx.store.write():
        # Another session may have created it a moment ago: take theirs.
        existing = current(inc, regime, stage, seq)
        if existing is not None:
            return existing
        r = Report.create(incident=inc, regime=regime, stage=stage, seq=seq, revision=1, fields=values,
                          status="draft", created_by=ctx.actor.username, created_at=now, updated_at=now)
        audit.record(ctx, "report.draft", "report", r.id,
                     {"incident": [None, inc.code], "stage": [None, f"{regime}.{stage}"], "seq": [None, seq]})
    return r


def report_label(ctx: Context, r: Report) -> str:
    """How an officer names this report: ``首报``, ``续报2`` (never ``report 9``)."""
    try:
        return stage_title(ctx, r.regime, r.stage, r.seq)
    except ValidationError:
        return r.stage


def field_labels(ctx: Context, r: Report) -> dict[str, str]:
    try:
        return {f.id: f.label for f in form_fields(ctx, r.regime, r.stage)}
    except ValidationError:
        return {}


def save_draft(ctx: Context, report_id: int, expected_version: int | None, values: Mapping[str, Any], *,
               base: Mapping[str, Any] | None = None, resolved: Iterable[str] = ()) -> Report:
    """Merge the fields the user changed into the draft, field by field (``models.merge``).

    ``values`` holds the changed fields only (fields not named keep their stored
    value), ``expected_version`` the version the form was read from (None: the one
    stored now), ``base`` optionally what the form showed for those fields. A field
    the other session changed differently raises ``ConflictError`` for that field,
    after the others were saved.
    """
    from models.merge import merge_save
    require(ctx.actor, "officer")
    r = get_report(report_id)
    clean = clean_fields(ctx, r.regime, r.stage, values)
    if r.status != "draft":
        raise ValidationError({"report_status": ("error.report.frozen", {})})
    if not audit.diff(r.fields or {}, clean) and (expected_version is None or expected_version == r.version):
        return r

    def columns(row: Report, applied: dict[str, Any]) -> dict[str, Any]:
        if row.status != "draft":
            raise ValidationError({"report_status": ("error.report.frozen", {})})
        return {"fields": {**(row.fields or {}), **applied}, "updated_at": ctx.now()}

    try:
        row, _ = merge_save(ctx, Report, r.id, "report", clean, base_version=expected_version,
                            view=lambda values: dict(values.get("fields") or {}), columns=columns,
                            action="report.save", base=base, resolved=resolved, nested="fields",
                            label=report_label(ctx, r))
    except ConflictError as exc:
        exc.field_labels = field_labels(ctx, r)
        exc.attempted = {"fields": {**(exc.current.get("fields") or {}), **clean}}
        raise
    return row


def due_at(ctx: Context, inc: Incident, regime: str, stage: str, seq: int, now: datetime) -> datetime | None:
    """The deadline this report answers, from the same engine the board uses."""
    reps = [rf for rf in report_facts(Report.select().where(Report.incident == inc))
            if not (rf.regime == regime and rf.stage == stage and rf.seq >= seq)]
    for ob in obligations(facts(inc), reps, ctx.policy, now, ctx.settings.due_soon_minutes):
        if ob.regime == regime and ob.stage == stage and ob.seq == seq:
            return ob.due_at
    return None


def is_late(ctx: Context, report: Report, at: datetime) -> bool:
    if report.revision > 1:
        return False  # a correction: the original submission met (or missed) the deadline
    due = due_at(ctx, report.incident, report.regime, report.stage, report.seq, at)
    return due is not None and at > due


@dataclass
class Submission:
    channel: str
    recipient: str
    confirmed_by: str = ""
    late_reason: str = ""
    correction_reason: str = ""
    at: datetime | None = None
    before_oral_reason: str = ""   # a written report before any oral one: why the phone failed


# ---------------------------------------------------------------- times in order

def _fmt(ctx: Context, when: datetime) -> str:
    from models.timeparse import fmt_local
    return fmt_local(when, ctx.zone)


def _original_submissions(inc: Incident) -> dict[tuple[str, str, int], Report]:
    """Each report's first submission (a correction keeps the original's time)."""
    out: dict[tuple[str, str, int], Report] = {}
    for r in Report.select().where((Report.incident == inc) & Report.status.in_(("submitted", "superseded"))
                                   & Report.submitted_at.is_null(False)):
        k = (r.regime, r.stage, r.seq)
        if k not in out or r.submitted_at < out[k].submitted_at:
            out[k] = r
    return out


def before_oral_needed(ctx: Context, report: Report, at: datetime | None = None) -> bool:
    """A written report that the plan wants preceded by an oral one, with no oral report by ``at``."""
    if report.revision > 1:
        return False
    _, st = find_stage(ctx, report.regime, report.stage)
    if not st.oral_first:
        return False
    at = at or ctx.now()
    oral = _original_submissions(report.incident).get((report.regime, st.oral_first, 1))
    return oral is None or oral.submitted_at > at


def order_errors(ctx: Context, report: Report, at: datetime) -> dict[str, tuple[str, dict]]:
    """Times in order, each refusal naming both times (issue 12). A correction was checked as the original."""
    if report.revision > 1:
        return {}
    inc = report.incident
    reg, st = find_stage(ctx, report.regime, report.stage)
    if st.kind == "oral":
        if inc.discovered_at and at < inc.discovered_at:
            return {"submit_at": ("error.order.oral_before_discovered",
                                  {"at": _fmt(ctx, at), "discovered": _fmt(ctx, inc.discovered_at)})}
    elif inc.occurred_at and at < inc.occurred_at:
        return {"submit_at": ("error.order.written_before_occurred",
                              {"at": _fmt(ctx, at), "occurred": _fmt(ctx, inc.occurred_at)})}
    if st.anchor == "handling_closed_at":
        if inc.handling_closed_at is None:
            return {"submit_at": ("error.order.final_needs_handled", {"stage": st.name})}
        if at < inc.handling_closed_at:
            return {"submit_at": ("error.order.final_before_handled",
                                  {"at": _fmt(ctx, at), "handled": _fmt(ctx, inc.handling_closed_at)})}
    if st.anchor_stages:
        wanted = set(st.anchor_stages)
        prior = [r for (rg, sid, seq), r in _original_submissions(inc).items()
                 if rg == report.regime and sid in wanted and not (sid == report.stage and seq >= report.seq)]
        names = "或".join(reg.stage(s).name for s in st.anchor_stages if s != report.stage or report.seq > 1) \
            if get_language() == "zh" else " or ".join(reg.stage(s).name for s in st.anchor_stages
                                                      if s != report.stage or report.seq > 1)
        if not prior:
            return {"submit_at": ("error.order.needs_prior", {"prior": names, "stage": st.name})}
        last = max(prior, key=lambda r: r.submitted_at)
        if at < last.submitted_at:
            return {"submit_at": ("error.order.before_prior", {
                "at": _fmt(ctx, at), "prior": stage_title(ctx, last.regime, last.stage, last.seq),
                "prior_at": _fmt(ctx, last.submitted_at)})}
    return {}


def validate_submission(ctx: Context, report: Report, sub: Submission) -> tuple[datetime, dict[str, str]]:
    """Every problem at once, so the dialog can show each beside its field."""
    errors: dict[str, tuple[str, dict]] = {}
    at = sub.at or ctx.now()
    if at > ctx.now() + timedelta(minutes=1):
        errors["submit_at"] = ("error.time_future", {})
    if sub.channel not in CHANNELS:
        errors["submit_channel"] = ("error.report.channel_unknown",
                             {"value": sub.channel or "", "known": ", ".join(CHANNELS)})
    clean = {"recipient": _clean(sub.recipient, SHORT_MAX).strip(),
             "confirmed_by": _clean(sub.confirmed_by, SHORT_MAX).strip(),
             "late_reason": _clean(sub.late_reason).strip(),
             "correction_reason": _clean(sub.correction_reason).strip(),
             "before_oral_reason": _clean(sub.before_oral_reason).strip()}
    if not clean["recipient"]:
        errors["submit_recipient"] = ("error.required", {})
    for m in check(ctx, report):
        errors[m.field] = ("error.report.required_field", {"label": m.label})
    if report.revision > 1 and not clean["correction_reason"]:
        errors["correction_reason"] = ("error.report.correction_reason_needed", {})
    if report.revision == 1 and is_late(ctx, report, at) and not clean["late_reason"]:
        errors["submit_late_reason"] = ("error.report.late_reason_needed", {})
    if "submit_at" not in errors:
        errors.update(order_errors(ctx, report, at))
    if before_oral_needed(ctx, report, at) and not clean["before_oral_reason"]:
        errors["submit_before_oral_reason"] = ("error.order.before_oral_needs_reason", {})
    if errors:
        raise ValidationError(errors)
    return at, clean


def submit(ctx: Context, report_id: int, expected_version: int, sub: Submission) -> Report:
    """Record how and to whom it went, then freeze it; a correction supersedes its predecessor."""
    require(ctx.actor, "officer")
    r = get_report(report_id)
    if r.status != "draft":
        raise ValidationError({"report_status": ("error.report.frozen", {})})
    if r.version != expected_version:
        raise ConflictError("report", r.id, expected_version, r.version, current=_report_dict(r),
                            attempted={})
    at, clean = validate_submission(ctx, r, sub)
    late = r.revision == 1 and is_late(ctx, r, at)
    before_oral = before_oral_needed(ctx, r, at)
    changes = {"status": "submitted", "submitted_at": at, "submitted_by": ctx.actor.username,
               "channel": sub.channel, "recipient": clean["recipient"],
               "receipt_confirmed_by": clean["confirmed_by"] or None,
               "late_reason": clean["late_reason"] if late else None,
               "correction_reason": clean["correction_reason"] if r.revision > 1 else None,
               "updated_at": ctx.now()}
    with ctx.store.write():
        r = update_versioned(Report, r.id, expected_version, changes, "report")
        superseded = None
        if r.supersedes_id:
            prev = Report.get_by_id(r.supersedes_id)
            if prev.status == "submitted":
                update_versioned(Report, prev.id, prev.version, {"status": "superseded",
                                                                 "updated_at": ctx.now()}, "report")
                superseded = prev.id
        if before_oral:
            from models.tables import ObligationNote
            ObligationNote.create(incident=r.incident, regime=r.regime, stage=r.stage, seq=r.seq,
                                  kind="before_oral", reason=clean["before_oral_reason"],
                                  by=ctx.actor.username, at=ctx.now())
        audit.record(ctx, "report.correct" if r.revision > 1 else "report.submit", "report", r.id,
                     {"status": ["draft", "submitted"], "channel": [None, sub.channel],
                      "recipient": [None, clean["recipient"]], "late": [None, late],
                      **({"supersedes": [None, superseded]} if superseded else {}),
                      **({"before_oral_reason": [None, clean["before_oral_reason"]]} if before_oral else {})},
                     clean["correction_reason"] or (clean["late_reason"] if late else None)
                     or (clean["before_oral_reason"] if before_oral else None) or None)
    return r


def start_correction(ctx: Context, report_id: int) -> Report:
    """A new draft revision copying the submitted one; the submission stays in force until it goes."""
    require(ctx.actor, "officer")
    old = get_report(report_id)
    if old.status != "submitted":
        raise ValidationError({"report_status": ("error.report.correct_needs_submitted", {})})
    latest = current(old.incident, old.regime, old.stage, old.seq)
    if latest.status == "draft":
        return latest  # a correction is already being written
    now = ctx.now()
    with ctx.store.write():
        r = Report.create(incident=old.incident, regime=old.regime, stage=old.stage, seq=old.seq,
                          revision=old.revision + 1, fields=dict(old.fields or {}), status="draft",
                          supersedes=old, channel=old.channel, recipient=old.recipient,
                          created_by=ctx.actor.username, created_at=now, updated_at=now)
        audit.record(ctx, "report.correction_draft", "report", r.id,
                     {"supersedes": [None, old.id], "revision": [None, r.revision]})
    return r


def correct(ctx: Context, report_id: int, values: Mapping[str, Any], reason: str,
            sub: Submission | None = None) -> Report:
    """Correct in one step (the CLI): new revision with the changes, submitted with a reason."""
    require(ctx.actor, "officer")
    old = get_report(report_id)
    if not _clean(reason).strip():
        raise ValidationError({"correction_reason": ("error.report.correction_reason_needed", {})})
    clean_fields(ctx, old.regime, old.stage, values)  # refuse bad names before writing anything
    draft = start_correction(ctx, report_id)
    draft = save_draft(ctx, draft.id, draft.version, values)
    sub = sub or Submission(channel=old.channel or "online", recipient=old.recipient or "")
    sub.correction_reason = reason
    return submit(ctx, draft.id, draft.version, sub)


def record_oral_report(ctx: Context, incident: Any, fields: Mapping[str, Any], recipient: str,
                       at: datetime | None = None, confirmed_by: str = "", channel: str = "phone",
                       late_reason: str = "") -> Report:
    """The oral report as made on a logged phone call: a submitted ``school_plan.oral`` report.

    Stable entry point for the contacts feature. A draft already begun is
    completed with ``fields``; an oral report already submitted is returned
    unchanged (the first call that reached the bureau is the one that counts).
    A late call needs ``late_reason``: without one the submission is refused
    (the caller asks for it), never filled with a placeholder.
    """
    require(ctx.actor, "officer")
    inc = get_incident(incident.id if isinstance(incident, Incident) else incident)
    done = in_force(inc, "school_plan", "oral", 1)
    if done is not None:
        return done
    r = open_report(ctx, inc.id, "school_plan", "oral", 1)
    given = {k: v for k, v in (fields or {}).items() if v not in (None, "")}
    if given:
        r = save_draft(ctx, r.id, r.version, given)
    at = at or ctx.now()
    # A late oral report needs its reason (issue 12): submit() refuses without one.
    return submit(ctx, r.id, r.version, Submission(channel=channel, recipient=recipient,
                                                    confirmed_by=confirmed_by or recipient,
                                                    late_reason=late_reason, at=at))


# ---------------------------------------------------------------- conflict stash

def stash_conflict(ctx: Context, report_id: int, fields: Mapping[str, Any]) -> None:
    """Keep the losing side's text in the Draft table until the officer decides: nothing is lost."""
    now = ctx.now()
    with ctx.store.write():
        row = Draft.get_or_none((Draft.owner == ctx.actor.username) & (Draft.kind == "report_conflict")
                                & (Draft.key == str(report_id)))
        if row:
            Draft.update(payload=dict(fields), updated_at=now).where(Draft.id == row.id).execute()
        else:
            Draft.create(owner=ctx.actor.username, kind="report_conflict", key=str(report_id),
                         payload=dict(fields), updated_at=now)


def stashed_conflict(ctx: Context, report_id: int) -> dict | None:
    row = Draft.get_or_none((Draft.owner == ctx.actor.username) & (Draft.kind == "report_conflict")
                            & (Draft.key == str(report_id)))
    return dict(row.payload) if row else None


def drop_stash(ctx: Context, report_id: int) -> None:
    with ctx.store.write():
        Draft.delete().where((Draft.owner == ctx.actor.username) & (Draft.kind == "report_conflict")
                             & (Draft.key == str(report_id))).execute()


# ---------------------------------------------------------------- presentation helpers

def report_json(ctx: Context, r: Report) -> dict:
    from models.timeparse import iso_local
    return {
        "id": r.id, "incident": r.incident.code, "regime": r.regime, "stage": r.stage, "seq": r.seq,
        "stage_name": stage_title(ctx, r.regime, r.stage, r.seq), "revision": r.revision,
        "status": r.status, "fields": r.fields or {}, "submitted_at": iso_local(r.submitted_at, ctx.zone),
        "submitted_by": r.submitted_by, "submitted_by_name": _name(r.submitted_by), "channel": r.channel, "recipient": r.recipient,
        "receipt_confirmed_by": r.receipt_confirmed_by, "late_reason": r.late_reason,
        "correction_reason": r.correction_reason, "supersedes": r.supersedes_id, "version": r.version,
        "missing": [m.field for m in check(ctx, r)] if r.status == "draft" else [],
        "before_oral_reason": before_oral_reason(r),
        "county_receipt": _receipt_json(ctx, r),
        **_earlier_json(ctx, r),
    }


def _name(username: str | None) -> str | None:
    """The submitter as the screens name them (the login stays in ``submitted_by``)."""
    from models.profiles import display_name
    return display_name(username) if username else None


def _receipt_json(ctx: Context, r: Report) -> dict | None:
    """The county's receipt (已签收) for this report's stage, as the link brought it back."""
    from models.county.receipts import receipt_for
    from models.timeparse import iso_local
    got = receipt_for(r)
    return {"signed_by": got.signed_by, "signed_at": iso_local(got.signed_at, ctx.zone)} if got else None


def _earlier_json(ctx: Context, r: Report) -> dict:
    """``county_receipt_earlier`` when the bureau signed the version before this correction (and
    not this one: ``county_receipt`` is null); nothing otherwise (county2)."""
    from models.county.receipts import receipt_status
    from models.timeparse import iso_local
    state, got = receipt_status(r)
    if state != "earlier":
        return {}
    return {"county_receipt_earlier": {"signed_by": got.signed_by, "signed_at": iso_local(got.signed_at, ctx.zone),
                                       "revision": got.revision or 1}}


def before_oral_reason(r: Report) -> str | None:
    """Why this written report went before any oral one, as recorded when it was submitted."""
    from models.tables import ObligationNote
    N = ObligationNote
    note = (N.select(N.reason).where((N.incident == r.incident_id) & (N.regime == r.regime) & (N.stage == r.stage)
                                     & (N.seq == r.seq) & (N.kind == "before_oral")).order_by(N.id).first())
    return note.reason if note else None


def all_stages(ctx: Context) -> Iterable[Stage]:
    return ctx.policy.stages()
