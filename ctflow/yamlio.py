"""The one place YAML is read: safe loading, duplicate keys rejected, positions kept.

Errors carry ``file:line:col`` (1-based) so every caller can say where. Must not import anything
above ``ctflow.errors``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node


class YamlError(Exception):
    """A YAML file could not be read; ``str()`` is ``path:line:col: message``."""

    def __init__(self, path: Path | str, line: int, col: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = str(path), line, col, message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                first = seen[key].start_mark
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first defined at line {first.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_all(path: Path) -> list[Any]:
    """Every document of ``path``, in order."""
    text = _read(path)
    try:
        return list(yaml.load_all(text, Loader=_StrictLoader))
    except yaml.MarkedYAMLError as exc:
        raise _error(path, exc) from None


def load_single(path: Path) -> Any:
    """The only document of ``path`` (``None`` for an empty file)."""
    docs = load_all(path)
    if len(docs) > 1:
        raise YamlError(path, 1, 1, f"expected one YAML document, found {len(docs)}")
    return docs[0] if docs else None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError(path, 1, 1, f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise YamlError(path, 1, 1, exc.strerror or str(exc)) from None


def _error(path: Path, exc: yaml.MarkedYAMLError) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return YamlError(path, line, col, exc.problem or exc.context or "invalid YAML")
