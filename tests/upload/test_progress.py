"""The upload's progress bar, as a terminal shows it last: how far the file got."""

from __future__ import annotations

import io

from ctflow.upload.engine import Tally
from ctflow.upload.report import Progress


def last_drawing(tally: Tally, *, complete: bool, total: int | None = 200_000) -> str:
    err = io.StringIO()
    progress = Progress(err, terminal=True)
    progress.start("points.jsonl", total)
    progress.update(tally)
    progress.finish(tally, complete=complete)
    return err.getvalue().splitlines()[-1]


def test_an_interrupted_upload_shows_the_part_of_the_file_it_reached() -> None:
    line = last_drawing(Tally(rows=63_000, accepted=63_000, interrupted=True), complete=False)
    assert " 32% " in line, line
    assert "100%" not in line


def test_a_finished_upload_shows_all_its_rows_even_when_the_estimate_was_off() -> None:
    line = last_drawing(Tally(rows=199_999, accepted=199_999), complete=True)
    assert "100% 199999/199999" in line, line


def test_a_file_of_unknown_length_stopped_early_claims_no_percentage() -> None:
    line = last_drawing(Tally(rows=5_000, interrupted=True), complete=False, total=None)
    assert "%" not in line, line
    assert "5000/?" in line, line
