"""``county init`` by a login that is not a superuser (countytrust): every county table has
forced row-level security, which binds the tables' owner too, so an init by the database's owner
(even one allowed to create roles, as a managed server's "admin" is) would make tables it could
never read a row of. Refused before anything changes, with a message naming what is needed,
exit 2 as for other usage errors, no traceback. A real PostgreSQL (fixture ``pg``)."""
import psycopg
import pytest

from tests.conftest import run_cli


def _owner(pg, name: str, *, createrole: bool) -> tuple[str, str]:
    """A login owning a database of its own (not a superuser); its URL and the database."""
    db = "t_" + name
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db}")
        conn.execute(f"DROP ROLE IF EXISTS {name}")
        conn.execute(f"CREATE ROLE {name} LOGIN PASSWORD 'owner-pw' {'CREATEROLE' if createrole else ''}")
        conn.execute(f"CREATE DATABASE {db} OWNER {name}")
    return pg.url_for(name, "owner-pw", db), db


def _untouched(pg, db: str) -> None:
    with psycopg.connect(pg.admin_url(db)) as conn:
        assert conn.execute("SELECT to_regnamespace('county')").fetchone()[0] is None
        assert conn.execute("SELECT to_regclass('county.schema_meta')").fetchone()[0] is None


@pytest.mark.parametrize("createrole", [True, False])
def test_init_by_the_databases_owner_is_refused_before_anything_changes(pg, createrole):
    name = "xj_owner_cr" if createrole else "xj_owner_plain"
    url, db = _owner(pg, name, createrole=createrole)
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        roles_before = conn.execute("SELECT rolname FROM pg_roles ORDER BY 1").fetchall()
    for lang, needed in (("zh", "超级用户"), ("en", "superuser")):
        r = run_cli("county", "init", "--url", url, "--lang", lang)
        out = r.stdout + r.stderr
        assert r.returncode == 2, out
        assert needed in out and name in out and "Traceback" not in out, out
        assert "county init" in out
    _untouched(pg, db)
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        assert conn.execute("SELECT rolname FROM pg_roles ORDER BY 1").fetchall() == roles_before
    # The superuser's login on the same database: initialised, and the board reads it.
    r = run_cli("county", "init", "--url", pg.admin_url(db), "--json")
    assert r.returncode == 0, r.stderr
