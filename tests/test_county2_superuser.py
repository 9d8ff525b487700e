"""``county add-school`` / ``county add-bureau`` by a login that is not a superuser (county2): they
create login roles and write county tables under forced row-level security, which only a
superuser may. Refused before anything changes, naming what is needed, exit 2 as ``county init``
(commit 12cee3a), no traceback; before, a generic server error (exit 1) from halfway through.
A real PostgreSQL (fixture ``pg``)."""
import json

import psycopg
import pytest

from tests.conftest import run_cli
from tests.pgcluster import make_county


def _roles(pg):
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        return conn.execute("SELECT rolname FROM pg_roles ORDER BY 1").fetchall()


def _schools(county):
    with psycopg.connect(county["admin"]) as conn:
        return conn.execute("SELECT code FROM county.school ORDER BY 1").fetchall()


def _owner_url(pg, county, name):
    """A login owning the county's database and allowed to create roles (a managed server's admin)."""
    with psycopg.connect(pg.admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP ROLE IF EXISTS {name}")
        conn.execute(f"CREATE ROLE {name} LOGIN CREATEROLE PASSWORD 'owner-pw'")
        conn.execute(f"ALTER DATABASE {county['db']} OWNER TO {name}")
    return pg.url_for(name, "owner-pw", county["db"])


@pytest.mark.parametrize("who", ["school", "bureau", "owner"])
def test_add_school_and_add_bureau_by_a_non_superuser_are_refused_before_anything_changes(pg, who):
    county = make_county(pg, ("S001",))
    url = {"school": lambda: county["S001"], "bureau": lambda: county["bureau"],
           "owner": lambda: _owner_url(pg, county, "xj_c2_owner")}[who]()
    user = {"school": county["roles"]["S001"], "bureau": "jijiaoke", "owner": "xj_c2_owner"}[who]
    roles, schools = _roles(pg), _schools(county)
    for args in (("add-school", "S777", "新学校"), ("add-bureau", "xj_c2_new")):
        for lang, needed in (("zh", "超级用户"), ("en", "superuser")):
            r = run_cli("county", *args, "--url", url, "--lang", lang)
            out = r.stdout + r.stderr
            assert r.returncode == 2, out
            assert needed in out and user in out and f"county {args[0]}" in out, out
            assert "Traceback" not in out and "服务器出错" not in out and "reported an error" not in out, out
    assert _roles(pg) == roles and _schools(county) == schools
    # The superuser's login still registers both.
    r = run_cli("county", "add-school", "S777", "新学校", "--url", county["admin"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["school"] == "S777", r.stderr
    r = run_cli("county", "add-bureau", "xj_c2_new", "--url", county["admin"], "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["user"] == "xj_c2_new", r.stderr
