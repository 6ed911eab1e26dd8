"""Reading upload files (ctflow/upload/sources.py, job.scan): JSONL and CSV, plain or gzip, each
row with the line it starts on; unreadable lines are rows too; a broken file is InvalidInput.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctflow.errors import InvalidInput
from ctflow.upload.job import scan
from ctflow.upload.sources import Unreadable, chunked, chunks, count_rows, format_of, rows


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data) if path.name.lower().endswith(".gz") else data)
    return path


# -- JSONL -----------------------------------------------------------------------------------


def test_jsonl_rows_come_with_their_line_numbers_blank_lines_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", b'{"a": 1}\n\n   \n{"a": 2}\r\n\n{"a": 3}')
    assert list(rows(path, "jsonl")) == [(1, {"a": 1}), (4, {"a": 2}), (6, {"a": 3})]


def test_jsonl_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n')
    assert list(rows(path, "jsonl")) == [(1, {"a": 1}), (2, {"a": 2})]


def test_jsonl_line_that_is_not_json_is_an_unreadable_row(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", b'{"a": 1}\n{"a": \n{"a": 3}\n')
    (first, _), (line, row), (third, _) = rows(path, "jsonl")
    assert (first, line, third) == (1, 2, 3)
    assert isinstance(row, Unreadable)
    assert row.reason.startswith("not JSON: ")
    assert row.text == '{"a": '


@pytest.mark.parametrize("text", ["[1, 2]", '"text"', "42", "null", "true"])
def test_jsonl_line_that_is_not_an_object_is_an_unreadable_row(tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "e.jsonl", f'{{"a": 1}}\n{text}\n'.encode())
    assert list(rows(path, "jsonl"))[1] == (2, Unreadable("not a JSON object", text))


def test_jsonl_line_of_invalid_utf8_is_an_unreadable_row(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", b'{"a": "\xff"}\n{"a": 2}\n')
    (line, row), second = rows(path, "jsonl")
    assert line == 1
    assert isinstance(row, Unreadable)
    assert row.reason.startswith("not JSON")
    assert second == (2, {"a": 2})


def test_unreadable_row_text_is_cut_at_500_characters(tmp_path: Path) -> None:
    path = write(tmp_path / "e.jsonl", b"x" * 2000 + b"\n")
    [(_, row)] = rows(path, "jsonl")
    assert isinstance(row, Unreadable)
    assert row.text == "x" * 500


# -- CSV -------------------------------------------------------------------------------------


def test_csv_rows_are_keyed_by_the_header(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", b"customer_id,points\r\nC1,250\r\nC2,50\r\n")
    assert list(rows(path, "csv")) == [
        (2, {"customer_id": "C1", "points": "250"}),
        (3, {"customer_id": "C2", "points": "50"}),
    ]


def test_csv_multi_line_cell_reports_the_line_its_row_starts_on(tmp_path: Path) -> None:
    text = b'id,note,n\nA,"two\nlines",1\nB,"three\n\nlines",2\n\nC,plain,3\n'
    path = write(tmp_path / "p.csv", text)
    assert list(rows(path, "csv")) == [
        (2, {"id": "A", "note": "two\nlines", "n": "1"}),
        (4, {"id": "B", "note": "three\n\nlines", "n": "2"}),
        (8, {"id": "C", "note": "plain", "n": "3"}),
    ]


def test_csv_row_with_the_wrong_number_of_cells_is_an_unreadable_row(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", b"id,n\nA,1\nB\nC,3,extra\nD,4\n")
    assert list(rows(path, "csv")) == [
        (2, {"id": "A", "n": "1"}),
        (3, Unreadable("1 cells; the header has 2", "B")),
        (4, Unreadable("3 cells; the header has 2", "C,3,extra")),
        (5, {"id": "D", "n": "4"}),
    ]


def test_csv_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", b"\xef\xbb\xbfid,n\nA,1\n")
    assert list(rows(path, "csv")) == [(2, {"id": "A", "n": "1"})]


def test_csv_with_only_a_header_or_nothing_has_no_rows(tmp_path: Path) -> None:
    assert list(rows(write(tmp_path / "h.csv", b"id,n\n"), "csv")) == []
    assert list(rows(write(tmp_path / "e.csv", b""), "csv")) == []


def test_reading_a_csv_closes_what_it_opens(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", b"id,n\nA,1\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(rows(path, "csv")) == [(2, {"id": "A", "n": "1"})]
        stopped = rows(path, "csv")  # a reader that stops early (an interrupted upload)
        assert next(stopped) == (2, {"id": "A", "n": "1"})
        stopped.close()
        gc.collect()
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


# -- gzip ------------------------------------------------------------------------------------


def test_gzip_jsonl_reads_like_the_plain_file(tmp_path: Path) -> None:
    data = b'{"a": 1}\n\nnope\n{"a": 2}\n'
    plain = list(rows(write(tmp_path / "e.jsonl", data), "jsonl"))
    assert list(rows(write(tmp_path / "e.jsonl.gz", data), "jsonl")) == plain
    assert [line for line, _ in plain] == [1, 3, 4]


def test_gzip_csv_reads_like_the_plain_file(tmp_path: Path) -> None:
    data = b'id,note\nA,"x\ny"\nB,z\n'
    plain = list(rows(write(tmp_path / "p.csv", data), "csv"))
    assert list(rows(write(tmp_path / "p.csv.GZ", data), "csv")) == plain
    assert [line for line, _ in plain] == [2, 4]


def _truncated(data: bytes) -> bytes:
    return gzip.compress(data)[:-30]


def _bad_crc(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data))
    packed[-8] ^= 0xFF
    return bytes(packed)


@pytest.mark.parametrize(
    ("name", "damage", "why"),
    [
        ("e.jsonl.gz", lambda data: b"plain text, not gzip", "Not a gzipped file"),
        ("e.jsonl.gz", _truncated, "end-of-stream marker"),
        ("e.jsonl.gz", _bad_crc, "CRC check failed"),
        ("p.csv.gz", _truncated, "end-of-stream marker"),
    ],
)
def test_corrupt_gzip_is_invalid_input_naming_the_file(
    tmp_path: Path, name: str, damage: object, why: str
) -> None:
    data = b"id,n\n" + b'{"a": 1}\n' * 200
    path = tmp_path / name
    path.write_bytes(damage(data))  # type: ignore[operator]
    with pytest.raises(InvalidInput) as caught:
        list(rows(path, "csv" if ".csv" in name else "jsonl"))
    assert str(caught.value).startswith(f"cannot read {path}: ")
    assert why in str(caught.value)


def test_csv_that_is_not_utf8_is_invalid_input_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", b"id,name\nA,Jos\xe9\n")
    with pytest.raises(InvalidInput) as caught:
        list(rows(path, "csv"))
    assert str(caught.value).startswith(f"cannot read {path}: 'utf-8' codec can't decode")


def test_missing_file_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "gone.jsonl"
    with pytest.raises(InvalidInput) as caught:
        list(rows(path, "jsonl"))
    assert str(caught.value) == f"cannot read {path}: No such file or directory"


# -- scan and format_of ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "lines"),
    [(b"", 0), (b"a\n", 1), (b"a\nb\n", 2), (b"a\nb", 2), (b"\n\n\n", 3)],
)
def test_scan_digests_the_bytes_and_counts_lines(tmp_path: Path, data: bytes, lines: int) -> None:
    path = write(tmp_path / "e.jsonl", data)
    assert scan(path) == (hashlib.sha256(data).hexdigest(), lines)


def test_scan_of_gzip_digests_the_compressed_bytes_and_leaves_lines_unknown(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "e.jsonl.gz", b"a\nb\n")
    assert scan(path) == (hashlib.sha256(path.read_bytes()).hexdigest(), None)


def test_scan_of_a_large_file_matches_sha256(tmp_path: Path) -> None:
    data = b'{"identity": "C1", "evtName": "E"}\n' * 80_000  # over one 1 MiB read
    path = write(tmp_path / "big.jsonl", data)
    assert scan(path) == (hashlib.sha256(data).hexdigest(), 80_000)


def test_scan_of_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    path = tmp_path / "gone.jsonl"
    with pytest.raises(InvalidInput) as caught:
        scan(path)
    assert str(caught.value) == f"cannot read {path}: No such file or directory"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("events.jsonl", "jsonl"),
        ("events.ndjson", "jsonl"),
        ("events.json", "jsonl"),
        ("EVENTS.JSONL", "jsonl"),
        ("events.jsonl.gz", "jsonl"),
        ("points.csv", "csv"),
        ("points.CSV.GZ", "csv"),
        ("points.tsv", None),
        ("points.csv.bz2", None),
        ("points.gz", None),
        ("points", None),
    ],
)
def test_format_of_follows_the_file_name(name: str, fmt: str | None) -> None:
    assert format_of(Path("data") / name) == fmt


# -- chunks: the rows, read a batch at a time ------------------------------------------------

LINE = st.sampled_from(
    [
        b'{"a": 1}',
        b'{"b": [1, 2]}',
        b"",
        b"   ",
        b"{broken",
        b"[1]",
        b"7",
        b'"x"',
        b"\xef\xbb\xbf{}",
    ]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    lines=st.lists(st.one_of(LINE, LINE.map(lambda x: b'{"n": 1}')), max_size=40),
    size=st.integers(1, 6),
    bom=st.booleans(),
    end=st.sampled_from([b"", b"\n", b"\r\n"]),
)
def test_chunks_are_the_rows_size_at_a_time(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], size: int, bom: bool, end: bytes
) -> None:
    """Whatever the lines (blank, broken, not objects, a byte-order mark), every chunk but the
    last has ``size`` rows, and the rows and their lines are the ones ``rows`` reads."""
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + (end if lines else b"")
    path = write(tmp_path_factory.mktemp("c") / "e.jsonl", data)
    expected = [(list(n), r) for n, r in chunked(rows(path, "jsonl"), size)]
    got = [(list(n), r) for n, r in chunks(path, "jsonl", size)]
    assert got == expected
    assert all(len(r) == size for _, r in got[:-1])
    assert count_rows(path, "jsonl") == sum(len(r) for _, r in expected)
