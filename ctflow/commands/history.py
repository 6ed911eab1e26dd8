"""``ctflow history [RUN_ID]``: what the journal remembers, read back. One line a run (when, who,
where, the git commit, the environment, the command, how it ended, its counts), or one run's
steps: each intent and outcome, the batches an upload sent, the keys a send claimed.

Reads whichever journal is configured, and never creates one. A plain function returning an
exit code; ``ctflow.cli`` parses the flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ctflow.commands.reading import Reader, table
from ctflow.errors import ExitCode, UsageError
from ctflow.journal import Journal, JournalLocation, existing_journal
from ctflow.masking import mask

KINDS = {
    "apply": "apply",
    "upload": "upload",
    "send": "send",
    "test-send": "test-send",
    "stop": "stop-all",
}
"""``--kind`` words and the kinds of run the journal records."""


@dataclass(frozen=True)
class HistoryOptions:
    run_id: int | None = None
    environment: str | None = None
    kind: str | None = None
    since: date | None = None
    limit: int = 20
    fmt: str = "text"


def history(
    reader: Reader, journal: JournalLocation, options: HistoryOptions, secrets: set[str]
) -> int:
    opened = existing_journal(journal, project=reader.project)
    if opened is None:
        return _nothing(reader, journal, options)
    with opened:
        if options.run_id is not None:
            return _one(reader, opened, options.run_id, options.fmt, secrets)
        runs = opened.runs(
            options.limit,
            environment=options.environment,
            kind=KINDS[options.kind] if options.kind else None,
            since=options.since.isoformat() if options.since else None,
        )
    runs = [{**run, "command": mask(run["command"], secrets)} for run in runs]
    if options.fmt == "json":
        reader.json({"journal": journal.shown, "project": reader.project, "runs": runs})
        return ExitCode.OK
    if not runs:
        reader.out.write(f"No runs recorded in {journal.shown} for these filters.\n")
        return ExitCode.OK
    table(
        reader,
        ["RUN", "STARTED", "ENV", "KIND", "OUTCOME", "BY", "COMMIT", "COUNTS", "COMMAND"],
        [_row(run) for run in runs],
        right=(0,),
        whole=(0, 6),
    )
    return ExitCode.OK


def _nothing(reader: Reader, journal: JournalLocation, options: HistoryOptions) -> int:
    if options.run_id is not None:
        raise UsageError(f"no run {options.run_id}: {journal.shown} holds no journal yet")
    if options.fmt == "json":
        reader.json({"journal": journal.shown, "project": reader.project, "runs": []})
    else:
        reader.out.write(f"No journal yet at {journal.shown}: nothing has run.\n")
    return ExitCode.OK


def _row(run: dict[str, Any]) -> list[str]:
    started = str(run["started_at"]).replace("T", " ")[:16]
    return [
        str(run["id"]),
        started,
        str(run["environment"]),
        str(run["kind"]),
        str(run["outcome"] or "running or killed"),
        f"{run['user']}@{run['host']}",
        str(run["git_commit"] or "-")[:8],
        _counts(run["summary"]),
        str(run["command"]),
    ]


def _counts(summary: Any) -> str:
    """``created 3, stopped 1``: the whole-number counts of a run's summary that are not 0."""
    if not isinstance(summary, dict):
        return "-"
    shown = [
        f"{name} {value:,}"
        for name, value in summary.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    ]
    return ", ".join(shown) or "-"


def _one(reader: Reader, journal: Journal, run_id: int, fmt: str, secrets: set[str]) -> int:
    run = journal.run(run_id)
    if run is None:
        raise UsageError(f"no run {run_id} of project {reader.project!r} in {journal.location}")
    run = {**run, "command": mask(run["command"], secrets)}
    steps, batches = journal.steps(run_id), journal.batches_of(run_id)
    sends = journal.sends_of(run_id)
    if fmt == "json":
        reader.json({"run": run, "steps": steps, "batches": batches, "sends": sends})
        return ExitCode.OK
    out = reader.out
    out.write(
        f"Run {run['id']}: {run['kind']} in {run['environment']} by {run['user']}@{run['host']}, "
        f"started {run['started_at']}, {run['outcome'] or 'never finished (running or killed)'}"
        f"{' at ' + run['finished_at'] if run['finished_at'] else ''}\n"
        f"  {run['command']}\n"
    )
    if run["git_commit"]:
        out.write(f"  git commit {run['git_commit']}\n")
    if (counts := _counts(run["summary"])) != "-":
        out.write(f"  counts: {counts}\n")
    for step in steps:
        out.write(_step(step))
    for first, last, state, records in _ranges(batches):
        span = first if first == last else f"{first} … {last.rpartition(':')[2]}"
        out.write(f"  batch {span}: {state} ({records:,} records)\n")
    for send in sends:
        out.write(f"  send {send['send_key']} → {send['recipient']}: {send['state']}\n")
    return ExitCode.OK


def _step(step: dict[str, Any]) -> str:
    what = f"{step['action']} {step['key']}"
    if step["hash"]:
        what += f"@{step['hash']}"
    if step["campaign_id"] is not None:
        what += f" (campaign {step['campaign_id']})"
    ended = step["outcome"] or "no outcome (cut short)"
    detail = step["detail"] or {}
    why = f": {detail['error']}" if isinstance(detail, dict) and detail.get("error") else ""
    return f"  {step['intent_at']}  {what} → {ended}{why}\n"


def _ranges(batches: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    """Consecutive batches of one file in one state, as (first id, last id, state, records)."""
    ranges: list[tuple[str, str, str, int]] = []
    for batch in batches:
        batch_id, state, records = str(batch["batch_id"]), str(batch["state"]), batch["records"]
        if ranges and _next(ranges[-1][1], batch_id) and ranges[-1][2] == state:
            first, _, _, total = ranges[-1]
            ranges[-1] = (first, batch_id, state, total + records)
        else:
            ranges.append((batch_id, batch_id, state, records))
    return ranges


def _next(before: str, batch_id: str) -> bool:
    """Whether ``batch_id`` is the batch after ``before`` of the same file."""
    prefix, _, index = batch_id.rpartition(":")
    last_prefix, _, last_index = before.rpartition(":")
    numbered = index.isdecimal() and last_index.isdecimal()
    return numbered and prefix == last_prefix and int(index) == int(last_index) + 1
