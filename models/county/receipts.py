"""Receipts (已签收): the bureau signs for a school's submitted report, the school shows it.

Two ends, one meaning:
- the bureau's end (``sign``): over the bureau's own login, the county server records who
  signed (the login itself, ``session_user``) and when (the server's ``now()``), refused unless
  the county holds a submitted report of that stage;
- the school's end (``receipt_for``, ``receipts_for_incident``): the ``CountyReceipt`` rows the
  link (``models.county.link``) brought back, read inside the caller's ``store.read()``. These
  need neither psycopg nor a county server: a school that never enrolled simply has none.

A receipt is for a stage and its number (``seq``) and names the revision the bureau signed
(county2: ``revision`` and that revision's submission time, as the county held them). It is
shown as signed only with that very report; the school's newer correction shows "signed before
the correction" (``receipt_status``: ``earlier``) until the bureau signs the correction, which
replaces the receipt. A receipt from before receipts named revisions (``revision`` NULL) is
judged as before: it covers a report submitted before it was signed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.errors import DomainError

SHOWN_STATUSES = ("submitted", "superseded")


@dataclass(frozen=True)
class Receipt:
    incident_code: str
    regime: str
    stage: str
    seq: int
    signed_by: str
    signed_at: datetime | None
    revision: int | None = None                  # None: signed before receipts named revisions
    report_submitted_at: datetime | None = None  # the signed revision's submission, as the county held it


def _from_row(row) -> Receipt:
    rev = getattr(row, "revision", None)
    return Receipt(row.incident_code, row.regime, row.stage, int(row.seq or 1), row.signed_by or "",
                   row.signed_at, int(rev) if rev is not None else None, getattr(row, "report_submitted_at", None))


# ------------------------------------------------------------------------------ the school's end

def receipt_for(report) -> Receipt | None:
    """The county's receipt for this very submitted report (its stage, number and revision), or None.

    A draft (a correction being written) has none of its own yet, nor has a correction the bureau
    has not signed (``receipt_status`` says ``earlier`` for it)."""
    state, got = receipt_status(report)
    return got if state == "signed" else None


def receipt_status(report) -> tuple[str | None, Receipt | None]:
    """``("signed", r)``: the bureau signed this report; ``("earlier", r)``: it signed an earlier
    revision and this is the correction it has not signed; ``(None, None)`` otherwise."""
    from models.tables import CountyReceipt
    if report is None or report.status not in SHOWN_STATUSES:
        return None, None
    row = (CountyReceipt.select()
           .where((CountyReceipt.incident_code == report.incident.code)
                  & (CountyReceipt.regime == report.regime) & (CountyReceipt.stage == report.stage)
                  & (CountyReceipt.seq == int(report.seq or 1)))
           .first())
    if row is None:
        return None, None
    got = _from_row(row)
    return standing(got, report), got


def _same_instant(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return True          # nothing to tell them apart by
    return abs((a - b).total_seconds()) < 1


def standing(receipt: Receipt, report) -> str | None:
    """What ``receipt`` says of ``report`` (a submitted or superseded revision of its stage):
    ``signed`` (for this revision), ``earlier`` (for an older revision: this one, the newest the
    school submitted, is a correction the bureau has not signed), or None (for another report:
    a newer revision than this superseded one, or one numbered the same after a restore)."""
    rev = int(report.revision or 1)
    if receipt.revision is None:                 # from before receipts named revisions
        if covers(receipt, report):
            return "signed"
        return "earlier" if report.status == "submitted" else None
    if receipt.revision == rev:
        return "signed" if _same_instant(receipt.report_submitted_at, report.submitted_at) else None
    if receipt.revision < rev and report.status == "submitted":
        return "earlier"
    return None


def covers(receipt: Receipt, report) -> bool:
    """A receipt from before receipts named revisions: whether it can be for this report (not
    for a correction submitted after it). One that names its revision: ``standing``."""
    if receipt.revision is not None:
        return standing(receipt, report) == "signed"
    if int(report.revision or 1) == 1 or report.submitted_at is None or receipt.signed_at is None:
        return True
    return report.submitted_at <= receipt.signed_at


def receipts_for_incident(incident) -> dict[tuple[str, str, int], Receipt]:
    """Every receipt of one incident, by (regime, stage, seq)."""
    from models.tables import CountyReceipt
    rows = CountyReceipt.select().where(CountyReceipt.incident_code == incident.code)
    return {(r.regime, r.stage, int(r.seq or 1)): _from_row(r) for r in rows}


# ------------------------------------------------------------------------------ the bureau's end

def stage_choices() -> list[str]:
    """Every ``regime.stage`` the program knows, in the policies' order."""
    from models.policy import all_regimes
    return [st.key for regime in all_regimes() for st in regime.stages]


