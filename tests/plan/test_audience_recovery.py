"""A membership batch CleverTap took but whose answer was lost is undone or finished by later
plans (its members were pending in the journal); an Audience whose ``source:`` is switched
between an API segment and a custom list is made anew.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ctflow.clevertap import ServerError
from ctflow.clevertap import client as clientmod
from ctflow.sandbox import Sandbox
from tests.plan.test_audiences import members_csv, members_of, project, run  # noqa: F401

Patch = pytest.MonkeyPatch


def _lose_answer(monkeypatch: Patch, call: int) -> None:
    """The ``call``-th updateSegment is taken by CleverTap, but its answer never comes back."""
    real = clientmod.CleverTap.update_segment
    made = {"n": 0}

    async def lost(self: clientmod.CleverTap, *a: Any, **k: Any) -> Any:
        made["n"] += 1
        result = await real(self, *a, **k)
        if made["n"] == call:
            raise ServerError("POST /api/updateSegment: no answer was read (simulated)")
        return result

    monkeypatch.setattr(clientmod.CleverTap, "update_segment", lost)


def _bed(request: pytest.FixtureRequest) -> tuple[Path, Sandbox]:
    root, sb = request.getfixturevalue("project")
    (root / "campaigns" / "vip-offer.yaml").unlink()
    return root, sb


def _declare(root: Path, ids: list[str]) -> None:
    (root / "data" / "vip.csv").write_text(members_csv(ids), encoding="utf-8")


def test_a_member_added_by_a_lost_batch_is_removed_when_it_leaves_the_file(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, monkeypatch: Patch
) -> None:
    root, sb = _bed(request)
    with monkeypatch.context() as patch:
        _lose_answer(patch, 2)  # the batch of u-99 (the second of 100)
        code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 5, out + err
    assert "u-99" in members_of(sb), "CleverTap took the batch"

    _declare(root, [f"u-{i}" for i in range(150) if i != 99])
    code, out, err = run(capsys, root, "plan")
    assert "(+49 members, −1 member)" in out, out + err
    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, out + err
    assert members_of(sb) == {f"u-{i}" for i in range(150) if i != 99}
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 0, out + err


def test_a_member_removed_by_a_lost_batch_is_added_again_when_it_returns(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest, monkeypatch: Patch
) -> None:
    root, sb = _bed(request)
    everyone = [f"u-{i}" for i in range(150)]
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    _declare(root, [m for m in everyone if m != "u-5"])
    with monkeypatch.context() as patch:
        _lose_answer(patch, 1)
        code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 5, out + err
    assert "u-5" not in members_of(sb), "CleverTap took the removal"

    _declare(root, everyone)
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 2, out + err
    assert "(+1 member, −0 members)" in out
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    assert members_of(sb) == set(everyone)
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 0, out + err


SWITCHED = """\
kind: Audience
key: vip
name: VIP customers
source: custom_list
notify: crm@shop.example
members: ../data/vip.csv
"""


def test_switching_the_source_makes_the_audience_anew_each_way(
    capsys: pytest.CaptureFixture[str], request: pytest.FixtureRequest
) -> None:
    root, sb = _bed(request)
    assert run(capsys, root, "apply", "--auto-approve")[0] == 0
    path = root / "audiences" / "vip.yaml"
    segment_source = path.read_text(encoding="utf-8")

    path.write_text(SWITCHED, encoding="utf-8")
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 2, out + err
    assert "custom list, new; +150 members" in out
    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, out + err
    [made] = sb.custom_lists()
    assert len(sb.segment_members(made["id"])) == 150

    path.write_text(segment_source, encoding="utf-8")
    _declare(root, [f"u-{i}" for i in range(140)])
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 2, out + err
    assert "new segment; +140 members" in out
    code, out, err = run(capsys, root, "apply", "--auto-approve")
    assert code == 0, out + err
    assert "this is a bug" not in out + err
    code, out, err = run(capsys, root, "plan", "--detailed-exitcode")
    assert code == 0, out + err
