"""JSON export → import → export gives the same bytes; the audit chain still verifies."""
import json

import pytest

from models.migrations import CURRENT_SCHEMA
from models import audit
from models.export import ExportError, build_export, dumps, import_into, load
from models.store import open_store
from models.tables import ALL_MODELS, AuditEvent
from tests.conftest import run_cli
from tests.safety_data import dump, files_of, populate


def test_every_table_in_the_database_is_in_the_export(ctx):
    populate(ctx)
    data = build_export(ctx.store)
    in_db = {r[0] for r in ctx.store.db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'").fetchall()}
    assert set(data["tables"]) == in_db == {m._meta.table_name for m in ALL_MODELS}
    assert data["format_version"] == 1 and data["schema_version"] == CURRENT_SCHEMA
    assert len(data["evidence"]) == 3


def test_export_import_export_is_identical_and_the_chain_verifies(ctx, db_path, tmp_path):
    populate(ctx)
    ctx.store.close()
    first = tmp_path / "one.json"
    r = run_cli("export", "--format", "json", "-o", str(first), "--user", "tester", "--db", str(db_path))
    assert r.returncode == 0, r.stderr
    assert "个人信息" in r.stdout
    new_db = tmp_path / "new" / "duty.db"
    r = run_cli("import", str(first), "--db", str(new_db))
    assert r.returncode == 1 and "--audit-key" in r.stderr      # a keyed trail needs its key (issue 13)
    r = run_cli("import", str(first), "--db", str(new_db), "--audit-key", str(db_path) + ".key")
    assert r.returncode == 0, r.stderr
    assert "事件 3 个" in r.stdout and "证据文件 3 个" in r.stdout
    second = tmp_path / "two.json"
    r = run_cli("export", "-o", str(second), "--user", "tester", "--db", str(new_db))
    assert r.returncode == 0, r.stderr
    assert first.read_bytes() == second.read_bytes()
    # The imported database is the source as it was at export time (the export's own audit
    # event was appended to the source afterwards).
    src, dst = dump(db_path), dump(new_db)
    assert src["audit_event"][-1][4] == "data.export"
    assert dst["audit_event"][:-1] == src["audit_event"][:-1]
    assert {k: v for k, v in dst.items() if k != "audit_event"} == {k: v for k, v in src.items() if k != "audit_event"}
    assert files_of(tmp_path / "new" / "duty-evidence") == files_of(db_path.parent / "duty-evidence")
    s = open_store(new_db)
    assert audit.verify().ok
    s.close()
    r = run_cli("audit", "verify", "--db", str(new_db))
    assert r.returncode == 0


def test_import_refuses_a_database_that_is_not_empty(ctx, tmp_path):
    populate(ctx, 1)
    data = build_export(ctx.store)
    before = AuditEvent.select().count()
    with pytest.raises(ExportError) as exc:
        import_into(ctx.store, data)
    assert exc.value.key == "export.error.not_empty"
    assert AuditEvent.select().count() == before


@pytest.mark.parametrize("damage, key", [
    (lambda d: d.update(format="something"), None),
    (lambda d: d.update(schema_version=99), "export.error.schema"),
    (lambda d: d["tables"].update(mystery={"columns": ["x"], "rows": [[1]]}), "export.error.unknown_table"),
    (lambda d: d["tables"]["incident"]["rows"][0].append(1), "export.error.columns"),
    (lambda d: d["tables"]["incident"].update(rows=[]), "export.error.references"),
    (lambda d: d["tables"]["incident"]["rows"].append(d["tables"]["incident"]["rows"][0]), "export.error.bad_file"),
    (lambda d: d["evidence"][0].update(data=d["evidence"][1]["data"]), "export.error.evidence_hash"),
    (lambda d: d["evidence"][0].update(path="../../etc/passwd"), "export.error.bad_file"),
])
def test_a_doubtful_file_imports_nothing(ctx, tmp_path, damage, key):
    populate(ctx)
    data = json.loads(dumps(build_export(ctx.store)))
    ctx.store.close()
    damage(data)
    target = tmp_path / "t" / "duty.db"
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    if key is None:
        with pytest.raises(ExportError):
            load(f)
        return
    s = open_store(target)
    with pytest.raises(ExportError) as exc:
        import_into(s, load(f))
    assert exc.value.key == key
    assert all(not m.select().exists() for m in ALL_MODELS if m._meta.table_name != "schema_meta")
    assert s.identity                                  # the empty database is still whole
    assert not (target.parent / "duty-evidence").exists()
    assert not list(target.parent.glob(".xjimport-*"))
    s.close()


def test_cli_import_of_a_broken_file_says_so(tmp_path):
    f = tmp_path / "x.json"
    f.write_text("{not json", encoding="utf-8")
    r = run_cli("import", str(f), "--db", str(tmp_path / "n.db"))
    assert r.returncode == 1 and "不是可用的导出文件" in r.stderr and "Traceback" not in r.stderr
