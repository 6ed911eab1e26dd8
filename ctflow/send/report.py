"""What a send run prints: a line per recipient (from a batch file, only those not sent now or
before), a summary, the exit code (5 unavailable, 6 an outcome unknown, 3 refused, else 0), and the
same as JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from ctflow.errors import ExitCode
from ctflow.send.batch import Refused
from ctflow.send.deliver import SENT_BEFORE, Outcome

ORDER = (
    "sent",
    "already_sent",
    "duplicate",
    "ambiguous",
    "failed",
    "conflict",
    "unavailable",
    "refused",
)
WORDS = {
    "sent": "sent",
    "already_sent": "already sent, not sent again",
    "duplicate": "repeated in this run, sent once",
    "ambiguous": "may have arrived, not sent again",
    "failed": "refused by CleverTap",
    "conflict": "not sent: key already used",
    "unavailable": "not sent: CleverTap unavailable",
    "refused": "not sent",
}


def totals(outcomes: Sequence[Outcome], refused: Sequence[Refused]) -> dict[str, int]:
    counted: Counter[str] = Counter(o.state for o in outcomes)
    counted["refused"] = len(refused)
    return {state: counted[state] for state in ORDER}


def exit_code(counts: dict[str, int]) -> int:
    if counts["unavailable"]:
        return ExitCode.UNAVAILABLE
    if counts["ambiguous"]:
        return ExitCode.GATED
    if counts["failed"] or counts["conflict"] or counts["refused"]:
        return ExitCode.INVALID
    return ExitCode.OK


def lines(
    trigger: str, outcomes: Sequence[Outcome], refused: Sequence[Refused], source: str | None
) -> list[str]:
    """A line for each recipient, then the summary; the reason after a colon. From a batch file
    (``source``), recipients that have the message (sent now or before) are only counted."""
    rows: list[tuple[int, str]] = []
    for item in refused:
        where = _where(source, item.line)
        who = f"{item.recipient}: " if item.recipient else ""
        rows.append((item.line or 0, f"{where}{who}not sent: {item.reason}"))
    for outcome in outcomes:
        if source is not None and outcome.state in ("sent", SENT_BEFORE):
            continue
        send = outcome.send
        where = _where(source, send.line)
        text = f"{where}{send.recipient}: {WORDS[outcome.state]}"
        if outcome.detail:
            text += f" ({outcome.detail})"
        rows.append((send.line or 0, text))
    counts = totals(outcomes, refused)
    summary = ", ".join(f"{counts[s]:,} {WORDS[s]}" for s in ORDER if counts[s])
    out = [text for _, text in sorted(rows, key=lambda row: row[0])]
    out.append(f"{trigger}: {summary or 'nothing to send'}.")
    if counts["ambiguous"]:
        out.append(
            "Check in CleverTap whether the messages that may have arrived did (the "
            "campaign's stats, or the recipient); send them again only if they did not, with "
            "--resend-ambiguous."
        )
    if counts["unavailable"]:
        out.append("CleverTap stayed unavailable: run the same command again to send the rest.")
    return out


def to_json(
    trigger: str,
    environment: str,
    outcomes: Sequence[Outcome],
    refused: Sequence[Refused],
) -> dict[str, Any]:
    sends = [
        {
            "line": o.send.line,
            "to": o.send.recipient,
            "idempotency_key": o.send.key,
            "state": o.state,
            "detail": o.detail,
        }
        for o in outcomes
    ] + [
        {
            "line": r.line,
            "to": r.recipient,
            "idempotency_key": None,
            "state": "refused",
            "detail": r.reason,
        }
        for r in refused
    ]
    sends.sort(key=lambda s: s["line"] or 0)
    counts = totals(outcomes, refused)
    return {
        "trigger": trigger,
        "environment": environment,
        "sends": sends,
        "totals": counts,
        "exit_code": exit_code(counts),
    }


def _where(source: str | None, line: int | None) -> str:
    if line is None:
        return ""
    return f"{source}:{line}: " if source else f"line {line}: "
