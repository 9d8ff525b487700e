"""A throw-away PostgreSQL cluster for the county tests: the real server, in a temp folder.

Debian's ``postgresql`` package gives ``initdb``, ``pg_ctl`` and ``postgres`` under
``/usr/lib/postgresql/<major>/bin``. The cluster runs as an unprivileged user (``initdb``
refuses root, and CI runs as root: then every server command goes through
``runuser -u postgres``), listens on 127.0.0.1 at a free port with password (SCRAM) logins,
and on a Unix socket in its folder where the superuser ``xj_admin`` is trusted. Without the
binaries the tests that need it skip, except under ``CI=true``, where they fail: CI installs
the package (``.ci/run``), so a missing server there is a broken CI, not a reason to skip.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

ADMIN = "xj_admin"


def _bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        real = Path(os.path.realpath(found)).parent
        if (real / "postgres").exists():
            return real
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if all((Path(candidate) / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One running cluster; ``stop()``/``start()`` keep its data (the server-down fault tests)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="xj-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.run_as = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.run_as = "postgres"
            shutil.chown(self.folder, user=self.run_as)
        self._initdb()

    def _cmd(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def _run(self, *args: str) -> None:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True, cwd=self.folder)
        if proc.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {proc.stdout}{proc.stderr}{log}")

    def _initdb(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", ADMIN, "--auth-local=trust",
                  "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.folder}'\nfsync = off\n"
                       "synchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
                       "password_encryption = 'scram-sha-256'\n")

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        proc = subprocess.run(self._cmd("pg_ctl", "-D", str(self.data), "status"),
                              capture_output=True, text=True)
        return proc.returncode == 0

    def destroy(self) -> None:
        if self.running():
            try:
                self.stop()
            except RuntimeError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    # -------------------------------------------------------------- addresses

    def admin_url(self, db: str = "postgres") -> str:
        """The superuser, over the socket in the cluster's folder (trusted)."""
        return f"postgresql://{ADMIN}@/{db}?host={quote(str(self.folder), safe='')}&port={self.port}"

    def url_for(self, user: str, password: str, db: str = "county") -> str:
        """A login over TCP with its password: how a school or the bureau connects."""
        return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/{db}"

    def new_database(self) -> str:
        """A new empty database (tests don't share state); its name."""
        import psycopg
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def require_cluster() -> Cluster:
    bindir = _bindir()
    if bindir is None:
        message = "PostgreSQL server binaries not found (Debian package postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — CI must install it (.ci/run)")
        pytest.skip(message)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("psycopg is not installed")
        pytest.skip("psycopg is not installed")
    cluster = Cluster(bindir)
    cluster.start()
    return cluster


@pytest.fixture(scope="session")
def pg():
    cluster = require_cluster()
    try:
        yield cluster
    finally:
        cluster.destroy()


SCHOOL_NAMES = {"S001": "海峰中学", "S002": "金龙中学", "S003": "龙华小学"}


def make_county(cluster: Cluster, schools: tuple[str, ...] = ("S001",), bureau: str | None = "jijiaoke") -> dict:
    """A county database of its own with ``schools`` registered (in that order; names from
    ``SCHOOL_NAMES``) and then the ``bureau``'s login, as ``county init``, ``add-school`` and
    ``add-bureau`` make them. Returns:

    ``db`` (its name), ``admin`` (the superuser's URL of it), ``url`` (host, port and database,
    no credential: what a school enrols against), ``pg`` (the cluster), ``bureau`` (the
    bureau's login URL), for each school code its login URL with the one-time secret, and
    ``secrets`` / ``roles``: {code: secret / role}.
    """
    from models.county import schema
    db = cluster.new_database()
    admin = cluster.admin_url(db)
    schema.init(admin)
    county = {"db": db, "admin": admin, "url": f"postgresql://{cluster.host}:{cluster.port}/{db}",
              "pg": cluster, "secrets": {}, "roles": {}}
    for code in schools:
        got = schema.add_school(admin, code, SCHOOL_NAMES[code])
        county["secrets"][code], county["roles"][code] = got["secret"], got["role"]
        county[code] = cluster.url_for(got["role"], got["secret"], db)
    if bureau is not None:
        county["bureau"] = cluster.url_for(bureau, schema.add_bureau(admin, bureau)["secret"], db)
    return county


@pytest.fixture
def county(pg):
    """A fresh county database, initialised: its name, the URL a school enrols with, the admin URL."""
    from models.county import schema
    db = pg.new_database()
    schema.init(pg.admin_url(db))
    return {"db": db, "url": f"postgresql://{pg.host}:{pg.port}/{db}", "admin": pg.admin_url(db), "pg": pg}


def enrolled_school(county: dict, tmp_path: Path, code: str, clock, incidents: int = 10):
    """A school database ``<code>.db`` in ``tmp_path`` with ``incidents`` recorded (grade IV), enrolled
    in ``county`` with its one-time secret; its Context."""
    from datetime import timedelta

    from models.county import link, schema
    from models.incidents import IncidentInput, create_incident
    from models.store import open_store
    from tests.conftest import T0, make_ctx
    got = schema.add_school(county["admin"], code, f"{code} 中学")
    store = open_store(tmp_path / f"{code}.db")
    ctx = make_ctx(store, clock)
    for i in range(incidents):
        create_incident(ctx, IncidentInput(title=f"{code} 事件 {i}", category="network_attack", grade="IV",
                                           occurred_at=T0 - timedelta(minutes=40),
                                           discovered_at=T0 - timedelta(minutes=20)))
    link.enrol(store, county["url"], code, got["secret"], ctx=ctx)
    return ctx
