"""Uploading events, profiles and device tokens at the account's ceiling, each batch once.

``sources`` reads files, ``shape`` turns rows into CleverTap records, ``rules`` says which may be
sent, ``batches`` groups and encodes them, ``engine`` sends them, ``ledger`` remembers what was
sent, ``job`` ties a file to all of that, ``report`` shows progress and the summary, and ``api``
is :func:`upload_records` for code.
"""
