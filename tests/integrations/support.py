"""What the engine integration tests share: the engine itself or a skip (a failure in CI), flat
rows numbered so that a duplicate or a gap shows, and a ``to_record`` that fails on a first
attempt only.

``check_the_guide`` holds docs/upload-python.md's section on an integration to its real
signature. The engines pickle ``to_record`` by reference: their worker processes import this module.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ctflow.sandbox import Sandbox

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "upload-python.md"
TS = 1_763_600_000
ROWS_PER_PARTITION = 2500
EVENT = "Order Placed"


@dataclass(frozen=True)
class Target:
    """Where an upload goes: the served sandbox, a project whose environment ``local`` points
    at it, the journal's URL and the credentials."""

    sandbox: Sandbox
    project: Path
    journal: str
    environ: dict[str, str]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1"}


def require(module: str) -> ModuleType:
    """``module``, or a skip saying how to install it; in CI a missing engine fails the run."""
    fix = "pip install -e '.[dev]'"
    if in_ci():
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            pytest.fail(f"{module} is required in CI ({exc}); {fix}", pytrace=False)
    return pytest.importorskip(module, reason=f"needs {module}; to run these tests, {fix}")


def row(n: int) -> dict[str, Any]:
    """Flat row ``n``: every 250th has no customer (rejected: no identity), every 7th no
    amount (NaN, left out of the event)."""
    return {
        "customer": None if n % 250 == 0 else f"c-{n % 97}",
        "n": n,
        "amount": float("nan") if n % 7 == 0 else n / 10,
    }


def rows(partition: int) -> list[dict[str, Any]]:
    first = partition * ROWS_PER_PARTITION + 1
    return [row(n) for n in range(first, first + ROWS_PER_PARTITION)]


def valid(partitions: int) -> set[int]:
    return {n for n in range(1, partitions * ROWS_PER_PARTITION + 1) if n % 250}


def invalid(partitions: int) -> set[tuple[int, int]]:
    """(partition, record number in it) of every row rejected for want of an identity."""
    total = partitions * ROWS_PER_PARTITION
    return {
        ((n - 1) // ROWS_PER_PARTITION, (n - 1) % ROWS_PER_PARTITION + 1)
        for n in range(250, total + 1, 250)
    }


def first_batch(partition: int) -> set[int]:
    """The valid rows of the partition's batch 0 (its first 1,000 rows)."""
    first = partition * ROWS_PER_PARTITION + 1
    return {n for n in range(first, first + 1000) if n % 250}


def to_event(flat: dict[str, Any]) -> dict[str, Any]:
    return {
        "identity": flat["customer"],
        "ts": TS + int(flat["n"]),
        "evtName": EVENT,
        "evtData": {"n": int(flat["n"]), "amount": flat["amount"]},
    }


@dataclass(frozen=True)
class FailsOnce:
    """``to_event``, except at row ``at`` of the first attempt to get there (no ``marker`` file
    yet): it raises, or with ``exit`` ends the worker process on the spot."""

    marker: Path
    at: int
    exit: bool = False

    def __call__(self, flat: dict[str, Any]) -> dict[str, Any]:
        if flat["n"] == self.at and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            if self.exit:
                os._exit(17)
            raise RuntimeError(f"the first attempt fails at row {self.at}")
        return to_event(flat)


def check_the_guide(title: str, upload: Callable[..., object]) -> None:
    """The section ``title`` of the guide calls ``upload`` with real keywords, and the
    signature it writes out is the real one (names and defaults)."""
    section = GUIDE.read_text(encoding="utf-8").split(f"\n{title}\n", 1)[1]
    section = re.split(r"\n##+ ", section, maxsplit=1)[0]
    real = inspect.signature(upload).parameters
    calls = [
        node
        for block in re.findall(r"```python\n(.*?)```", section, flags=re.S)
        for node in ast.walk(ast.parse(block))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "upload"
    ]
    assert calls, f"{title} never calls upload()"
    for call in calls:
        assert len(call.args) == 1
        assert {k.arg for k in call.keywords} <= real.keys(), "a keyword upload() lacks"
    written = re.search(r"`(upload\((?:dataframe|frame), \*.*?\))`", section, flags=re.S)
    if written is None:  # the section refers to another's signature
        return
    [stub] = ast.parse(f"def {' '.join(written[1].split())}: ...").body
    assert isinstance(stub, ast.FunctionDef)
    assert [a.arg for a in stub.args.args] == [next(iter(real))]
    documented = {
        a.arg: (ast.literal_eval(d) if d is not None else inspect.Parameter.empty)
        for a, d in zip(stub.args.kwonlyargs, stub.args.kw_defaults, strict=True)
    }
    assert documented == {n: p.default for n, p in real.items() if p.kind == p.KEYWORD_ONLY}
