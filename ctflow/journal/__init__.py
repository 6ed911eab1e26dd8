"""The local journal (``.ctflow/journal.db``): what the API cannot tell ctflow.

Owns the audit trail of runs and their steps (each intent committed before its API call), the
last-applied spec of each campaign version, the campaigns ctflow itself stopped, the upload ledger
(each batch's state, and which files were uploaded whole), the lock that keeps two applies on
one machine apart, and the idempotency keys of sends (each recorded before its call and after).
Imports only the standard library and ``ctflow.errors``; the caller passes user, host and git
commit in.

    store.py    the file, the schema, the connection (Store)
    uploads.py  the upload ledger (UploadLedger)
    sends.py    send idempotency keys (SendKeys)
    runs.py     runs, steps, specs, the lock: Journal, which has all of the above
"""

from ctflow.journal.runs import Journal
from ctflow.journal.store import JOURNAL_NAME, SCHEMA_VERSION, Holder

__all__ = ["JOURNAL_NAME", "SCHEMA_VERSION", "Holder", "Journal"]
