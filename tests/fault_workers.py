"""Worker processes for the fault-injection suite (``python -m tests.fault_workers MODE ...``).

Each worker is a real OS process using the real services on a real SQLite
file; it reports what it *knows* to be committed on stdout, one JSON line at
a time, flushed, so the parent can hold the database to it after a crash.
"""
from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

SCALE_ENV = "XUEJI_FAULT_SCALE"


def scale() -> float:
    """1 in CI; ``XUEJI_FAULT_SCALE=full`` (or a factor) for the README's full-size figures."""
    raw = os.environ.get(SCALE_ENV, "1")
    return 0.0 if raw == "full" else float(raw)


def scaled(full: int, ci: int) -> int:
    s = scale()
    return full if s == 0.0 else max(1, int(round(ci * s)))


def _ctx(db: str, who: str):
    from models.clock import Clock
    from models.config import Settings
    from models.context import Actor, Context
    from models.store import open_store
    store = open_store(Path(db))
    return Context(store=store, actor=Actor(username=who, role="admin", origin="local"), clock=Clock(),
                   settings=Settings(school_name="海峰中学"))


def _emit(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# --- 2 processes × N conflicting edits --------------------------------------------------------

def edits(db: str, who: str, n: int, start: float, codes: list[str]) -> None:
    """Append one token per edit to the description of the same records the other process edits.

    Every edit is a read-modify-write on a version: a ConflictError is what a user sees as
    "someone else saved first" and retries; a StoreError would reach the user as an error.
    """
    from models.errors import ConflictError, StoreError
    from models.incidents import get_incident, update_incident

    ctx = _ctx(db, who)
    while time.time() < start:
        time.sleep(0.001)
    saved, conflicts, store_errors, attempts = [], 0, {}, 0
    t0 = time.perf_counter()
    for i in range(n):
        code = codes[i % len(codes)]
        token = f"{who}{i};"
        while True:
            attempts += 1
            inc = get_incident(code)
            try:
                update_incident(ctx, code, inc.version, {"description": inc.description + token})
                saved.append([code, token])
                break
            except ConflictError:
                conflicts += 1
            except StoreError as exc:
                store_errors[exc.key] = store_errors.get(exc.key, 0) + 1
    _emit({"who": who, "saved": saved, "conflicts": conflicts, "store_errors": store_errors,
           "attempts": attempts, "seconds": time.perf_counter() - t0})


# --- a writer killed at a random moment -------------------------------------------------------

def _save_draft(ctx, payload) -> None:
    try:
        from models.drafts import save_draft
    except ImportError:  # the drafts service of the incidents feature, when it has not landed
        from models.tables import Draft
        with ctx.store.write():
            (Draft.insert(owner=ctx.actor.username, kind="new_incident", key="", payload=payload,
                          updated_at=ctx.now())
             .on_conflict(conflict_target=[Draft.owner, Draft.kind, Draft.key],
                          update={Draft.payload: payload, Draft.updated_at: ctx.now()}).execute())
        return
    save_draft(ctx, "new_incident", payload)


def _report_draft(ctx, rnd, n):
    """Autosave of the first report of the first incident, as the report screen does."""
    from models import reports
    rep = reports.open_report(ctx, "2026-001", "school_plan", "first", 1)
    field = reports.form_fields(ctx, "school_plan", "first")[0].id
    rep = reports.save_draft(ctx, rep.id, rep.version, {field: f"已断开学籍系统网络 {n} " + "。" * rnd.randint(0, 30)})
    return rep


def writer(db: str, who: str, seed: int, draft_every: float = 1.0) -> None:
    """Write forever (until killed): incidents, edits, drafts; report each commit after it returns."""
    from models.incidents import IncidentInput, create_incident, get_incident, update_incident

    rnd = random.Random(seed)
    ctx = _ctx(db, who)
    last_draft = 0.0
    n = 0
    while True:
        now = time.time()
        if now - last_draft >= draft_every:
            typed = "学籍系统异常，已断网" + "。" * rnd.randint(0, 50)
            _save_draft(ctx, {"title": typed, "n": n})
            _emit({"draft": now})
            try:
                rep = _report_draft(ctx, rnd, n)
                _emit({"report_draft": time.time(), "id": rep.id, "version": rep.version})
            except ImportError:   # the reports feature is not there: the form draft stands alone
                pass
            last_draft = now
        n += 1
        if n % 5 == 1:
            t = ctx.now()
            inc = create_incident(ctx, IncidentInput(
                title=f"{who} 事件 {n}", category="network_attack", description="x" * rnd.randint(0, 4000),
                occurred_at=t - timedelta(minutes=5), discovered_at=t))
            _emit({"created": inc.code, "title": inc.title})
        else:
            from models.tables import Incident
            last = Incident.select().order_by(Incident.id.desc()).first()
            inc = get_incident(last.code)
            token = f"{n};"
            update_incident(ctx, inc.code, inc.version, {"asset": (inc.asset + token)[-500:]})
            _emit({"updated": inc.code, "version": inc.version + 1, "token": token})
        time.sleep(rnd.uniform(0, 0.01))   # a busy desk, not a benchmark: ~200 commits a second


def kill_loop(db: str, runs: int, seed: int, min_s: float, max_s: float) -> None:
    """Fork a writer, SIGKILL it at a random moment, check the file; ``runs`` times (POSIX)."""
    import signal
    import sqlite3

    rnd = random.Random(seed)
    # Import everything once so each forked writer starts writing within milliseconds.
    import models.incidents  # noqa: F401
    import models.store  # noqa: F401
    results = []
    for run in range(runs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer
            os.close(r)
            os.dup2(w, 1)
            try:
                writer(db, "writer", seed * 1000 + run, draft_every=1.0)
            finally:
                os._exit(0)
        os.close(w)
        # Drain the pipe while the writer runs: a full pipe would stall it, and a stalled writer
        # is not a writer killed mid-write.
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: os.read(r, 65536), b"")),
                                  daemon=True)
        reader.start()
        delay = rnd.uniform(min_s, max_s)
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.time()
        os.waitpid(pid, 0)
        reader.join(10)
        os.close(r)
        out = b"".join(chunks).decode("utf-8", "replace")
        lines = []
        for line in out.split("\n"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                pass   # the line the kill cut in half
        con = sqlite3.connect(db, timeout=5)
        try:
            integrity = con.execute("PRAGMA integrity_check").fetchall()
            codes = {c for (c,) in con.execute("SELECT code FROM incident")}
            versions = {c: (v, a) for c, v, a in con.execute("SELECT code, version, asset FROM incident")}
            draft = con.execute("SELECT max(updated_at) FROM draft").fetchone()[0]
            report_drafts = {i: (v, u) for i, v, u in
                             con.execute("SELECT id, version, updated_at FROM report WHERE status='draft'")}
        finally:
            con.close()
        missing = [x["created"] for x in lines if "created" in x and x["created"] not in codes]
        lost = [x for x in lines if "updated" in x
                and (versions.get(x["updated"], (0, ""))[0] < x["version"])]
        drafted = [x["draft"] for x in lines if "draft" in x]
        draft_age = None
        if draft:
            draft_age = killed_at - datetime.fromisoformat(draft).timestamp()
        rep_lines = [x for x in lines if "report_draft" in x]
        lost += [x for x in rep_lines if report_drafts.get(x["id"], (0, ""))[0] < x["version"]]
        report_draft_age = None
        if rep_lines:
            v, u = report_drafts[rep_lines[-1]["id"]]
            report_draft_age = killed_at - datetime.fromisoformat(u).timestamp()
        results.append({"run": run, "delay": round(delay, 3), "integrity": [r[0] for r in integrity],
                        "committed": sum(1 for x in lines if "created" in x or "updated" in x),
                        "missing": missing, "lost_updates": len(lost), "drafts": len(drafted),
                        "draft_age": draft_age, "report_drafts": len(rep_lines),
                        "report_draft_age": report_draft_age})
    _emit({"results": results})


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "edits":
        edits(argv[1], argv[2], int(argv[3]), float(argv[4]), argv[5].split(","))
    elif mode == "writer":
        writer(argv[1], argv[2], int(argv[3]))
    elif mode == "kill-loop":
        kill_loop(argv[1], int(argv[2]), int(argv[3]), float(argv[4]), float(argv[5]))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
