"""Evidence: registered with hash and size, copied or referenced, re-verified; notes and drafts."""
import hashlib
import json
from datetime import timedelta

import pytest

from models import audit
from models.drafts import discard_draft, load_draft, save_draft
from models.errors import PermissionDenied, ValidationError
from models.evidence import add_evidence, evidence_for, verify
from models.incidents import IncidentInput, create_incident
from models.notes import add_note, notes_for
from models.tables import Evidence
from tests.conftest import T0, make_ctx, run_cli


@pytest.fixture
def inc(ctx):
    return create_incident(ctx, IncidentInput(title="学籍导出文件外泄", category="data_security",
                                              occurred_at=T0 - timedelta(minutes=30), discovered_at=T0))


def test_copy_keeps_hash_size_custody_and_audit(ctx, inc, tmp_path):
    src = tmp_path / "login.log"
    src.write_bytes(b"2026-11-25 09:31 login from 203.0.113.9\n" * 1000)
    ev = add_evidence(ctx, inc.id, src, copy=True, note="教务处电脑导出，U盘交值班室")
    assert ev.sha256 == hashlib.sha256(src.read_bytes()).hexdigest() and ev.size == src.stat().st_size
    stored = ctx.store.evidence_dir / ev.stored_path
    assert stored.read_bytes() == src.read_bytes() and stored.parent.name == inc.code
    assert ev.collected_by == "tester" and ev.collected_at == T0
    last = audit.events_for("incident", inc.id)[0]
    assert last.action == "evidence.add" and last.changes["sha256"][1] == ev.sha256
    assert last.reason == "教务处电脑导出，U盘交值班室"
    # The same name again does not overwrite the first copy.
    ev2 = add_evidence(ctx, inc.id, src, copy=True)
    assert ev2.stored_path != ev.stored_path and [e.id for e in evidence_for(inc)] == [ev.id, ev2.id]


def test_verify_reports_changed_and_missing(ctx, inc, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("original")
    b.write_text("kept in place")
    add_evidence(ctx, inc.id, a, copy=True)
    ref = add_evidence(ctx, inc.id, b)
    assert [c.status for c in verify(ctx)] == ["ok", "ok"]
    a.write_text("changed after copying")            # the copy is what counts
    assert [c.status for c in verify(ctx, inc.code)] == ["ok", "ok"]
    b.write_text("tampered")
    stored = ctx.store.evidence_dir / evidence_for(inc)[0].stored_path
    stored.unlink()
    checks = verify(ctx, inc.id)
    assert [c.status for c in checks] == ["missing", "changed"]
    assert checks[1].evidence.id == ref.id and checks[1].sha256 != ref.sha256


def test_bad_paths_and_roles_are_refused_without_leftovers(ctx, store, clock, inc, tmp_path):
    with pytest.raises(ValidationError) as exc:
        add_evidence(ctx, inc.id, tmp_path / "nope.bin", copy=True)
    assert "path" in exc.value.fields
    with pytest.raises(ValidationError):
        add_evidence(ctx, inc.id, tmp_path)            # a folder
    with pytest.raises(ValidationError):
        add_evidence(ctx, inc.id, "  ")
    f = tmp_path / "x.bin"
    f.write_bytes(b"x")
    with pytest.raises(PermissionDenied):
        add_evidence(make_ctx(store, clock, role="viewer"), inc.id, f, copy=True)
    assert Evidence.select().count() == 0
    assert not (ctx.store.evidence_dir / inc.code).exists() or not any((ctx.store.evidence_dir / inc.code).iterdir())


def test_notes_are_audited_and_newest_first(ctx, clock, inc):
    add_note(ctx, inc.id, "已断网")
    clock.advance(minutes=5)
    add_note(ctx, inc.code, "已联系县教育局\x1b[2J")
    assert [n.text for n in notes_for(inc)] == ["已联系县教育局[2J", "已断网"]
    assert audit.events_for("incident", inc.id)[0].action == "note.add"
    with pytest.raises(ValidationError):
        add_note(ctx, inc.id, "   ")
    assert audit.verify().ok


def test_drafts_are_per_user_and_replaced(ctx, store, clock):
    save_draft(ctx, "new_incident", {"title": "a"})
    save_draft(ctx, "new_incident", {"title": "ab"})
    other = make_ctx(store, clock, username="li")
    assert load_draft(ctx, "new_incident") == {"title": "ab"}
    assert load_draft(other, "new_incident") is None
    discard_draft(ctx, "new_incident")
    assert load_draft(ctx, "new_incident") is None


def test_cli_add_list_verify(tmp_path):
    db = str(tmp_path / "cli.db")
    assert run_cli("init", "--school", "海峰中学", "--db", db).returncode == 0
    r = run_cli("incident", "new", "--title", "t", "--category", "malware", "--occurred", "-10m",
                "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr
    f = tmp_path / "screen.png"
    f.write_bytes(b"\x89PNG fake")
    r = run_cli("evidence", "add", "1", str(f), "--copy", "--note", "截图", "--json", "--user", "zhang", "--db", db)
    assert r.returncode == 0, r.stderr
    added = json.loads(r.stdout)
    assert added["sha256"] == hashlib.sha256(f.read_bytes()).hexdigest() and added["copied"] is True
    g = tmp_path / "in-place.txt"
    g.write_text("log")
    assert run_cli("evidence", "add", "1", str(g), "--user", "zhang", "--db", db).returncode == 0
    listed = json.loads(run_cli("evidence", "list", "1", "--json", "--db", db).stdout)
    assert [e["copied"] for e in listed] == [True, False] and listed[0]["custody_note"] == "截图"
    r = run_cli("evidence", "verify", "--db", db)
    assert r.returncode == 0 and "2" in r.stdout
    g.write_text("log, edited")
    r = run_cli("evidence", "verify", "1", "--db", db)
    assert r.returncode == 1 and "已改动" in r.stdout and str(g) in r.stdout
    g.unlink()
    r = run_cli("--lang", "en", "evidence", "verify", "--json", "--db", db)
    assert r.returncode == 1 and [c["status"] for c in json.loads(r.stdout)] == ["ok", "missing"]
    r = run_cli("evidence", "add", "1", str(tmp_path / "none"), "--user", "zhang", "--db", db)
    assert r.returncode == 1 and "文件不存在" in r.stderr and "Traceback" not in r.stderr
