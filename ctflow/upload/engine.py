"""Sending batches at the account's ceiling: up to 15 calls in flight, each batch exactly once.

One producer prepares batches (the CPU work: reading, checking, encoding) a little ahead of the
senders; at most ``concurrency`` calls are in flight, and a few senders more than that wait to
take a call slot the moment one frees. Every batch is marked ``sending`` in the ledger (holding
its call slot) just before its call, and settled after it (the slot already free for the next
call), so a crash leaves an exact record of what may have reached CleverTap.

What an answer means (clevertap-api.md §1.3, §1.4, §2.2, §2.3; the client's table in
``ctflow.clevertap.retry``):
- 200: accepted; the records CleverTap lists in ``unprocessed`` go to the dead-letter file.
- 429, no connection: not processed; sent again after a backoff, and a 429 also lowers the
  number of calls in flight for a while (other workers may share the account's 15).
- a lost answer or a 5xx (503 included): may have been processed. Profiles and tokens are
  upserts and are sent again; events are not (CleverTap does not deduplicate them) unless
  ``resend_ambiguous``: the batch is reported ambiguous.
- 400: CleverTap refused the batch whole; every record of it goes to the dead-letter file.
- 401/403: stop; nothing more is sent.
A batch that cannot be sent for ``give_up_after`` seconds stops the upload: CleverTap is
unavailable, and a re-run continues from there. A ledger that cannot be written (the journal
was lost) stops it too: no batch is sent unrecorded, and those whose answer could not be
recorded are reported ambiguous, as the ledger still says they are ``sending``.
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ctflow.clevertap import CleverTap, RetryPolicy
from ctflow.clevertap.errors import (
    AmbiguousOutcomeError,
    AuthError,
    CleverTapError,
    InvalidRequest,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from ctflow.clevertap.models import UploadResult
from ctflow.errors import JournalUnavailable
from ctflow.journal import BatchState
from ctflow.upload.batches import Batch, Reject, Skipped
from ctflow.upload.durable import DeadLetter, Recorder
from ctflow.upload.ledger import ACCEPTED, AMBIGUOUS, FAILED, SENDING, SETTLED, Ledger

ONE_ATTEMPT = RetryPolicy(attempts=1)
MAX_CONCURRENCY = 15  # clevertap-api.md §1.4: 15 concurrent upload calls per account


GIVE_UP_AFTER = 300.0
"""Seconds a batch is retried while CleverTap cannot be reached (or keeps answering 429)."""


@dataclass(frozen=True)
class Options:
    concurrency: int = MAX_CONCURRENCY
    resend_ambiguous: bool = False
    """Send again every batch an earlier run lost the answer of, and any whose answer is lost
    now."""
    accept_ambiguous: bool = False
    """Count every batch an earlier run lost the answer of as arrived."""
    resend_batches: frozenset[str] = frozenset()
    """These batches of an earlier run only (ids), sent again."""
    accept_batches: frozenset[str] = frozenset()
    """These batches of an earlier run only (ids), counted as arrived."""
    give_up_after: float = GIVE_UP_AFTER
    backoff_initial: float = 0.5
    backoff_max: float = 20.0

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be 1 to {MAX_CONCURRENCY}: {self.concurrency}")


@dataclass(frozen=True)
class BatchRef:
    """A batch named for the user: its id and the lines it covers."""

    id: str
    first_line: int | None
    last_line: int | None
    records: int

    def to_json(self) -> dict[str, Any]:
        return {
            "batch": self.id,
            "first_line": self.first_line,
            "last_line": self.last_line,
            "records": self.records,
        }


@dataclass
class Tally:
    """What an upload did so far; the summary is read from it."""

    rows: int = 0
    accepted: int = 0
    rejected_local: int = 0
    rejected_remote: int = 0
    skipped_rows: int = 0
    batches_sent: int = 0
    batches_skipped: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    resent: int = 0
    request_seconds: float = 0.0
    ambiguous: list[BatchRef] = field(default_factory=list)
    failed: list[BatchRef] = field(default_factory=list)
    unavailable: str | None = None
    journal_lost: str | None = None
    """Why the ledger could not be written: nothing more was sent."""
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Records accepted per second."""
        return self.accepted / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def round_trip(self) -> float | None:
        """Mean seconds from sending a batch to reading its answer."""
        return self.request_seconds / self.requests if self.requests else None


def _stops_everything(exc: CleverTapError) -> bool:
    """An answer after which nothing more is sent (401/403, anything unexpected): not one the
    batch can be sent again after, nor CleverTap refusing the batch's records."""
    again = RateLimitedError | TransportError | AmbiguousOutcomeError | ServerError
    return not isinstance(exc, again | ValidationError | InvalidRequest)


# Senders beyond the call slots: while one writes down its answer, another takes the free slot.
SPARE_SENDERS = 4


