"""Arguments, file names and data that are not UTF-8 text, or that the file system refuses,
through the real entry point: each is a clear message with its exit code, never "this is a bug".
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ctflow import cli
from ctflow.cli.text import printable
from ctflow.errors import InvalidInput
from ctflow.send.api import load_project
from tests.send.support import write_project as write_send_project
from tests.spec.project_support import write_project

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.run(list(argv), {})
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_problem_in_a_file_whose_name_is_not_utf8_is_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path)
    name = os.fsdecode(b"caf\xe9.yaml")  # bytes that are not UTF-8, as Python keeps them
    (root / name).write_text("kind: EventSchema\nevent: Refund\n")
    code, out, err = run(capsys, "-C", str(root), "validate")
    assert code == 3, err
    assert out == f"{root}/caf\\udce9.yaml:1:1: missing required field 'version'\n"


def _ctflow(*argv: str | bytes, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "ctflow", *argv], cwd=cwd, env=env, capture_output=True, timeout=60
    )


def test_an_argument_that_is_not_utf8_is_a_usage_error_before_any_send(tmp_path: Path) -> None:
    root = write_send_project(tmp_path)
    ran = _ctflow(
        "send", "order-shipped", "--to", b"q\xff@example.com", "--fixture", "two-items", cwd=root
    )
    assert ran.returncode == 64, ran.stderr
    assert ran.stderr.decode() == (
        "ctflow: argument 4 (b'q\\xff@example.com') is not UTF-8 text; ctflow reads its "
        "arguments, file names included, as UTF-8\n"
    )
    assert not (root / ".ctflow").exists()


def test_the_real_process_prints_a_name_that_is_not_utf8_escaped(tmp_path: Path) -> None:
    root = write_project(tmp_path)
    (root / os.fsdecode(b"\xff.yaml")).write_text("kind: EventSchema\nevent: Refund\n")
    ran = _ctflow("validate", cwd=root)
    assert ran.returncode == 3, ran.stderr
    assert ran.stdout.decode() == "\\udcff.yaml:1:1: missing required field 'version'\n"


def test_uploading_a_file_whose_name_is_too_long_is_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path)
    name = "x" * 300 + ".jsonl"
    code, _, err = run(capsys, "-C", str(root), "upload", "events", name)
    assert code == 3, err
    assert err == f"ctflow: {root}/{name}: File name too long\n"


@pytest.mark.parametrize(
    ("to", "data", "problem"),
    [
        (
            "q\udcff@example.com",
            {},
            "'q\\udcff@example.com': it has a control character or bytes that are not UTF-8",
        ),
        (
            "C1",
            {"order_id": "SO-1", "items": [{"name": "M\ud800", "qty": 1}]},
            "data.items[0].name: holds a lone surrogate (\\ud800-\\udfff), which is not a "
            "character",
        ),
    ],
)
def test_the_python_api_refuses_text_no_request_can_carry(
    tmp_path: Path, to: str, data: dict[str, object], problem: str
) -> None:
    root = write_send_project(tmp_path)
    shop = load_project(root, env="sandbox", environ={})
    with pytest.raises(InvalidInput) as caught:
        shop.send("order-shipped", to=to, data=data or {"order_id": "SO-1", "items": []})
    assert caught.value.problems == [problem]
    assert not (root / ".ctflow" / "sandbox.db").exists()


def test_output_escapes_what_its_encoding_cannot_hold() -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    printable(stream)
    stream.write("caf\udce9 \ud800\n")
    stream.flush()
    assert stream.buffer.getvalue() == b"caf\\udce9 \\ud800\n"  # type: ignore[attr-defined]
