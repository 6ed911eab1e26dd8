"""The upload guides (docs/uploads.md, docs/upload-python.md) describe today's interface: every
``ctflow upload`` flag they show exists, every option the command has is documented, their Python
parses and calls ``upload_records`` / ``Account`` with real keywords, and the ``--format json``
keys they list are the ones a real upload prints.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import ctflow
from ctflow import cli

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "uploads.md"
PYTHON_GUIDE = ROOT / "docs" / "upload-python.md"
DOCS = (GUIDE, PYTHON_GUIDE)
EXAMPLE = ROOT / "examples" / "journeys"
FLAG = re.compile(r"--[a-z][a-z-]*")


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def python_blocks() -> list[tuple[str, str]]:
    return [
        (f"{doc.name} block {number}", code)
        for doc in DOCS
        for number, code in enumerate(fenced(doc.read_text(encoding="utf-8"), "python"), 1)
    ]


def upload_command_flags(text: str) -> set[str]:
    """Flags written after ``ctflow upload`` on a line, or on the indented ``[--…`` lines that
    continue a synopsis."""
    found: set[str] = set()
    continuing = False
    for line in text.splitlines():
        if "ctflow upload" in line:
            for part in line.split("ctflow upload")[1:]:
                found.update(FLAG.findall(part.split("`")[0]))
            continuing = True
        elif continuing and re.match(r"^\s+\[--", line):
            found.update(FLAG.findall(line))
        else:
            continuing = False
    return found


def real_upload_flags(capsys: pytest.CaptureFixture[str]) -> set[str]:
    assert cli.run(["upload", "--help"], {}) == 0
    return set(FLAG.findall(capsys.readouterr().out))


def test_every_upload_flag_the_docs_show_exists(capsys: pytest.CaptureFixture[str]) -> None:
    real = real_upload_flags(capsys)
    for doc in DOCS:
        shown = upload_command_flags(doc.read_text(encoding="utf-8"))
        assert shown - real == set(), f"{doc.name} shows flags `ctflow upload` does not have"
    assert upload_command_flags(GUIDE.read_text(encoding="utf-8")) >= {"--env", "--restart"}


def test_every_upload_option_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    missing = {flag for flag in real_upload_flags(capsys) - {"--help"} if f"`{flag}" not in guide}
    missing -= upload_command_flags(guide)
    assert missing == set(), "options of `ctflow upload` that docs/uploads.md never mentions"


@pytest.mark.parametrize(("where", "code"), python_blocks())
def test_python_blocks_parse(where: str, code: str) -> None:
    ast.parse(code, filename=where)


def calls(tree: ast.AST, name: str) -> list[ast.Call]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if called == name:
                found.append(node)
    return found


@pytest.mark.parametrize("name", ["upload_records", "Account"])
def test_python_calls_use_real_keywords(name: str) -> None:
    target = getattr(ctflow, name)
    parameters = inspect.signature(target).parameters
    positional = [
        p for p in parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    seen = 0
    for where, code in python_blocks():
        for call in calls(ast.parse(code), name):
            seen += 1
            keywords = {k.arg for k in call.keywords if k.arg is not None}
            assert keywords <= parameters.keys(), (
                f"{where}: {name}() has no {keywords - set(parameters)}"
            )
            assert len(call.args) <= len(positional), f"{where}: too many positional arguments"
            if name == "upload_records":
                assert "batch_id_prefix" in keywords, f"{where}: batch_id_prefix is required"
    assert seen, f"the guides never call {name}()"


def test_the_documented_signature_is_the_real_one() -> None:
    [stub] = [
        node
        for _, code in python_blocks()
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.FunctionDef) and node.name == "upload_records"
    ]
    real = inspect.signature(ctflow.upload_records).parameters
    args = stub.args
    assert [a.arg for a in args.args] == [
        n for n, p in real.items() if p.kind == p.POSITIONAL_OR_KEYWORD
    ]
    documented = {
        a.arg: (ast.literal_eval(d) if d is not None else inspect.Parameter.empty)
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    }
    assert documented == {n: p.default for n, p in real.items() if p.kind == p.KEYWORD_ONLY}


def test_the_recipes_share_the_ledger_through_the_journal_not_a_class_of_their_own() -> None:
    text = PYTHON_GUIDE.read_text(encoding="utf-8")
    assert "PostgresLedger" not in text
    for title in ("## Spark", "## Dask", "## Ray Data", "## Airflow"):
        recipe = text.split(title, 1)[1].split("\n## ", 1)[0]
        assert 'journal=os.environ["CTFLOW_JOURNAL_URL"]' in recipe, title


def test_the_summary_table_names_real_fields() -> None:
    text = PYTHON_GUIDE.read_text(encoding="utf-8")
    section = text.split("## The summary", 1)[1].split("raise_for_status()", 1)[0]
    fields = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert fields, "the summary table lists no field"
    summary = ctflow.UploadSummary
    missing = [
        f for f in fields if f not in summary.__dataclass_fields__ and not hasattr(summary, f)
    ]
    assert missing == []


# -- --format json -----------------------------------------------------------------------------


def documented_json_keys() -> tuple[set[str], set[str], set[str]]:
    """(keys of a `files` entry, keys of `total`, keys of a batch) as docs/uploads.md lists them."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("One entry in `files` per file:", 1)[1]
    table, rest = section.split("\n\n", 2)[1:3]
    files: set[str] = set()
    batch: set[str] = set()
    for row in table.splitlines()[2:]:
        first = row.split("|")[1]
        files.update(re.findall(r"`(\w+)`", first))
        if "ambiguous_batches" in first:
            batch.update(re.findall(r'"(\w+)"', row))
    total = set(re.findall(r"`(\w+)`", rest.split("\n\n", 1)[0].split("adds up", 1)[1]))
    return files, total, batch


@pytest.fixture(scope="module")
def real_json(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`ctflow upload events FILE --format json` on a copy of the example project, against the
    sandbox: one valid record and one rejected (milliseconds)."""
    project = tmp_path_factory.mktemp("docs-upload") / "shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".ctflow"))
    good = {
        "identity": "C100234",
        "ts": 1767508930,
        "evtName": "Charged",
        "evtData": {"Charged ID": "SO-2026-000112", "Amount": 2499.0, "Currency": "INR"},
    }
    lines = [good, {**good, "ts": 1767508930000}]
    (project / "orders.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.run(
            ["-C", str(project), "upload", "events", "orders.jsonl", "--format", "json"], {}
        )
    assert code == 3, err.getvalue()
    loaded: dict[str, Any] = json.loads(out.getvalue())
    return loaded


def test_documented_json_keys_are_in_a_real_run(real_json: dict[str, Any]) -> None:
    files, total, batch = documented_json_keys()
    assert files >= {"file", "batch_prefix", "dead_letter"}
    assert "rows" in total
    [entry] = real_json["files"]
    assert files - entry.keys() == set()
    assert total - real_json["total"].keys() == set()
    assert batch == {"batch", "first_line", "last_line", "records"}


def test_every_key_of_a_real_run_is_documented(real_json: dict[str, Any]) -> None:
    files, total, _ = documented_json_keys()
    [entry] = real_json["files"]
    assert entry.keys() - files == set(), "keys `ctflow upload --format json` prints, undocumented"
    assert real_json["total"].keys() - total == set()


def test_the_json_example_has_the_real_shape(real_json: dict[str, Any]) -> None:
    [block] = [
        b for b in fenced(GUIDE.read_text(encoding="utf-8"), "console") if "--format json" in b
    ]
    example = json.loads(block.split("\n", 1)[1])
    assert example.keys() == real_json.keys()
    assert example["files"][0].keys() == real_json["files"][0].keys()
    assert example["total"].keys() == real_json["total"].keys()