class _Window:
    """How many calls may be in flight: lowered by one on a 429, raised back after a streak."""

    def __init__(self, limit: int) -> None:
        self.limit = self.ceiling = limit
        self.in_flight = 0
        self._streak = 0
        self._changed = asyncio.Condition()

    async def __aenter__(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1

    async def __aexit__(self, *exc_info: object) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()

    def throttled(self) -> None:
        self.limit = max(1, self.limit - 1)
        self._streak = 0

    async def succeeded(self) -> None:
        if self.limit < self.ceiling:
            self._streak += 1
            if self._streak >= self.limit:
                self._streak = 0
                async with self._changed:
                    self.limit += 1
                    self._changed.notify_all()


class Engine:
    def __init__(
        self,
        client: CleverTap,
        ledger: Ledger,
        options: Options,
        *,
        dead_letter: DeadLetter,
        prior: Mapping[str, str] | None = None,
        on_progress: Callable[[Tally], None] | None = None,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.options = options
        self.dead_letter = dead_letter
        self.prior = prior or {}
        self.tally = Tally()
        self.stopping = False
        self._on_progress = on_progress
        self._sleep = sleep
        self._fatal: BaseException | None = None
        self._window = _Window(options.concurrency)
        # The ledger and the dead-letter file are written off the event loop, in groups: a
        # durable write takes a disk flush, and the loop must keep reading answers meanwhile.
        self._recorder = Recorder(ledger, dead_letter)

    def stop(self, *, interrupted: bool = True) -> None:
        """Send nothing more; the calls in flight finish and are recorded. ``interrupted``:
        the user asked (Ctrl-C, SIGTERM), so the command exits 130."""
        self.stopping = True
        self.tally.interrupted = interrupted

    async def run(self, batches: Iterator[Batch | Skipped]) -> Tally:
        with quiet_gc():
            return await self._run(batches)

    async def _run(self, batches: Iterator[Batch | Skipped]) -> Tally:
        queue: asyncio.Queue[Batch | None] = asyncio.Queue(maxsize=self.options.concurrency)
        count = self.options.concurrency + SPARE_SENDERS
        senders = [asyncio.create_task(self._sender(queue)) for _ in range(count)]
        try:
            await self._produce(batches, queue)
        finally:
            for _ in senders:
                await queue.put(None)
            results = await asyncio.gather(*senders, return_exceptions=True)
            self._recorder.close()
            self.tally.finished = time.monotonic()
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if self._fatal is not None:
            raise self._fatal
        return self.tally

    async def _produce(
        self, batches: Iterator[Batch | Skipped], queue: asyncio.Queue[Batch | None]
    ) -> None:
        tally = self.tally
        for item in batches:
            if self.stopping:
                break
            if isinstance(item, Skipped):
                tally.rows += item.rows
                tally.skipped_rows += item.rows
                tally.batches_skipped += 1
                continue
            try:
                again = self.prior.get(item.id) not in (SENDING, AMBIGUOUS) or await self._again(
                    item
                )
            except JournalUnavailable as exc:
                self._lost(exc)
                break
            if not again:
                continue
            await queue.put(item)
            await asyncio.sleep(0)  # let the senders read answers between two batches

    async def _record(self, batch: Batch, state: str, detail: Mapping[str, Any]) -> None:
        await self._recorder.record(BatchState(batch.id, state, batch.count, detail))

    async def _again(self, batch: Batch) -> bool:
        """A batch an earlier run sent without reading the answer: send it again?"""
        options = self.options
        chosen = batch.id in options.accept_batches or batch.id in options.resend_batches
        if batch.id in options.accept_batches or (options.accept_ambiguous and not chosen):
            await self._finish(batch, SETTLED, [], {"settled": "the user said CleverTap holds it"})
            self.tally.skipped_rows += batch.rows - len(batch.rejects)
            self.tally.batches_skipped += 1
            return False
        if batch.repeatable or options.resend_ambiguous or batch.id in options.resend_batches:
            self.tally.resent += 1
            return True
        self.tally.ambiguous.append(_ref(batch))
        self.tally.rows += batch.rows
        return False

    async def _sender(self, queue: asyncio.Queue[Batch | None]) -> None:
        while (batch := await queue.get()) is not None:
            if self.stopping:
                continue  # drained, never sent: the next run sends it
            if not batch.count:
                try:
                    await self._finish(batch, ACCEPTED, [], {"processed": 0})
                except JournalUnavailable as exc:
                    self._lost(exc)
                continue
            await self._send_recorded(batch)

    async def _send_recorded(self, batch: Batch) -> None:
        """Send ``batch``; when the ledger cannot be written, nothing more is sent, and a batch
        whose answer cannot be recorded is ambiguous (the ledger still says ``sending``, which
        the next run reads as such)."""
        try:
            await self._send(batch)
        except JournalUnavailable as exc:
            self._lost(exc)
            self.tally.ambiguous.append(_ref(batch))
            self.tally.rows += batch.rows

    def _lost(self, exc: JournalUnavailable) -> None:
        self.stopping = True
        if self.tally.journal_lost is None:
            self.tally.journal_lost = exc.message
            self.tally.unavailable = self.tally.unavailable or exc.message

    async def _send(self, batch: Batch) -> None:
        tally, options = self.tally, self.options
        first_try = time.monotonic()
        attempt = 0
        while True:
            error: CleverTapError | None = None
            async with self._window:  # a call slot, held for the call only
                if attempt == 0:
                    if self.stopping:
                        return  # not recorded, not sent: the next run sends it
                    try:
                        await self._record(batch, SENDING, _lines(batch))
                    except JournalUnavailable as exc:
                        self._lost(exc)  # not sent, nothing recorded: the next run sends it
                        return
                started = time.perf_counter()
                try:
                    result = await self.client.upload_encoded(
                        batch.body, upserts=batch.repeatable, retry=ONE_ATTEMPT
                    )
                except (AuthError, CleverTapError) as exc:
                    error = exc
                    # Before this slot frees: fewer calls after a 429, none after a 401.
                    if isinstance(exc, RateLimitedError):
                        self._window.throttled()
                    self.stopping = self.stopping or _stops_everything(exc)
            if error is not None:
                retry = await self._after_error(batch, error)
            else:
                tally.requests += 1
                tally.request_seconds += time.perf_counter() - started
                await self._window.succeeded()
                await self._accepted(batch, result)
                return
            if not retry:
                return
            if self.stopping:  # not sent: the next run sends it
                await self._record(batch, FAILED, {"error": "stopped"})
                return
            left = options.give_up_after - (time.monotonic() - first_try)
            if left <= 0:
                await self._failed(batch, "CleverTap stayed unavailable")
                return
            delay = min(options.backoff_max, options.backoff_initial * 2**attempt)
            await self._sleep(min(left, random.uniform(delay / 2, delay)))
            attempt += 1
            tally.retries += 1

    async def _after_error(self, batch: Batch, exc: CleverTapError) -> bool:
        """Record what ``exc`` means for ``batch``; whether to send it again."""
        if isinstance(exc, RateLimitedError):
            self.tally.rate_limited += 1  # the window was narrowed before its slot freed
            return True
        if isinstance(exc, TransportError):
            return True
        if isinstance(exc, AmbiguousOutcomeError | ServerError):  # it may have been processed
            if batch.repeatable or self.options.resend_ambiguous:
                self.tally.resent += 1
                return True
            await self._record(batch, AMBIGUOUS, {**_lines(batch), "error": exc.message})
            self.tally.ambiguous.append(_ref(batch))
            self.tally.rows += batch.rows
            return False
        if isinstance(exc, ValidationError | InvalidRequest):
            refused = [
                Reject(batch.source, line, batch.id, exc.message, record, "clevertap", exc.code)
                for record, line in zip(batch.records, batch.lines, strict=True)
            ]
            await self._finish(batch, ACCEPTED, refused, {"processed": 0, "refused": exc.message})
            return False
        await self._failed(batch, exc.message)
        self._fatal = exc
        self.stopping = True
        return False

    async def _accepted(self, batch: Batch, result: UploadResult) -> None:
        tally = self.tally
        remote: list[Reject] = []
        sent = batch.records if result.unprocessed else []
        for item in result.unprocessed:
            number = item.record_number
            inside = number is not None and 1 <= number <= len(sent)
            line = batch.lines[number - 1] if inside and number is not None else None
            record = sent[number - 1] if inside and number is not None else item.record
            remote.append(
                Reject(batch.source, line, batch.id, item.reason, record, "clevertap", item.code)
            )
        tally.batches_sent += 1
        await self._finish(
            batch,
            ACCEPTED,
            remote,
            {"processed": result.processed, "unprocessed": len(remote)},
            accepted=max(0, batch.count - len(remote)),
        )

    async def _failed(self, batch: Batch, reason: str) -> None:
        await self._record(batch, FAILED, {"error": reason})
        self.tally.failed.append(_ref(batch))
        self.tally.rows += batch.rows
        if self.tally.unavailable is None:
            self.tally.unavailable = reason
        self.stopping = True

    async def _finish(
        self,
        batch: Batch,
        state: str,
        remote: list[Reject],
        detail: dict[str, Any],
        *,
        accepted: int = 0,
    ) -> None:
        """Write the batch's rejects, then its state: a crash between the two repeats lines in
        the dead-letter file rather than losing them. Its rows are counted once recorded: an
        answer the ledger could not keep is ambiguous, not accepted."""
        settled = BatchState(batch.id, state, batch.count, {**_lines(batch), **detail})
        await self._recorder.record(settled, [*batch.rejects, *remote])
        self.tally.rows += batch.rows
        self.tally.accepted += accepted
        self.tally.rejected_local += len(batch.rejects)
        self.tally.rejected_remote += len(remote)
        if self._on_progress is not None:
            self._on_progress(self.tally)


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Records are acyclic and freed by reference counting, but allocating millions of them
    sets off the cyclic collector over and over, each time walking every object the process
    holds: about a third of the CPU an upload spends checking rows. For the upload, what
    exists is frozen out of the collector's walks and collections come less often; both are
    put back afterwards."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(before[0], 10_000), before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _ref(batch: Batch) -> BatchRef:
    return BatchRef(batch.id, batch.first_line, batch.last_line, batch.count)


def _lines(batch: Batch) -> dict[str, Any]:
    return {"first_line": batch.first_line, "last_line": batch.last_line}