def resolve_stage(text: str, held: set[tuple[str, str]] | frozenset = frozenset()) -> tuple[str, str]:
    """``school_plan.first`` as given, or a bare ``first`` / ``首报`` when only one regime has it.

    ``held`` (the (regime, stage) pairs the county holds for the incident) settles a bare name
    two regimes share (``final``: the school plan's and NIS2's) when the county holds only one.
    """
    from models.policy import all_regimes
    text = (text or "").strip()
    stages = [st for regime in all_regimes() for st in regime.stages]
    if "." in text:
        regime, _, stage = text.partition(".")
        if any(st.regime == regime and st.id == stage for st in stages):
            return regime, stage
        raise DomainError("county.receipt.unknown_stage", stage=text, choices=", ".join(stage_choices()))
    found = [st for st in stages if text in (st.id, st.zh, st.en)]
    if not found:
        raise DomainError("county.receipt.unknown_stage", stage=text, choices=", ".join(stage_choices()))
    if len(found) > 1:
        narrowed = [st for st in found if (st.regime, st.id) in held]
        if len(narrowed) == 1:
            found = narrowed
        else:
            raise DomainError("county.receipt.ambiguous_stage", stage=text,
                              choices=", ".join(st.key for st in found))
    return found[0].regime, found[0].id


def sign(url: str, school: str, incident: str, stage_text: str, seq: int = 1,
         revision: int | None = None) -> dict:
    """The bureau signs (已签收) over its own login; who = that login, when = the server's time;
    ``revision``: the one the bureau read (default: the newest the county holds).

    Returns the receipt (with the ``revision`` signed and the ``latest`` the county holds) and
    ``already`` true when that revision (or a newer one) had been signed before (the first
    signature stands: who signed first and when). A correction is signed by signing again.
    """
    from models.county import schema, server

    @schema.server_errors
    def run() -> dict:
        with schema.connect(url) as conn:
            if schema.version_of(conn) == 0:
                raise DomainError("county.error.not_initialised")
            if conn.execute("SELECT 1 FROM county.school WHERE code = %s", (school,)).fetchone() is None:
                raise DomainError("county.receipt.unknown_school", school=school)
            if conn.execute("SELECT 1 FROM county.incident WHERE school = %s AND code = %s",
                            (school, incident)).fetchone() is None:
                raise DomainError("county.receipt.unknown_incident", school=school, incident=incident)
            held = {(r[0], r[1]) for r in conn.execute(
                "SELECT regime, stage FROM county.obligation WHERE school = %s AND incident_code = %s "
                "UNION SELECT regime, stage FROM county.report WHERE school = %s AND incident_code = %s",
                (school, incident, school, incident)).fetchall()}
            regime, stage = resolve_stage(stage_text, held)
            conn.commit()
            who = conn.execute("SELECT session_user").fetchone()[0]
            conn.commit()
            return server.add_receipt(conn, school, incident, regime, stage, seq, who, revision)

    if seq < 1:
        raise DomainError("county.receipt.bad_seq", seq=seq)
    if revision is not None and revision < 1:
        raise DomainError("county2.error.bad_revision", revision=revision)
    return run()
