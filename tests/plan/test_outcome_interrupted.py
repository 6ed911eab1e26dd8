"""The apply outcome of a run stopped by Ctrl-C while the datasets upload: the file it was
sending is ``failed`` (interrupted, exit 130), not ``done``, and no campaign was attempted."""

from __future__ import annotations

import json
from pathlib import Path

from ctflow.clevertap import CleverTap
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
