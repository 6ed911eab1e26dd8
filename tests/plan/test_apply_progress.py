"""``apply``'s progress against the plan's cost: calls made of the calls planned, and the time
the rest takes at the plan's pace; plain lines off a terminal."""

from __future__ import annotations

import io
import re

import pytest

from ctflow.clevertap.errors import AuthError
from ctflow.commands.applyprogress import ApplyProgress
from ctflow.commands.statusline import StatusLine
from ctflow.plan.apply import Applier
from ctflow.plan.cost import plan_cost
from tests.plan.support import Bed
from tests.plan.test_cost import REPLACE, create


def progress(n_creates: int) -> tuple[ApplyProgress, io.StringIO]:
    err = io.StringIO()
    cost = plan_cost([REPLACE, *(create(str(i)) for i in range(n_creates))])
    return ApplyProgress(cost, StatusLine(err, live=False, every=0)), err


def test_the_line_counts_the_calls_and_the_time_their_rest_takes() -> None:
    shown, err = progress(399)
    assert shown.line() == "apply: 0/402 calls, ~2 min 27 s left"
    shown.made("stop", 2)
    assert shown.line() == "apply: 2/402 calls, ~2 min 27 s left"
    shown.made("create", 300)
    assert shown.line() == "apply: 302/402 calls, ~37 s left"
    shown.made("create", 100)
    assert shown.line() == "apply: 402/402 calls, under a second left"
    assert err.getvalue().splitlines() == [
        "ctflow: apply: 2/402 calls, ~2 min 27 s left",
        "ctflow: apply: 302/402 calls, ~37 s left",
        "ctflow: apply: 402/402 calls, under a second left",
    ]


def test_what_the_applier_says_is_printed_as_its_own_line() -> None:
    shown, err = progress(1)
    shown.say("  + promo: created 17")
    shown.made("create", 1)
    assert err.getvalue().splitlines() == [
        "  + promo: created 17",
        "ctflow: apply: 1/4 calls, under a second left",
    ]


def test_apply_shows_its_progress_call_by_call_in_plain_lines(bed: Bed) -> None:
    ran = bed.apply(progress_every=0)

    assert ran.code == 0, ran.err
    lines = [line for line in ran.err.splitlines() if line.startswith("ctflow: apply: ")]
    made = [int(m[1]) for m in (re.match(r"ctflow: apply: (\d+)/5 calls", x) for x in lines) if m]
    assert made == [1, 2, 3, 4, 5], ran.err
    assert lines[-1] == "ctflow: apply: 5/5 calls, under a second left"
    assert ran.err.count(": created ") == 5


def test_apply_in_ci_is_quiet_between_its_progress_lines(bed: Bed) -> None:
    """The default pace off a terminal: a line every few seconds, none for a quick apply."""
    ran = bed.apply()

    assert ran.code == 0, ran.err
    assert "ctflow: apply: " not in ran.err


def test_the_status_line_is_taken_down_when_apply_fails(
    bed: Bed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal the status line hides the cursor; an apply that ends in an error (here
    credentials refused after a first create) shows it again and stops drawing."""

    async def refused(self: Applier, plan: object) -> None:
        self.made("create", 1)
        raise AuthError("credentials refused")

    monkeypatch.setattr(Applier, "run", refused)
    ran = bed.apply(live=True, progress_every=0)

    assert ran.code == 4
    assert HIDE_CURSOR in ran.err, "the status line was drawn"
    assert ran.err.rindex(SHOW_CURSOR) > ran.err.rindex(HIDE_CURSOR), ran.err


def test_lines_above_the_status_line_are_printed_as_written() -> None:
    err = io.StringIO()
    status = StatusLine(err, live=True, every=0)
    status.show("apply: 1/2 calls")
    status.print("  + diwali: created 17 'Diwali :fire: sale [bold]now[/bold]'")
    status.done()
    assert "'Diwali :fire: sale [bold]now[/bold]'" in err.getvalue()


HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
