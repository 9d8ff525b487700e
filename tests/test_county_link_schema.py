"""A school's link to a county server whose schema is behind this program (the bureau has not run
``county init`` since an upgrade): on connecting, the reason, clearly, on the board's line and from
the CLI's sync, instead of a database error at the first batch; the sender goes on trying, and once
``county init`` has run the waiting changes go (issue 19 follow-up)."""
import json
import threading
from zoneinfo import ZoneInfo

import psycopg
import pytest

from models.county import link, outbox, schema
from models.errors import DomainError
from models.i18n import t
from tests.conftest import run_cli
from tests.pgcluster import county, enrolled_school  # noqa: F401 (the fixture)


@pytest.fixture(autouse=True)
def _credential_in_a_file(monkeypatch):
    monkeypatch.setenv("XUEJI_DUTY_COUNTY_KEY", "file")


def _forget_newest_step(admin: str) -> str:
    with psycopg.connect(admin) as conn:
        names = json.loads(conn.execute("SELECT value FROM county.schema_meta WHERE key = %s",
                                        (schema.STEPS_KEY,)).fetchone()[0])
        gone = schema.step_names()[-1]
        conn.execute("UPDATE county.schema_meta SET value = %s WHERE key = %s",
                     (json.dumps([n for n in names if n != gone]), schema.STEPS_KEY))
    return gone


def test_a_server_behind_is_named_on_connecting_and_the_changes_go_after_init(county, tmp_path, clock):
    ctx = enrolled_school(county, tmp_path, "S001", clock, incidents=2)
    store = ctx.store
    gone = _forget_newest_step(county["admin"])
    with pytest.raises(DomainError) as raised:
        link.sync_once(store)
    assert raised.value.key == "county.error.schema_behind" and gone in raised.value.message
    # The app's sender: one failed round, then the board's line says why (not 县网不通).
    stop = threading.Event()
    link.run(store, stop, on_state=lambda state: stop.set(), backoff_max_s=0.01)
    text, level = link.line(store, ZoneInfo("Asia/Shanghai"))
    assert level == "error" and gone in text, text
    assert t("county.link.down", n=0).split("，")[0] not in text
    with store.read():
        waiting = outbox.pending(store)
    assert waiting >= 2
    # The CLI's sync: the message and exit 1, no traceback.
    r = run_cli("county", "sync", "--db", str(store.path))
    assert r.returncode == 1 and gone in r.stderr and "Traceback" not in r.stderr, r.stderr
    # The bureau runs county init: the same database sends what waited.
    schema.init(county["admin"])
    counts = link.sync_once(store)
    assert counts["pending"] == 0 and counts["sent"] >= waiting, counts
