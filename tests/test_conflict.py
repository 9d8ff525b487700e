"""Two OS processes update the same incident: one gets ConflictError, nothing is lost, no lock errors."""
import json
import subprocess
import sys
import textwrap

from models.incidents import IncidentInput, create_incident, get_incident
from models import audit
from tests.conftest import ROOT, T0
from datetime import timedelta

WORKER = textwrap.dedent("""
    import json, sys, time
    from datetime import datetime, timezone
    from pathlib import Path
    from models.clock import Clock
    from models.config import Settings
    from models.context import Actor, Context
    from models.errors import ConflictError, StoreError
    from models.incidents import get_incident, update_incident
    from models.store import open_store

    db, who, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = open_store(Path(db))
    ctx = Context(store=store, actor=Actor(username=who, role="officer"), clock=Clock(), settings=Settings())
    inc = get_incident("2026-001")           # both read version 1 ...
    while time.time() < start:               # ... then both save at the same moment
        time.sleep(0.001)
    try:
        update_incident(ctx, "2026-001", inc.version, {"description": f"written by {who}"})
        print(json.dumps({"who": who, "result": "saved"}))
    except ConflictError as exc:
        print(json.dumps({"who": who, "result": "conflict", "expected": exc.expected_version,
                          "current": exc.current_version, "theirs": exc.current.get("description")}))
    except StoreError as exc:
        print(json.dumps({"who": who, "result": "store", "key": exc.key}))
""")


def test_two_processes_one_conflict_nothing_lost(ctx, db_path):
    create_incident(ctx, IncidentInput(title="学籍数据疑似泄露", category="data_security",
                                       occurred_at=T0 - timedelta(minutes=10), discovered_at=T0))
    ctx.store.close()
    import time
    start = str(time.time() + 1.5)
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(db_path), who, start], cwd=str(ROOT),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for who in ("terminal", "ssh")]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    outcomes = sorted(r["result"] for r in results)
    assert outcomes == ["conflict", "saved"], results
    saved = next(r for r in results if r["result"] == "saved")
    conflict = next(r for r in results if r["result"] == "conflict")
    assert conflict["expected"] == 1 and conflict["current"] == 2
    assert conflict["theirs"] == f"written by {saved['who']}"   # the loser sees the winner's text
    from models.store import open_store
    s = open_store(db_path)
    inc = get_incident("2026-001")
    assert inc.version == 2 and inc.description == f"written by {saved['who']}"
    assert audit.verify().ok
    s.close()
