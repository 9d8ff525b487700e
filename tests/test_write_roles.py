"""Issue 13, item 4: every writing service checks the role itself, before it reads its arguments.

The services are found, not listed: every top-level function in ``models/`` that opens
``store.write()``, and every public function that calls such a private helper of its module.
Each is called as a viewer with placeholder arguments and must refuse with
``PermissionDenied`` — and leave the database as it was. The few that a viewer may
legitimately call (logging in, their own unsaved drafts, the program's own seeding) are
named below with the reason; a new writing service that is not here must refuse a viewer.
"""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from models import accounts
from models.errors import PermissionDenied
from models.tables import AuditEvent, Draft, User
from tests.conftest import make_ctx
from tests.db_templates import copy_of

MODELS = Path(__file__).resolve().parent.parent / "models"
PW = "Haifeng-2026"

# Writers a viewer may call, and why. Everything else must refuse a viewer.
VIEWER_MAY = {
    "accounts.authenticate": "logging in is how a viewer becomes someone",
    "accounts.bootstrap_admin": "only on a database without accounts (refused once anyone exists)",
    "accounts.login_with_token": "holding the remembered token is the authority",
    "accounts.revoke_token": "holding the token is the authority (logging out)",
    "accounts.record_logout": "the viewer's own session",
    "accounts.record_lock": "the viewer's own session",
    "accounts.unlock_local": "the OS user owning the file; checks that itself (test_lockout.py)",
    "alarms.fire": "the program's deadline watcher, in whichever session is open",
    "calls.save_call_draft": "the caller's own unsaved form (Draft, keyed by owner), not the record",
    "calls.drop_call_draft": "the caller's own unsaved form",
    "checks.save_form_draft": "the caller's own unsaved form",
    "checks.discard_form_draft": "the caller's own unsaved form",
    "checks.seed_defaults": "the shipped prevention duties, seeded once by the program",
    "contacts.ensure_seeded": "one empty row per role, seeded once by the program",
    "contacts.seed_if_possible": "the same seeding, for a reader",
    "backup.run_auto_backup": "the program's daily backup, in whichever session is open",
    "reports.open_report": "a read when the report exists; starting a new draft refuses a viewer (below)",
    "drafts.save_draft": "the caller's own unsaved form",
    "drafts.discard_draft": "the caller's own unsaved form",
    "reports.stash_conflict": "the caller's own losing text after a conflict (Draft)",
    "reports.drop_stash": "the caller's own stash",
    "export.import_into": "takes no actor: only into an empty database (a new one, from the CLI)",
    "setup.first_run": "only on a database without accounts (refused once anyone exists)",
    "integrity.check_history": "rebuilds only the derived grade history (models.fact_history) from the "
                               "audit trail when it differs, never a record: the check's own repair",
    "integrity.run_checks": "the same repair, inside `xueji-duty check` (full form only)",
    "integrity.startup_check": "the quick form: no history check, so nothing is written",
    # Not a service but the engine services write through, after their own role check:
    "merge.merge_save": "the field-level merge; takes a model class, called by editing services after require()",
}


