"""The applier: the one executor of a Plan (of ``apply`` and of ``stop --all``), journaling each
step before and after. One handler per kind of change, in this order:

- uploads of declared datasets first, so the data is there before any campaign starts: handed
  to ``uploads``, which ``ctflow.upload`` provides (this package cannot import it);
- then the audiences (``audience_apply``): segments created and members sent, so a campaign
  targeting one is created after it (its body gets the segment's id);
- then every stop (of a stop, a repair, a replace's old version), all together; a campaign
  whose Audience failed is left as it is, neither half of its replace attempted;
- then the creates; a replace creates only once its old version stopped. Creates run together
  and the client keeps them under CleverTap's ceiling (3 in flight, 3 starts a second).

A create that may have been processed (a lost answer, or any 5xx: 503 included, since nothing
says CleverTap did not process it) is never retried blindly: the applier lists the campaigns
again and adopts the one carrying the marker of this key and version; only when the listing
proves it absent does it create again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ctflow.clevertap import (
    AmbiguousOutcomeError,
    AuthError,
    CleverTap,
    CleverTapError,
    ServerError,
)
from ctflow.errors import CtflowError, ExitCode
from ctflow.journal import Journal
from ctflow.masking import masked
from ctflow.plan.audience_apply import AudienceApplier
from ctflow.plan.cost import plan_cost
from ctflow.plan.live import read_live
from ctflow.plan.model import (
    ACTIVE,
    AudienceUpdate,
    Change,
    Create,
    LiveRef,
    Plan,
    Status,
    Upload,
)
from ctflow.spec.payload import placeholder_audience

RECONCILE_ATTEMPTS = 3
"""Creates of one change, counting those a listing proved never happened."""

Made = Callable[[str, int], None]
"""Told after each call to CleverTap is done with: its kind (a kind of :mod:`ctflow.plan.cost`)
and how many calls; a create skipped counts as made, since no call is left to make."""

Uploads = Callable[[Sequence[Upload]], Awaitable[int]]
"""Uploads the plan's datasets, in turn, and returns the exit code their upload comes to
(``ExitCode.INTERRUPTED`` when the person stopped it: then nothing more is done)."""


async def no_uploads(changes: Sequence[Upload]) -> int:
    """For an executor that never meets an upload (the kill switch's plans hold none)."""
    raise CtflowError(f"this run cannot upload datasets ({', '.join(c.key for c in changes)})")


@dataclass
class Outcome:
    """What an apply did; ``failed`` holds the campaigns' (key, message, exit code),
    ``audience_failures`` the Audiences' (a key may name both). ``ok`` speaks of the campaigns
    and audiences; ``upload_code`` of the datasets uploaded (``uploads_done`` once they were)."""

    created: list[tuple[str, int]] = field(default_factory=list)
    adopted: list[tuple[str, int]] = field(default_factory=list)
    stopped: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, str, int]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Why each campaign change left alone was not attempted, by key."""
    upload_code: int = ExitCode.OK
    uploads_done: bool = False
    audiences: list[tuple[str, int, int]] = field(default_factory=list)
    """(key, members added, members removed) of each Audience brought up to date."""
    audience_failures: list[tuple[str, str, int]] = field(default_factory=list)
    audience_sent: dict[str, tuple[int, int]] = field(default_factory=dict)
    """(members added, members removed) of each Audience that failed part-way."""
    interrupted: bool = False
    """Ctrl-C stopped it among the audiences and campaigns: only what is recorded was done."""

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.audience_failures

    @property
    def exit_code(self) -> int:
        """An audience's failure first (they ran first), then a campaign's, then the uploads'."""
        if self.ok:
            return self.upload_code
        failures = self.audience_failures + self.failed
        return failures[0][2] if failures else ExitCode.ERROR

    def summary(self) -> dict[str, int]:
        counts = {
            "created": len(self.created),
            "adopted": len(self.adopted),
            "stopped": len(self.stopped),
            "failed": len(self.failed) + len(self.audience_failures),
            "skipped": len(self.skipped),
        }
        if self.audiences:
            counts["audiences"] = len(self.audiences)
        return counts


def reach(payload: Mapping[str, Any], by_device: Mapping[str, int]) -> dict[str, int]:
    """CleverTap reports email, SMS and WhatsApp reach under ``web`` (§4.4); name the channel."""
    mode = str(payload.get("target_mode", ""))
    if mode in ("email", "sms", "whatsapp"):
        return {mode if device == "web" else device: n for device, n in by_device.items()}
    return dict(by_device)


def _ambiguous(exc: CleverTapError) -> bool:
    """Whether the call may have been processed: its answer was lost or was a 5xx (the client
    answers a create's 5xx as ambiguous at once; a stop's only once its retries are spent)."""
    return isinstance(exc, AmbiguousOutcomeError | ServerError)


