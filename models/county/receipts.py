"""Receipts (已签收): the bureau signs for a school's submitted report, the school shows it.

Two ends, one meaning:
- the bureau's end (``sign``): over the bureau's own login, the county server records who
  signed (the login itself, ``session_user``) and when (the server's ``now()``), refused unless
  the county holds a submitted report of that stage;
- the school's end (``receipt_for``, ``receipts_for_incident``): the ``CountyReceipt`` rows the
  link (``models.county.link``) brought back, read inside the caller's ``store.read()``. These
  need neither psycopg nor a county server: a school that never enrolled simply has none.

A receipt is for a stage and its number (``seq``), not a revision. It is shown with a report
submitted before it was signed: a correction submitted after the signature is not what the
bureau signed for, so it shows none (the superseded report it replaced keeps it).
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


def _from_row(row) -> Receipt:
    return Receipt(row.incident_code, row.regime, row.stage, int(row.seq or 1), row.signed_by or "",
                   row.signed_at)


# ------------------------------------------------------------------------------ the school's end

def receipt_for(report) -> Receipt | None:
    """The county's receipt for this submitted report (its stage and number), or None.

    A draft (a correction being written) has none of its own yet, nor has a correction submitted
    after the signature (the bureau signed for the version before it).
    """
    from models.tables import CountyReceipt
    if report is None or report.status not in SHOWN_STATUSES:
        return None
    row = (CountyReceipt.select()
           .where((CountyReceipt.incident_code == report.incident.code)
                  & (CountyReceipt.regime == report.regime) & (CountyReceipt.stage == report.stage)
                  & (CountyReceipt.seq == int(report.seq or 1)))
           .first())
    if row is None:
        return None
    got = _from_row(row)
    return got if covers(got, report) else None


def covers(receipt: Receipt, report) -> bool:
    """Whether the bureau's signature can be for this report: not for a correction sent after it."""
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


def sign(url: str, school: str, incident: str, stage_text: str, seq: int = 1) -> dict:
    """The bureau signs (已签收) over its own login; who = that login, when = the server's time.

    Returns the receipt with ``already`` true when it had been signed before (the first
    signature stands: who signed first and when).
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
            before = conn.execute(
                "SELECT signed_by, signed_at FROM county.receipt WHERE school = %s AND incident_code = %s "
                "AND regime = %s AND stage = %s AND seq = %s", (school, incident, regime, stage, seq)).fetchone()
            conn.commit()
            who = conn.execute("SELECT session_user").fetchone()[0]
            conn.commit()
            got = server.add_receipt(conn, school, incident, regime, stage, seq, who)
            got["already"] = before is not None
            return got

    if seq < 1:
        raise DomainError("county.receipt.bad_seq", seq=seq)
    return run()
