"""Headless domain of the Xueji Duty Desk.

Nothing in this package may import Textual or Rich: the CLI, the tests and
any future front end use the same rules. ``tests/test_import_hygiene.py``
holds the line.
"""


def _peewee_without_postgres_drivers() -> None:
    """Import peewee (and playhouse.migrate) with the PostgreSQL drivers hidden from them.

    peewee and playhouse.migrate (through its CockroachDB and postgres_ext support) import every
    PostgreSQL driver they can find the moment they are imported, each in a try/except; with psycopg
    installed (the county view needs it) that cost ~0.2 s on every start of the app and every CLI
    run, on the registry terminal too, which never talks to PostgreSQL. We never use peewee for
    PostgreSQL (the county code, models/county, calls psycopg itself), so the drivers are hidden
    only while peewee is imported and stay importable for the county code afterwards.
    """
    import sys
    if "peewee" in sys.modules:
        return
    hidden = [name for name in ("psycopg", "psycopg2", "psycopg2cffi") if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None      # type: ignore[assignment]  # makes ``import name`` fail fast
    try:
        import peewee  # noqa: F401
        import playhouse.migrate  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]


_peewee_without_postgres_drivers()
