"""ctflow: manage a CleverTap account as code."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.2.0"

if TYPE_CHECKING:  # what type checkers see; at run time they are imported on first use
    from ctflow.send.api import LoadedProject, SendFailed, SendResult, load_project
    from ctflow.upload.api import Account, UploadIncomplete, UploadSummary, upload_records
    from ctflow.upload.ledger import JournalLedger, Ledger, MemoryLedger


__all__ = [
    "Account",
    "JournalLedger",
    "Ledger",
    "LoadedProject",
    "MemoryLedger",
    "SendFailed",
    "SendResult",
    "UploadIncomplete",
    "UploadSummary",
    "load_project",
    "upload_records",
]


def __getattr__(name: str) -> object:
    """The upload and send APIs, imported on first use so that ``ctflow --help`` stays quick."""
    if name in ("Account", "UploadIncomplete", "UploadSummary", "upload_records"):
        from ctflow.upload import api

        return getattr(api, name)
    if name in ("JournalLedger", "Ledger", "MemoryLedger"):
        from ctflow.upload import ledger

        return getattr(ledger, name)
    if name in ("LoadedProject", "SendFailed", "SendResult", "load_project"):
        from ctflow.send import api as send_api

        return getattr(send_api, name)
    raise AttributeError(f"module 'ctflow' has no attribute {name!r}")
