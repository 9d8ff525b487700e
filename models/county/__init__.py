"""The county view (issue 19): the bureau's PostgreSQL copy of every school's deadlines.

Each school's own SQLite file stays the authority; the county receives a copy through the
school's transactional outbox (``outbox``, ``link``), keyed by (school, record, version), and
sends receipts back. Only this package imports psycopg, and only when a county command or the
link runs: a school that never enrols needs neither PostgreSQL nor psycopg.
"""
