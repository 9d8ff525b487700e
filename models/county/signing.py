"""Signing on the county board (issue 19 item 4): which submitted reports the county holds for
an open incident, which of them the bureau has signed (已签收), and the signature itself.

The screen calls these over its own connection; the signature is ``server.add_receipt`` with
the login itself (``session_user``) as the signer, the same call ``county receipt`` makes. Who
may sign is the server's business: a school's login is refused by its grants (row-level
security), and that refusal is one ``DomainError`` (``schema.server_errors``), never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from models.county.board import CLOSED_STATUSES
from models.county.schema import server_errors


@dataclass(frozen=True)
class Sent:
    """A submitted report the county holds (its latest revision), and its receipt if signed."""

    school: str
    incident: str
    regime: str
    stage: str
    seq: int
    submitted_at: datetime | None
    signed_by: str | None = None
    signed_at: datetime | None = None
    revision: int = 1                      # the newest the county holds
    signed_revision: int | None = None     # the one the receipt is for (county2)

    @property
    def key(self) -> str:
        """The board row's key (``school/incident``)."""
        return f"{self.school}/{self.incident}"

    @property
    def signed(self) -> bool:
        """Signed for the revision the county holds now (a correction after the signature: not)."""
        return self.signed_by is not None and (self.signed_revision or 1) >= self.revision

    @property
    def signed_earlier(self) -> bool:
        """The bureau signed an earlier revision; this one (the school's correction) waits again."""
        return self.signed_by is not None and not self.signed


_SENT_SQL = f"""
SELECT * FROM (
SELECT DISTINCT ON (r.school, r.incident_code, r.regime, r.stage, r.seq)
       r.school, r.incident_code, r.regime, r.stage, r.seq, r.submitted_at, c.signed_by, c.signed_at,
       r.revision, c.revision AS signed_revision
FROM county.report r
JOIN county.incident i ON i.school = r.school AND i.code = r.incident_code
LEFT JOIN county.receipt c
  ON c.school = r.school AND c.incident_code = r.incident_code AND c.regime = r.regime
 AND c.stage = r.stage AND c.seq = r.seq
WHERE i.status NOT IN ({", ".join(f"'{s}'" for s in CLOSED_STATUSES)}) AND i.removed_at IS NULL {{only}}
ORDER BY r.school, r.incident_code, r.regime, r.stage, r.seq, r.revision DESC
) latest
ORDER BY school, incident_code, submitted_at NULLS LAST, regime, stage, seq
"""


@server_errors
def sent_reports(conn, schools: list[str] | None = None) -> dict[str, tuple[Sent, ...]]:
    """The submitted reports of every open incident this login sees, by board row key, in the
    order they were submitted; ``schools``: only those schools' (what a notification names)."""
    only, args = ("", ()) if schools is None else ("AND r.school = ANY(%s)", (list(schools),))
    out: dict[str, list[Sent]] = {}
    with conn.cursor(binary=True) as cur:
        rows = cur.execute(_SENT_SQL.format(only=only), args).fetchall()
    for school, code, regime, stage, seq, submitted, by, at, rev, signed_rev in rows:
        sent = Sent(school, code, regime, stage, int(seq or 1), submitted, by, at, int(rev or 1),
                    int(signed_rev) if signed_rev is not None else None)
        out.setdefault(sent.key, []).append(sent)
    return {key: tuple(items) for key, items in out.items()}


def unsigned(sent: tuple[Sent, ...] | list[Sent]) -> list[Sent]:
    """The submitted reports the bureau has not signed yet (what the sign key offers)."""
    return [s for s in sent if not s.signed]


@server_errors
def sign(conn, sent: Sent) -> tuple[Sent, bool]:
    """Sign for ``sent`` over ``conn`` (the board's own login): the report with its receipt, and
    whether someone had signed it before (the first signature stands)."""
    from models.county import server
    who = conn.execute("SELECT session_user").fetchone()[0]
    if not conn.autocommit:
        conn.commit()
    got = server.add_receipt(conn, sent.school, sent.incident, sent.regime, sent.stage, sent.seq, who,
                             sent.revision)
    return (replace(sent, signed_by=got["signed_by"], signed_at=got["signed_at"], signed_revision=got["revision"]),
            got["already"])
