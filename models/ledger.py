"""学籍使用台账: every export or external use of registry data.

"谁导出谁负责、谁使用谁负责" and "谁批准、谁负责": each entry names who
exported or used the data, when, what data, the purpose, the recipient and
who approved it. Entries are append-only (a correction is a new entry that
says so), so the ledger can be shown to an inspector as it was written.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from models import audit
from models.context import Context
from models.errors import ValidationError
from models.roles import require
from models.tables import DataUse
from models.text import clean_text

FIELDS = ("ledger_who", "ledger_data", "ledger_purpose", "ledger_approved_by", "ledger_recipient")


def _clean(value: Any, name: str, required: bool = False, limit: int = 2000) -> str:
    return clean_text(value, name, required, limit)


@dataclass
class UseInput:
    who: str
    data: str
    purpose: str
    approved_by: str
    recipient: str = ""
    at: datetime | None = None


def add_use(ctx: Context, entry: UseInput) -> DataUse:
    """Approval is required: data leaves the registry only with a named approver."""
    require(ctx.actor, "officer")
    errors: dict = {}
    clean: dict[str, str] = {}
    for name, value, required in (("ledger_who", entry.who, True), ("ledger_data", entry.data, True),
                                  ("ledger_purpose", entry.purpose, True),
                                  ("ledger_approved_by", entry.approved_by, True),
                                  ("ledger_recipient", entry.recipient, False)):
        try:
            clean[name.removeprefix("ledger_")] = _clean(value, name, required)
        except ValidationError as exc:
            errors.update(exc.fields)
    now = ctx.now()
    at = entry.at or now
    if at > now + timedelta(minutes=1):
        errors["ledger_at"] = ("error.time_future", {})
    if errors:
        raise ValidationError(errors)
    with ctx.store.write():
        row = DataUse.create(at=at, recorded_by=ctx.actor.username, **clean)
        audit.record(ctx, "ledger.add", "data_use", row.id,
                     {k: [None, v] for k, v in {**clean, "at": at.isoformat()}.items()})
    return row


def list_uses(since: datetime | None = None, until: datetime | None = None) -> list[DataUse]:
    q = DataUse.select()
    if since is not None:
        q = q.where(DataUse.at >= since)
    if until is not None:
        q = q.where(DataUse.at < until)
    return list(q.order_by(DataUse.at.desc(), DataUse.id.desc()))