def _writers() -> dict[str, tuple[str, str]]:
    """{'module.function': (module, function)} of every writing service."""
    found: dict[str, tuple[str, str]] = {}
    for path in sorted(MODELS.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "store.write()" not in text:
            continue
        tree = ast.parse(text)
        funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        writes = {name for name, n in funcs.items() if "store.write()" in (ast.get_source_segment(text, n) or "")}
        changed = True
        while changed:   # public (and private) callers of a writing helper write too
            changed = False
            for name, n in funcs.items():
                if name in writes:
                    continue
                called = {c.func.id for c in ast.walk(n) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
                if called & writes:
                    writes.add(name)
                    changed = True
        for name in writes:
            if not name.startswith("_"):
                found[f"{path.stem}.{name}"] = (path.stem, name)
    return found


WRITERS = _writers()


def test_the_enumeration_finds_the_writing_services():
    assert len(WRITERS) >= 40
    for known in ("alarms.acknowledge", "incidents.create_incident", "accounts.set_role", "contacts.add_contact",
                  "evidence.add_evidence", "reports.submit", "school.save_school_settings", "export.export_to",
                  "backup.create_backup", "incidents.close_incident" if "incidents.close_incident" in WRITERS
                  else "incidents.update_incident"):
        assert known in WRITERS, known
    stale = set(VIEWER_MAY) - set(WRITERS)
    assert not stale, f"allowed writers that no longer exist: {stale}"


def _make_accounts(path: Path) -> None:
    from models.store import open_store
    from tests.conftest import T0, FixedClock
    store = open_store(path)
    try:
        clock = FixedClock(T0)
        accounts.bootstrap_admin(make_ctx(store, clock, username="-"), "admin", "王校长", PW)
        admin = make_ctx(store, clock, role="admin", username="admin")
        accounts.create_user(admin, "guest", "viewer", "", "Guest-pass-2026")
    finally:
        store.close()


@pytest.fixture
def db_path(tmp_path_factory, tmp_path):
    """Overrides conftest's: a copy of the database holding the admin and the viewer ``guest``,
    made once (two scrypt verifiers, slow on purpose, were ~1.3 s of each of these 40 tests)."""
    return copy_of("test_write_roles.viewer", "duty.db", _make_accounts, tmp_path_factory, tmp_path)


@pytest.fixture
def viewer(store, clock):
    assert {u.username: u.role for u in User.select()} == {"admin": "admin", "guest": "viewer"}
    return make_ctx(store, clock, role="viewer", username="guest")


def _placeholder(param: inspect.Parameter):
    # A service that checks the role first never looks at these.
    if param.name in ("username", "user"):
        return "admin"
    return None


@pytest.mark.parametrize("name", sorted(set(WRITERS) - set(VIEWER_MAY)))
def test_every_writing_service_refuses_a_viewer(name, viewer, store):
    module, func = WRITERS[name]
    fn = getattr(importlib.import_module(f"models.{module}"), func)
    sig = inspect.signature(fn)
    args = []
    params = list(sig.parameters.values())
    assert params and params[0].name == "ctx", f"{name} does not take the actor's context first"
    for p in params[1:]:
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(_placeholder(p))
    kwargs = {p.name: _placeholder(p) for p in params[1:]
              if p.kind is p.KEYWORD_ONLY and p.default is inspect.Parameter.empty}
    events = AuditEvent.select().count()
    drafts = Draft.select().count()
    with pytest.raises(PermissionDenied):
        fn(viewer, *args, **kwargs)
    assert AuditEvent.select().count() == events and Draft.select().count() == drafts


def test_an_officer_acknowledges_alarms_a_viewer_cannot(viewer, store, clock):
    from models import alarms
    officer = make_ctx(store, clock, role="officer", username="admin")
    assert alarms.acknowledge(officer, 1, "edu", "first", 1) == 0   # nothing to silence, but allowed
    with pytest.raises(PermissionDenied):
        alarms.acknowledge(viewer, 1, "edu", "first", 1)


def test_a_viewer_may_look_at_a_report_but_not_start_one(viewer, store, clock):
    from datetime import timedelta

    from models import reports
    from models.incidents import IncidentInput, create_incident
    officer = make_ctx(store, clock, role="officer", username="admin")
    inc = create_incident(officer, IncidentInput(title="病毒", category="malware",
                                                 occurred_at=clock.now() - timedelta(hours=1),
                                                 discovered_at=clock.now()))
    stage = next(iter(reports.all_stages(officer)))
    with pytest.raises(PermissionDenied):
        reports.open_report(viewer, inc.id, stage.regime, stage.id)
    made = reports.open_report(officer, inc.id, stage.regime, stage.id)
    assert reports.open_report(viewer, inc.id, stage.regime, stage.id).id == made.id
