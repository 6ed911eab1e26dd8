"""The apply outcome of a run stopped by Ctrl-C: while the datasets upload, the file it was
sending is ``failed`` (interrupted, exit 130), not ``done``, and no campaign was attempted;
among the campaigns, only what was recorded is ``done``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ctflow.clevertap import CleverTap
from ctflow.commands.outcome import INTERRUPTED_BEFORE, Ended, to_dict
from ctflow.plan.apply import Outcome
from ctflow.plan.model import Change, LiveRef, Plan, Status, Stop
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, FAST_RETRY
from tests.plan.support import FAST_LIMITS, Bed, write_project
from tests.plan.test_apply_datasets import DATASET, CtrlC, charges


def test_an_upload_stopped_by_ctrl_c_is_failed_in_the_outcome(tmp_path: Path, sb: Sandbox) -> None:
    root = write_project(
        tmp_path, {"datasets/charges.yaml": DATASET, "data/charges.jsonl": charges(30_000)}
    )
    ctrl_c = CtrlC(sb)
    bed = Bed(
        root,
        sb,
        connect=lambda: CleverTap.in_process(ctrl_c, CREDS, retry=FAST_RETRY, limits=FAST_LIMITS),
    )

    stopped = bed.apply(fmt="json")

    assert ctrl_c.pressed
    assert stopped.code == 130, stopped.err
    outcome = json.loads(stopped.out)
    assert (outcome["ok"], outcome["exit_code"]) == (False, 130)
    changes = {change["key"]: change for change in outcome["changes"]}
    upload = changes.pop("charges-2026")
    assert upload["upload"]["interrupted"] is True
    assert upload["upload"]["accepted"] < 30_000
    assert upload["outcome"] == "failed"
    assert upload["errors"] == [{"message": "interrupted", "exit_code": 130}]
    assert {change["outcome"] for change in changes.values()} == {"not_attempted"}
    assert len(changes) == 5
    assert (outcome["summary"]["uploaded"], outcome["summary"]["failed"]) == (0, 1)


def _after_ctrl_c(change: Change, **recorded: Any) -> dict[str, Any]:
    outcome = Outcome(uploads_done=True, interrupted=True, **recorded)
    ended = Ended("apply", _plan(change), outcome, (), 130, "")
    (only,) = to_dict(ended)["changes"]
    return only


def _plan(change: Change) -> Plan:
    return Plan("shop", "sandbox", True, "now", ("2026-01-01", "2027-01-01"), "", (change,))


def _live(campaign: int) -> LiveRef:
    return LiveRef(campaign, f"c{campaign}", Status.PENDING, "h")


def test_a_stop_of_two_copies_cut_short_by_ctrl_c_is_failed_not_done() -> None:
    repair = Stop(key="promo", name="Promo", reason="removed", stop=(_live(101), _live(102)))
    part = _after_ctrl_c(repair, stopped=[("promo", 101)])
    assert part["outcome"] == "failed"
    assert part["errors"] == [{"message": "interrupted after it stopped 1 of 2", "exit_code": 130}]
    assert _after_ctrl_c(repair, stopped=[("promo", 101), ("promo", 102)])["outcome"] == "done"
    untouched = _after_ctrl_c(repair)
    assert (untouched["outcome"], untouched["why"]) == ("not_attempted", INTERRUPTED_BEFORE)
