"""The journal in a PostgreSQL database, shared by CI runners, service replicas and cluster
workers (``pip install 'ctflow[postgres]'``: psycopg 3).

    schema.py   the tables, in a schema of their own, created and upgraded by version
    journal.py  PgJournal: the Journal protocol over one connection
"""

from ctflow.journal.postgres.journal import PgJournal

__all__ = ["PgJournal"]
