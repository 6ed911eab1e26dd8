"""The one place YAML is read: safe loading, duplicate keys rejected, positions kept.

Errors carry ``file:line:col`` (1-based) so every caller can say where. Must not import anything
above ``ctflow.errors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode


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


@dataclass(frozen=True)
class Document:
    """One YAML document: its data and its node tree, to say where any value stands."""

    path: Path
    data: Any
    node: Node | None

    def where(self, keys: Sequence[str | int]) -> str:
        """``path:line:col`` of the value at ``keys`` (or of its nearest existing parent)."""
        node = self.node
        for key in keys:
            child = _child(node, key)
            if child is None:
                break
            node = child
        mark = node.start_mark if node is not None else None
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return f"{self.path}:{line}:{col}"


def _child(node: Node | None, key: str | int) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == str(key):
                found: Node = value_node
                return found
    if isinstance(node, SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        child: Node = node.value[key]
        return child
    return None


def load_documents(path: Path) -> list[Document]:
    """Every document of ``path`` with its positions."""
    text = _read(path)
    try:
        nodes = list(yaml.compose_all(text, Loader=_StrictLoader))
        loader = _StrictLoader(text)
        try:
            datas = [loader.construct_document(node) for node in nodes]
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _error(path, exc) from None
    return [Document(path, data, node) for data, node in zip(datas, nodes, strict=True)]


def load_all(path: Path) -> list[Any]:
    """Every document of ``path``, in order."""
    return [document.data for document in load_documents(path)]


def load_single(path: Path) -> Document:
    """The only document of ``path`` (data ``None`` for an empty file)."""
    docs = load_documents(path)
    if len(docs) > 1:
        raise YamlError(path, 1, 1, f"expected one YAML document, found {len(docs)}")
    return docs[0] if docs else Document(path, None, None)


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