class Applier:
    def __init__(
        self,
        client: CleverTap,
        journal: Journal,
        run_id: int,
        *,
        project: str,
        environment: str,
        window: tuple[date, date],
        say: Callable[[str], None],
        uploads: Uploads = no_uploads,
        made: Made = lambda kind, n: None,
    ) -> None:
        self.client = client
        self.journal = journal
        self.run_id = run_id
        self.project = project
        self.environment = environment
        self.window = window
        self.say = say
        self.uploads = uploads
        self.made = made
        self.outcome = Outcome()
        self.audiences = AudienceApplier(
            client,
            journal,
            run_id,
            project=project,
            environment=environment,
            say=say,
            made=self._audience_made,
        )
        self._audience_calls: dict[str, int] = {}

    async def run(self, plan: Plan) -> Outcome:
        datasets = [c for c in plan.changes if isinstance(c, Upload)]
        if datasets:
            self.outcome.upload_code = await self.uploads(datasets)
            if self.outcome.upload_code == ExitCode.INTERRUPTED:
                return self.outcome
            self.made("upload", plan_cost(datasets).calls["upload"])
        self.outcome.uploads_done = True
        for change in plan.changes:
            if isinstance(change, AudienceUpdate):
                await self._audience(change)
        changes = [c for c in plan.changes if not self._on_failed_audience(c)]
        stopped = await asyncio.gather(*(self._stops(c) for c in changes))
        creates = []
        for change, ok in zip(changes, stopped, strict=True):
            if not isinstance(change, Create):
                continue
            if ok:
                creates.append(self._create(change))
            else:
                self.outcome.skipped[change.key] = "its live version could not be stopped"
                step = self.journal.intent(
                    self.run_id, key=change.key, action="create", hash=change.hash
                )
                self.journal.outcome(step, "skipped", detail={"why": "its old version not stopped"})
                self.made("create", 1)
                self.say(f"  ! {change.key}: not created, its live version could not be stopped")
        await asyncio.gather(*creates)
        return self.outcome

    # --- audiences ----------------------------------------------------------------------------

    async def _audience(self, change: AudienceUpdate) -> None:
        self._audience_calls = {}
        try:
            done = await self.audiences.apply(change)
        finally:
            # Calls planned but not made (a failure, batches a cut-short run already sent) are
            # no longer to make: counted as made, so the progress's estimate of what is left holds.
            for kind, n in plan_cost([change]).calls.items():
                if n > self._audience_calls.get(kind, 0):
                    self.made(kind, n - self._audience_calls.get(kind, 0))
        if done.error is not None:
            self.outcome.audience_failures.append((change.key, *done.error))
            self.outcome.audience_sent[change.key] = (done.added, done.removed)
        else:
            self.outcome.audiences.append((change.key, done.added, done.removed))

    def _on_failed_audience(self, change: Change) -> bool:
        """Whether ``change`` targets an Audience that failed this run: then it is not
        attempted (a campaign on a part-filled segment would reach only some of its members,
        and a replace's old version would be stopped with no new one to follow)."""
        if not self.audiences.failed or not isinstance(change, Create) or change.payload is None:
            return False
        key = placeholder_audience(change.payload)
        if key is None or key not in self.audiences.failed:
            return False
        why = f"not attempted: audience {key} failed"
        self.outcome.skipped[change.key] = why
        step = self.journal.intent(self.run_id, key=change.key, action="create", hash=change.hash)
        self.journal.outcome(step, "skipped", detail={"why": why})
        self.made("stop", len(change.stop))
        self.made("create", 1)
        self.say(f"  ! {change.key}: {why}")
        return True

    def _audience_made(self, kind: str, n: int) -> None:
        self._audience_calls[kind] = self._audience_calls.get(kind, 0) + n
        self.made(kind, n)

    # --- stops --------------------------------------------------------------------------------

    async def _stops(self, change: Change) -> bool:
        results = await asyncio.gather(*(self._stop(change, ref) for ref in change.stop))
        return all(results)

    async def _stop(self, change: Change, ref: LiveRef) -> bool:
        try:
            return await self._stop_one(change, ref)
        finally:
            self.made("stop", 1)

    async def _stop_one(self, change: Change, ref: LiveRef) -> bool:
        """Stop one campaign. Stopping is idempotent, so an unanswered stop is checked by
        listing and sent again until the listing shows the campaign stopped."""
        step = self.journal.intent(
            self.run_id, key=change.key, action="stop", hash=ref.hash, campaign_id=ref.id
        )
        error: CleverTapError | None = None
        for _attempt in range(RECONCILE_ATTEMPTS):
            try:
                await self.client.stop_campaign(ref.id)
            except AuthError:
                self.journal.outcome(step, "failed", detail={"error": "credentials refused"})
                raise
            except CleverTapError as exc:
                error = exc
                if not _ambiguous(exc):
                    break
                self.say(
                    f"  ? {change.key}: {exc.message}; listing to see whether {ref.id} stopped"
                )
                stopped = await self._is_stopped(ref)
                if stopped is None:
                    break
                if not stopped:
                    continue
            error = None
            break
        if error is not None:
            self.journal.outcome(step, "failed", detail={"error": error.message})
            failure = (change.key, f"stop {ref.id}: {error.message}", error.exit_code)
            self.outcome.failed.append(failure)
            self.say(f"  ✗ {change.key}: stopping {ref.id} failed: {error.message}")
            return False
        self.journal.outcome(step, "done", campaign_id=ref.id)
        self.outcome.stopped.append((change.key, ref.id))
        self.say(f"  - {change.key}: stopped {ref.id}")
        return True

    async def _is_stopped(self, ref: LiveRef) -> bool | None:
        """Whether ``ref`` is no longer pending or running; ``None`` when listing fails too."""
        try:
            live = await read_live(self.client, self.project, self.window)
        except CleverTapError:
            return None
        now = next((r for r in live.refs() if r.id == ref.id), None)
        return now is None or now.status not in ACTIVE

    # --- creates ------------------------------------------------------------------------------

    async def _create(self, change: Create) -> None:
        try:
            await self._create_one(change)
        finally:
            self.made("create", 1)

    async def _create_one(self, change: Create) -> None:
        body = self.audiences.resolved(change.body)
        if isinstance(body, str):
            self.outcome.skipped[change.key] = f"not created, {body}"
            step = self.journal.intent(
                self.run_id, key=change.key, action="create", hash=change.hash
            )
            self.journal.outcome(step, "skipped", detail={"why": body})
            self.say(f"  ! {change.key}: not created, {body}")
            return
        for attempt in range(1, RECONCILE_ATTEMPTS + 1):
            step = self.journal.intent(
                self.run_id,
                key=change.key,
                action="create",
                hash=change.hash,
                detail={"name": body.get("name"), "attempt": attempt},
            )
            try:
                created = await self.client.create_campaign(body)
            except AuthError:
                self.journal.outcome(step, "failed", detail={"error": "credentials refused"})
                raise
            except CleverTapError as exc:
                if not _ambiguous(exc):
                    self.journal.outcome(step, "failed", detail={"error": exc.message})
                    self.outcome.failed.append((change.key, exc.message, exc.exit_code))
                    self.say(f"  ✗ {change.key}: create failed: {exc.message}")
                    return
                self.journal.outcome(step, "ambiguous", detail={"error": exc.message})
                self.say(f"  ? {change.key}: {exc.message}; listing to see whether it exists")
                try:
                    found = await self._find(change)
                except CleverTapError as listing:
                    message = (
                        f"{exc.message}; listing to check failed too ({listing.message}): it may "
                        "exist; the next `ctflow apply` adopts it or creates it"
                    )
                    self.outcome.failed.append((change.key, message, ExitCode.UNAVAILABLE))
                    self.say(f"  ✗ {change.key}: {message}")
                    return
                if found is not None:
                    self.journal.outcome(step, "adopted", campaign_id=found.id)
                    self._applied(change, found.id)
                    self.outcome.adopted.append((change.key, found.id))
                    self.say(f"  + {change.key}: adopted {found.id} (it had been created)")
                    return
                self.say(f"  ? {change.key}: not created; creating it again")
                continue
            self.journal.outcome(step, "done", campaign_id=created.id)
            self._applied(change, created.id)
            self.outcome.created.append((change.key, created.id))
            counts = reach(body, created.estimates.by_device)
            shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            self.say(
                f"  + {change.key}: created {created.id}" + (f" (reach {shown})" if shown else "")
            )
            return
        message = f"{RECONCILE_ATTEMPTS} creates went unanswered and none was found by listing"
        self.outcome.failed.append((change.key, message, ExitCode.UNAVAILABLE))
        self.say(f"  ✗ {change.key}: {message}")

    async def _find(self, change: Create) -> LiveRef | None:
        """Our campaign of this key and version that the plan did not know of, if any."""
        known = {ref.id for ref in change.stop}
        live = await read_live(self.client, self.project, self.window)
        for ref in live.by_key.get(change.key, ()):
            if ref.hash == change.hash and ref.status is not Status.STOPPED and ref.id not in known:
                return ref
        return None

    def _applied(self, change: Create, campaign_id: int) -> None:
        spec = masked(change.spec) if change.spec is not None else {}
        self.journal.record_spec(
            self.environment, change.key, change.hash, spec, campaign_id=campaign_id
        )
