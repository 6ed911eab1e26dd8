"""A rendered message as lines people read: ``path: value``, and text of several lines as
``  | line`` lines. Shared by ``ctflow render`` and the plan's trigger diffs. Pure: standard
library only."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any


def as_text(result: Mapping[str, Any]) -> str:
    """Each render as a ``== heading`` line and its :func:`body_lines`."""
    parts = []
    for each in result["renders"]:
        heading = f"{result['kind']} {result['key']}, environment {result['environment']}"
        if each["fixture"] is not None:
            heading += f", fixture {each['fixture']}"
        lines = [f"== {heading}: POST {each['endpoint']}", *body_lines(each["body"])]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def body_lines(body: Mapping[str, Any]) -> list[str]:
    """One ``path: value`` line per leaf of ``body``; a multi-line string as lines of its own."""
    lines = []
    for path, value in _leaves(body, ""):
        if isinstance(value, str) and "\n" in value:
            lines.append(f"{path}:")
            lines.extend(f"  | {line}" for line in value.rstrip("\n").split("\n"))
        else:
            lines.append(f"{path}: {json.dumps(value, ensure_ascii=False)}")
    return lines


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, child in value.items():
            yield from _leaves(child, f"{path}.{key}" if path else str(key))
    else:
        yield path, value
