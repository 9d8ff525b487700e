"""Two OS processes editing one incident, report draft and contact in lock-step rounds.

``run(db, who, rounds, mode, barrier, out)`` is the body of one process (started with
``multiprocessing``'s spawn context, so each is a fresh interpreter with its own
connection). Each round: both read the same version, both save from it, both check.
``mode`` "different": each side edits its own field (nothing may be lost);
"same": both edit one field (one value saved, one field-level conflict).
"""
from __future__ import annotations

from pathlib import Path

FIELDS = {  # entity -> (field of side a, field of side b)
    "incident": ("location", "asset"),
    "report": ("damage", "threat"),
    "contact": ("department", "notes"),
}
ROUNDS_ENV = "XUEJI_MERGE_ROUNDS"


def _ctx(db: str, who: str):
    from models.clock import Clock
    from models.config import Settings
    from models.context import Actor, Context
    from models.store import open_store
    store = open_store(Path(db))
    return Context(store=store, actor=Actor(username=who, role="admin", origin="local"), clock=Clock(),
                   settings=Settings(school_name="海峰中学"))


def run(db: str, who: str, rounds: int, mode: str, ids: dict, barrier, out) -> None:
    try:
        _run(db, who, rounds, mode, ids, barrier, out)
    except BaseException:
        import traceback
        barrier.abort()
        out.put({"who": who, "crash": traceback.format_exc()})


def _run(db: str, who: str, rounds: int, mode: str, ids: dict, barrier, out) -> None:
    from models.contacts import edit_contact, get_contact
    from models.errors import ConflictError
    from models.incidents import get_incident, update_incident
    from models.reports import get_report, save_draft
    ctx = _ctx(db, who)
    side = 0 if who == "a" else 1
    readers = {"incident": lambda: get_incident(ids["incident"]), "report": lambda: get_report(ids["report"]),
               "contact": lambda: get_contact(ids["contact"])}
    writers = {
        "incident": lambda v, ch: update_incident(ctx, ids["incident"], v, ch),
        "report": lambda v, ch: save_draft(ctx, ids["report"], v, ch),
        "contact": lambda v, ch: edit_contact(ctx, ids["contact"], ch, expected_version=v),
    }
    tally = {"saved": 0, "conflict": 0, "lost": 0, "errors": 0, "same_value": 0}
    per_round = []
    for n in range(rounds):
        for entity, pair in FIELDS.items():
            name = pair[side] if mode == "different" else pair[0]
            value = f"{who}{n}"
            barrier.wait()
            version = readers[entity]().version
            barrier.wait()
            outcome = "saved"
            try:
                writers[entity](version, {name: value})
                tally["saved"] += 1
            except ConflictError as exc:
                outcome = "conflict"
                if [c.field for c in exc.conflicts] == [name]:
                    tally["conflict"] += 1
                else:
                    tally["errors"] += 1
            barrier.wait()
            row = readers[entity]()
            values = row.fields if entity == "report" else {k: getattr(row, k) for k in pair}
            if mode == "different":
                theirs = f"{'b' if side == 0 else 'a'}{n}"
                if values.get(name) != value or values.get(pair[1 - side]) != theirs:
                    tally["lost"] += 1
            elif outcome == "saved" and values.get(name) != value:
                tally["lost"] += 1
            per_round.append(outcome)
    out.put({"who": who, **tally, "rounds": per_round})
    ctx.store.close()
