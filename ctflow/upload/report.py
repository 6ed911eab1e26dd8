"""How an upload shows itself: a progress bar or progress lines while it runs, a summary after.

Progress goes to stderr: a rich bar (records, rate, ETA) on a terminal, otherwise one plain line
every few seconds, which is what a CI log wants. The summary goes to stdout, as text or JSON.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ctflow.errors import ExitCode
from ctflow.upload.engine import BatchRef, Tally

PLAIN_EVERY = 5.0


@dataclass(frozen=True)
class FileResult:
    source: str
    kind: str
    dataset: str | None
    batch_prefix: str
    dead_letter: str | None
    tally: Tally


class Progress:
    """Started per file; ``update(tally)`` after every batch."""

    def __init__(self, err: TextIO, *, terminal: bool, every: float = PLAIN_EVERY) -> None:
        self.err = err
        self.terminal = terminal
        self.every = every
        self._bar: Any = None
        self._task: Any = None
        self._last = 0.0
        self._name = ""
        self._total: int | None = None

    def start(self, name: str, total: int | None) -> None:
        self._name = name
        self._total = total
        self._last = time.monotonic()
        if not self.terminal:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as Bar,
        )

        self._bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.err),
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(name, total=total, rate="")

    def update(self, tally: Tally) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=tally.rows, rate=f"{tally.rate:,.0f} rec/s")
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self.err.write(f"ctflow: {self._name}: {_line(tally)}\n")
            self.err.flush()

    def finish(self, tally: Tally, *, complete: bool) -> None:
        """The last drawing: a file read to its end is 100% of its rows, one stopped early (an
        interruption, CleverTap unavailable) the part of the file it reached."""
        if self._bar is not None:
            total = tally.rows if complete else self._total
            self._bar.update(self._task, completed=tally.rows, total=total)
            self._bar.stop()
            self._bar = None


def _line(tally: Tally) -> str:
    return (
        f"{tally.rows:,} rows read, {tally.accepted:,} sent, "
        f"{tally.rejected_local + tally.rejected_remote:,} rejected, "
        f"{tally.rate:,.0f} records/s"
    )


def to_json(results: Sequence[FileResult]) -> dict[str, Any]:
    files = [_file_json(r) for r in results]
    keys = (
        "rows",
        "accepted",
        "rejected_locally",
        "rejected_by_clevertap",
        "already_uploaded",
        "retried",
    )
    total = {key: sum(f[key] for f in files) for key in keys}
    elapsed = sum(r.tally.elapsed for r in results)
    total["elapsed_seconds"] = round(elapsed, 3)
    total["records_per_second"] = round(total["accepted"] / elapsed, 1) if elapsed else 0.0
    total["ambiguous_batches"] = sum(len(f["ambiguous_batches"]) for f in files)
    total["unavailable"] = any(f["unavailable"] for f in files)
    total["interrupted"] = any(f["interrupted"] for f in files)
    return {"files": files, "total": total}


def _file_json(result: FileResult) -> dict[str, Any]:
    t = result.tally
    rtt = t.round_trip
    return {
        "file": result.source,
        "kind": result.kind,
        "dataset": result.dataset,
        "batch_prefix": result.batch_prefix,
        "rows": t.rows,
        "accepted": t.accepted,
        "rejected_locally": t.rejected_local,
        "rejected_by_clevertap": t.rejected_remote,
        "already_uploaded": t.skipped_rows,
        "batches_sent": t.batches_sent,
        "batches_already_uploaded": t.batches_skipped,
        "requests": t.requests,
        "retried": t.retries,
        "rate_limited": t.rate_limited,
        "resent_ambiguous": t.resent,
        "mean_round_trip_ms": None if rtt is None else round(rtt * 1000, 1),
        "elapsed_seconds": round(t.elapsed, 3),
        "records_per_second": round(t.rate, 1),
        "ambiguous_batches": [b.to_json() for b in t.ambiguous],
        "failed_batches": [b.to_json() for b in t.failed],
        "unavailable": t.unavailable,
        "interrupted": t.interrupted,
        "dead_letter": result.dead_letter,
    }


def text(results: Sequence[FileResult], *, env_flag: str) -> str:
    out: list[str] = []
    for result in results:
        t = result.tally
        rejected = t.rejected_local + t.rejected_remote
        head = result.source + (f" (dataset {result.dataset})" if result.dataset else "")
        out.append(head)
        out.append(
            f"  sent {t.accepted:,} of {t.rows:,} rows in {t.elapsed:.1f}s "
            f"({t.rate:,.0f} records/s)"
        )
        if t.skipped_rows:
            out.append(
                f"  already uploaded: {t.skipped_rows:,} rows, in batches an earlier run "
                "delivered (skipped)"
            )
        out.append(
            f"  rejected: {t.rejected_local:,} by ctflow, {t.rejected_remote:,} by CleverTap"
        )
        if rejected and result.dead_letter:
            out.append(f"    each with its line and reason in {result.dead_letter}")
        if t.retries:
            out.append(f"  retried: {t.retries:,} calls ({t.rate_limited:,} for 429)")
        if t.ambiguous:
            out.extend(_ambiguous(t.ambiguous, result.source, env_flag, result.kind))
        if t.interrupted:
            out.append("  interrupted: run the same command again to send the rest")
        if t.journal_lost:
            out.append(
                f"  stopped: {t.journal_lost}; no further batch was sent. Run the same command "
                "again once the journal is back"
            )
        elif t.unavailable:
            out.append(
                f"  stopped: {t.unavailable}; {len(t.failed)} batch(es) not sent. "
                "Run the same command again to continue from there"
            )
    return "\n".join(out) + "\n"


def _ambiguous(refs: Sequence[BatchRef], source: str, env_flag: str, kind: str) -> list[str]:
    lines = [
        f"  ambiguous: {len(refs)} batch(es) were sent but their outcome is unknown (the answer "
        "was lost, or was an error that does not say whether the batch was processed); "
        "CleverTap may or may not hold them, and it does not deduplicate events, so they were "
        "not sent again:"
    ]
    for ref in refs[:10]:
        lines.append(f"    {ref.id}: lines {ref.first_line}-{ref.last_line}, {ref.records} records")
    if len(refs) > 10:
        lines.append(f"    … and {len(refs) - 10} more (--format json lists them all)")
    command = f"ctflow upload {kind}{env_flag} {source}"
    lines.append(
        "  Check whether they arrived (export or count that event over those rows' dates), then "
        "run "
        f"`{command} --resend-ambiguous` if they are missing, or `{command} --accept-ambiguous` "
        "if they arrived; if only some arrived, name each batch (by id or line range): "
        f"`{command} --accept-ambiguous BATCH... --resend-ambiguous BATCH...` "
        f"(`{command} --ambiguous` lists them)"
    )
    return lines


OUTCOMES = {0: "ok", 3: "rejected", 5: "unavailable", 6: "ambiguous"}


def exit_code(summary: dict[str, Any]) -> int:
    """5 when CleverTap stayed unavailable, 6 when batches are ambiguous, 3 when records were
    rejected, else 0."""
    total = summary["total"]
    if total["unavailable"]:
        return ExitCode.UNAVAILABLE
    if total["ambiguous_batches"]:
        return ExitCode.GATED
    if total["rejected_locally"] or total["rejected_by_clevertap"]:
        return ExitCode.INVALID
    return ExitCode.OK
