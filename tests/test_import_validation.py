"""Issue 13, item 7: an import checks every row with the services' validators, verifies the export's
audit trail, writes nothing when anything is wrong, and never writes outside the evidence folder.
An export made by release 0.1 (schema 1) still imports."""
from __future__ import annotations

import base64
import copy
import hashlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from models import audit, auditkey
from models.errors import DomainError
from models.export import build_export, import_into, is_empty
from models.incidents import IncidentInput, create_incident
from models.store import open_store
from models.tables import ALL_MODELS, AuditEvent, Incident
from tests.conftest import T0, make_ctx
from tests.safety_data import populate

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def exported(ctx):
    from models import accounts
    accounts.bootstrap_admin(ctx, "admin", "王校长", "Haifeng-2026")
    populate(ctx)
    data = build_export(ctx.store)
    key = auditkey.load(ctx.store)
    ctx.store.close()
    return data, key


def _col(data, table, row_index, column, value):
    t = data["tables"][table]
    t["rows"][row_index][t["columns"].index(column)] = value


def _fresh(tmp_path, name="new.db"):
    folder = tmp_path / "new"
    folder.mkdir(exist_ok=True)
    return open_store(folder / name)


def test_an_untouched_export_imports_and_verifies(exported, tmp_path):
    data, key = exported
    store = _fresh(tmp_path)
    try:
        result = import_into(store, data, audit_key=key)
        assert result.chain_ok and result.counts["incident"] == 3
        assert audit.verify(store).ok
    finally:
        store.close()


TAMPERS = {
    "code escaping the evidence folder": lambda d: _col(d, "incident", 0, "code", "../../../../tmp/x"),
    "unknown status": lambda d: _col(d, "incident", 0, "status", "bogus"),
    "a date that is not one": lambda d: _col(d, "incident", 1, "occurred_at", "not a date"),
    "unknown category": lambda d: _col(d, "incident", 2, "category", "nope"),
    "a description past the limit": lambda d: _col(d, "incident", 0, "description", "长" * 20_001),
    "a 2 MB text cell": lambda d: _col(d, "note", 0, "text", "x" * 2_000_000),
    "an unknown role": lambda d: _col(d, "user", 0, "role", "god"),
    "a user name that is a path": lambda d: _col(d, "user", 0, "username", "../admin"),
    "an evidence copy outside its folder": lambda d: _col(d, "evidence", 0, "stored_path", "../../outside.log"),
    "an evidence file outside the folder": lambda d: d["evidence"][0].update(path="../escape.txt"),
    "a report status": lambda d: _col(d, "report", 0, "status", "sent-ish"),
    "an integer that is text": lambda d: _col(d, "incident", 0, "version", "1; DROP"),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_each_invalid_value_is_refused_and_nothing_is_written(exported, tmp_path, tamper):
    data, key = exported
    bad = copy.deepcopy(data)
    TAMPERS[tamper](bad)
    store = _fresh(tmp_path)
    try:
        with pytest.raises(DomainError) as exc:
            import_into(store, bad, audit_key=key)
        assert exc.value.key in ("export.error.invalid_row", "export.error.bad_file"), exc.value.message
        assert "Traceback" not in exc.value.message
        with store.read():
            assert is_empty(store)
    finally:
        store.close()
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    assert not any("escape" in w or "outside" in w for w in written), written
    assert not (tmp_path.parent / "escape.txt").exists()
    assert not (store.evidence_dir).exists() or not any(store.evidence_dir.rglob("*"))


def test_an_export_whose_chain_does_not_verify_writes_nothing(exported, tmp_path):
    data, key = exported
    bad = copy.deepcopy(data)
    _col(bad, "audit_event", 1, "actor", "mallory")
    store = _fresh(tmp_path)
    try:
        with pytest.raises(DomainError) as exc:
            import_into(store, bad, audit_key=key)
        assert exc.value.key == "export.error.chain"
        with store.read():
            assert is_empty(store)
        # A row changed with its event left alone is caught by the rows' digests.
        bad2 = copy.deepcopy(data)
        _col(bad2, "incident", 0, "location", "别处")
        with pytest.raises(DomainError) as exc:
            import_into(store, bad2, audit_key=key)
        assert exc.value.key == "export.error.chain" and "incident" in exc.value.message
        # And a keyed trail without its key is refused, not trusted.
        with pytest.raises(DomainError) as exc:
            import_into(store, data)
        assert exc.value.key == "export.error.key_needed"
        with store.read():
            assert is_empty(store)
    finally:
        store.close()


def _export_of_release_0_1() -> dict:
    """The export release 0.1 wrote: its tables as stored, schema_version 1 (built from its own file)."""
    con = sqlite3.connect((DATA / "release-0.1.db").resolve().as_uri() + "?mode=ro", uri=True)
    try:
        have = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        tables = {}
        for model in ALL_MODELS:
            name = model._meta.table_name
            if name not in have:
                continue
            info = con.execute(f'PRAGMA table_info("{name}")').fetchall()
            cols = [r[1] for r in info]
            pks = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]]
            order = ", ".join(f'"{c}"' for c in pks) or "rowid"
            rows = [list(r) for r in con.execute(f'SELECT * FROM "{name}" ORDER BY {order}')]
            tables[name] = {"columns": cols, "rows": rows}
    finally:
        con.close()
    evidence = []
    folder = DATA / "release-0.1-evidence"
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            raw = p.read_bytes()
            evidence.append({"path": p.relative_to(folder).as_posix(), "sha256": hashlib.sha256(raw).hexdigest(),
                             "size": len(raw), "data": base64.b64encode(raw).decode()})
    return {"format": "xueji-duty-export", "format_version": 1, "schema_version": 1, "tables": tables,
            "evidence": evidence}


def test_an_export_made_by_release_0_1_still_imports(tmp_path, clock):
    data = _export_of_release_0_1()
    old_incidents = len(data["tables"]["incident"]["rows"])
    old_events = len(data["tables"]["audit_event"]["rows"])
    assert old_incidents and old_events
    store = _fresh(tmp_path)
    try:
        result = import_into(store, data)
        assert result.chain_ok
        assert store.meta("schema_version") == "2"
        assert Incident.select().count() == old_incidents
        report = audit.verify(store)
        assert report.ok and report.legacy == old_events and report.keyed == 0
        ctx = make_ctx(store, clock, role="officer", username="tester")
        create_incident(ctx, IncidentInput(title="导入之后", category="malware",
                                           occurred_at=T0 - timedelta(minutes=5), discovered_at=T0))
        after = audit.verify(store)
        assert after.ok and after.keyed >= 1
        assert AuditEvent.select().where(AuditEvent.alg.is_null()).count() == old_events
    finally:
        store.close()
