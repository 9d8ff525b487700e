"""Notes on an incident: free text the officer adds as things happen, each one audited."""
from __future__ import annotations

from typing import Any

from models import audit
from models.context import Context
from models.incidents import TEXT_MAX, _clean_text, get_incident
from models.roles import require
from models.tables import Incident, Note


def add_note(ctx: Context, ref: Any, text: str) -> Note:
    """Notes are never edited or deleted: a correction is another note."""
    require(ctx.actor, "officer")
    inc = get_incident(ref)
    body = _clean_text(text, "text", required=True, limit=TEXT_MAX)
    with ctx.store.write():
        note = Note.create(incident=inc, author=ctx.actor.username, at=ctx.now(), text=body)
        audit.record(ctx, "note.add", "incident", inc.id, {"note": [None, note.id], "text": [None, body]})
    return note


def notes_for(inc: Incident | int) -> list[Note]:
    """Newest first, as the timeline shows them."""
    return list(Note.select().where(Note.incident == inc).order_by(Note.at.desc(), Note.id.desc()))
