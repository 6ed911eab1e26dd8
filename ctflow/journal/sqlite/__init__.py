"""The journal in one SQLite file: a laptop, or one machine, needs nothing else.

    store.py    the file, the schema, the connection (Store)
    uploads.py  the upload ledger
    sends.py    send idempotency keys
    audiences.py  each Audience's segment and the members last applied
    runs.py     runs, steps, specs, the lock: SqliteJournal, which has all of the above

Imports only the standard library, ``ctflow.errors`` and the journal's interface.
"""

from ctflow.journal.sqlite.runs import SqliteJournal
from ctflow.journal.sqlite.store import JOURNAL_NAME, SCHEMA_VERSION

__all__ = ["JOURNAL_NAME", "SCHEMA_VERSION", "SqliteJournal"]
