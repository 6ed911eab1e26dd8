"""``ctflow apply`` with declared Datasets: the plan's executor uploads each file before any
campaign is created, once per content, and a saved plan's files must still be what was planned.
"""

from __future__ import annotations

import io
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ctflow.clevertap import CleverTap
from ctflow.commands import apply as applycmd
from ctflow.sandbox import Sandbox
from tests.contract.support import CREDS, FAST_RETRY
from tests.plan.support import DATASET, FAST_LIMITS, Bed, Statuses, charges, write_project

ROWS = 2500


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = {"datasets/charges.yaml": DATASET, "data/charges.jsonl": charges(ROWS)}
    return write_project(tmp_path, files)


def test_apply_uploads_the_datasets_before_any_campaign_once_per_content(
    root: Path, sb: Sandbox
) -> None:
    statuses = Statuses(sb)
    bed = Bed(root, sb, statuses=statuses)

    first = bed.apply()

    assert first.code == 0, first.err
    assert "5 created, 0 adopted, 0 stopped, 1 dataset(s) uploaded." in first.out
    assert len(sb.events("Charged")) == ROWS
    families = [family for family, _status in statuses.seen]
    assert families.count("upload") == 3, "2,500 rows go up in 3 batches of at most 1,000"
    assert max(i for i, f in enumerate(families) if f == "upload") < families.index("create")

    again = bed.apply()
    assert again.code == 0, again.err
    assert "No changes" in again.out
    assert len(sb.events("Charged")) == ROWS, "the journal knows this content went up whole"


def test_apply_reports_the_uploads_when_they_end_before_the_campaigns_it_creates(
    root: Path, sb: Sandbox
) -> None:
    """One terminal shows stdout and stderr together: the lines come in the order of the work."""
    screen = io.StringIO()
    code = applycmd.apply(
        Bed(root, sb).invocation(), applycmd.ApplyOptions(auto_approve=True), out=screen, err=screen
    )
    assert code == 0
    lines = screen.getvalue().splitlines()
    uploaded = next(i for i, line in enumerate(lines) if line.startswith("  sent 2,500 of 2,500"))
    created = [i for i, line in enumerate(lines) if ": created " in line]
    assert len(created) == 5
    assert uploaded < min(created)
    assert lines[max(created) + 1].startswith("Apply complete: 5 created")


def test_a_saved_plan_whose_dataset_changed_is_refused_and_nothing_is_done(
    root: Path, sb: Sandbox
) -> None:
    bed = Bed(root, sb)
    saved = root / "plan.json"
    assert bed.plan(out_file=saved).code == 0
    (root / "data" / "charges.jsonl").write_text(charges(ROWS + 1), encoding="utf-8")

    refused = bed.apply(plan_file=saved)

    assert refused.code == 7
    assert "dataset 'charges-2026' changed since the plan was saved" in refused.err
    assert sb.events("Charged") == []
    assert bed.campaigns() == []


class CtrlC:
    """Before the sandbox: the first upload call is answered after Ctrl-C is pressed (SIGINT
    to this process, which the upload's graceful stop catches)."""

    def __init__(self, sb: Sandbox) -> None:
        self.app = sb.app
        self.pressed = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/1/upload" and not self.pressed:
            self.pressed = True
            os.kill(os.getpid(), signal.SIGINT)
        await self.app(scope, receive, send)


def test_ctrl_c_while_the_datasets_upload_stops_the_apply_before_any_campaign(
    tmp_path: Path, sb: Sandbox
) -> None:
    root = write_project(
        tmp_path, {"datasets/charges.yaml": DATASET, "data/charges.jsonl": charges(30_000)}
    )
    ctrl_c = CtrlC(sb)
    bed = Bed(
        root,
        sb,
        connect=lambda: CleverTap.in_process(ctrl_c, CREDS, retry=FAST_RETRY, limits=FAST_LIMITS),
    )

    stopped = bed.apply()

    assert ctrl_c.pressed
    assert stopped.code == 130, stopped.err
    assert bed.campaigns() == [], "nothing is created once the person asked to stop"
    assert "interrupted: run the same command again to send the rest" in stopped.out
    assert "interrupted while uploading the datasets; no campaign was stopped or created" in (
        stopped.err
    )
    with bed.journal() as journal:
        assert journal.runs(1)[0]["outcome"] == "interrupted"

    finished = Bed(root, sb).apply()
    assert finished.code == 0, finished.err
    assert len(bed.campaigns()) == 5
    assert len(sb.events("Charged")) == 30_000, "the re-run sends the rest, nothing twice"
