"""What an apply or ``stop --all`` did, per change, as the JSON outcome of ``--format json``
(docs/plan-format.md, "The apply outcome") and as the Markdown of ``$GITHUB_STEP_SUMMARY``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctflow import __version__
from ctflow.errors import ExitCode
from ctflow.plan.apply import Outcome
from ctflow.plan.model import AudienceUpdate, Change, Create, Plan, Upload
from ctflow.plan.render_markdown import escape
from ctflow.upload.report import FileResult, exit_code, to_json

OUTCOME_FORMAT_VERSION = 1
"""Bumped when a key of the outcome changes meaning or disappears (new keys do not bump it)."""

DONE, FAILED, NOT_ATTEMPTED = "done", "failed", "not_attempted"
_IDS = ("created", "adopted", "stopped")
TABLE_HEAD = "| outcome | action | key | detail |\n|---|---|---|---|"
_MARKS = {DONE: "✓ done", FAILED: "✗ failed", NOT_ATTEMPTED: "· not attempted"}


@dataclass(frozen=True)
class Ended:
    """One run's end: the plan it executed, what the executor did, the files it uploaded,
    its exit code and its one-line summary."""

    command: str
    plan: Plan
    outcome: Outcome
    uploads: Sequence[FileResult]
    exit_code: int
    text: str


def _upload(change: Upload, results: Mapping[str, FileResult]) -> dict[str, Any]:
    result = results.get(change.key)
    if result is None:
        return {"outcome": NOT_ATTEMPTED, "errors": [], "upload": None}
    summary = to_json([result])
    file = summary["files"][0]
    # a file Ctrl-C stopped has rows left to send, though none was refused or lost
    code = exit_code(summary) or (ExitCode.INTERRUPTED if file["interrupted"] else ExitCode.OK)
    errors = []
    if code:
        reason = file["unavailable"] or (
            "interrupted"
            if file["interrupted"]
            else f"{len(file['ambiguous_batches'])} ambiguous batch(es)"
            if file["ambiguous_batches"]
            else f"{file['rejected_locally'] + file['rejected_by_clevertap']} row(s) rejected"
        )
        errors.append({"message": str(reason), "exit_code": code})
    return {"outcome": FAILED if code else DONE, "errors": errors, "upload": file}


def _campaigns(change: Change, outcome: Outcome) -> dict[str, Any]:
    def ids(pairs: list[tuple[str, int]]) -> list[int]:
        return [campaign for key, campaign in pairs if key == change.key]

    errors = [
        {"message": message, "exit_code": code}
        for key, message, code in outcome.failed
        if key == change.key
    ]
    done = {"created": ids(outcome.created), "adopted": ids(outcome.adopted)}
    stopped = ids(outcome.stopped)
    attempted = outcome.uploads_done and change.key not in outcome.skipped
    if outcome.interrupted and not errors:  # done is only what was recorded before Ctrl-C
        attempted, errors = _recorded(change, bool(done["created"] or done["adopted"]), stopped)
    state = FAILED if errors else DONE if attempted else NOT_ATTEMPTED
    why = outcome.skipped.get(change.key) if state == NOT_ATTEMPTED else None
    if state == NOT_ATTEMPTED and outcome.interrupted and why is None:
        why = INTERRUPTED_BEFORE
    return {"outcome": state, "errors": errors, "stopped": stopped, **done, "why": why}


INTERRUPTED_BEFORE = (
    "interrupted before it was recorded (a create in flight then may have been made: the next "
    "plan adopts it)"
)


def _recorded(change: Change, made: bool, stopped: list[int]) -> tuple[bool, list[Any]]:
    """(done, errors) of a change Ctrl-C may have cut short: done only when every stop it
    planned and its create are recorded; part of it recorded is a failure that says what."""
    planned = len(change.stop)
    creates = isinstance(change, Create)
    if (made or not creates) and len(stopped) >= planned and (made or stopped):
        return True, []
    if not stopped and not made:
        return False, []
    what = f"stopped {len(stopped)} of {planned}"
    then = ", not yet created again" if creates and not made else ""
    message = f"interrupted after it {what}{then}"
    return False, [{"message": message, "exit_code": ExitCode.INTERRUPTED}]


def _audience(change: AudienceUpdate, outcome: Outcome) -> dict[str, Any]:
    errors = [
        {"message": message, "exit_code": code}
        for key, message, code in outcome.audience_failures
        if key == change.key
    ]
    sent = [(a, r) for key, a, r in outcome.audiences if key == change.key]
    if change.key in outcome.audience_sent:
        sent = [outcome.audience_sent[change.key]]
    members = {"added": sent[0][0], "removed": sent[0][1]} if sent else None
    state = FAILED if errors else DONE if sent else NOT_ATTEMPTED
    why = INTERRUPTED_BEFORE if state == NOT_ATTEMPTED and outcome.interrupted else None
    return {"outcome": state, "errors": errors, "members": members, "why": why}


def _change(change: Change, ended: Ended, results: Mapping[str, FileResult]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": change.action.value,
        "key": change.key,
        "journey": change.journey,
        "name": change.name,
        "outcome": NOT_ATTEMPTED,
        "created": [],
        "adopted": [],
        "stopped": [],
        "errors": [],
        "why": None,
        "upload": None,
    }
    if isinstance(change, Upload):
        return out | _upload(change, results)
    if isinstance(change, AudienceUpdate):
        return out | _audience(change, ended.outcome)
    return out | _campaigns(change, ended.outcome)


def to_dict(ended: Ended) -> dict[str, Any]:
    """The outcome document, keys in a fixed order."""
    made = ended.plan
    results = {r.dataset: r for r in ended.uploads if r.dataset is not None}
    changes = [_change(c, ended, results) for c in made.changes]
    counts = {state: sum(c["outcome"] == state for c in changes) for state in _MARKS}
    return {
        "format_version": OUTCOME_FORMAT_VERSION,
        "ctflow_version": __version__,
        "command": ended.command,
        "project": made.project,
        "environment": made.environment,
        "sandbox": made.sandbox,
        "plan_created_at": made.created_at,
        "ok": ended.exit_code == 0,
        "exit_code": ended.exit_code,
        "summary": {
            "changes": len(changes),
            **counts,
            **{word: len(getattr(ended.outcome, word)) for word in _IDS},
            "uploaded": sum(
                c["outcome"] == DONE for c in changes if c["action"] == Upload.action.value
            ),
            "text": ended.text,
        },
        "changes": changes,
    }


def render_json(ended: Ended) -> str:
    return json.dumps(to_dict(ended), indent=2, ensure_ascii=False) + "\n"


def _detail(change: Mapping[str, Any]) -> str:
    happened = ("stopped", "created", "adopted")  # in the order they happen
    shown = [f"{word} {', '.join(map(str, change[word]))}" for word in happened if change[word]]
    if change["upload"] is not None:
        up = change["upload"]
        shown.append(f"sent {up['accepted']:,} of {up['rows']:,} rows")
    if change.get("members"):
        shown.append(f"+{change['members']['added']:,} −{change['members']['removed']:,} members")
    shown += [e["message"] for e in change["errors"]]
    if change["why"]:
        shown.append(change["why"])
    return escape("; ".join(shown))


def render_markdown(ended: Ended) -> str:
    """The step summary: the outcome line and a table of every change with what became of it."""
    doc = to_dict(ended)
    blocks = [
        f"### ctflow {ended.command}: {escape(doc['project'])} → {escape(doc['environment'])}",
        f"**{escape(ended.text)}**",
    ]
    if doc["changes"]:
        rows = [
            f"| {_MARKS[c['outcome']]} | {c['action']} | `{escape(c['key'])}` | {_detail(c)} |"
            for c in doc["changes"]
        ]
        blocks.append("\n".join([TABLE_HEAD, *rows]))
    return "\n\n".join(blocks) + "\n"
