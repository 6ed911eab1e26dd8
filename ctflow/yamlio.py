"""The one place YAML is read: safe loading, duplicate keys rejected, positions kept.

Scalars resolve as in YAML 1.2's core schema, not PyYAML's YAML 1.1: only ``true``/``false`` are
booleans (``on``, ``no``, ``yes`` stay text), dates stay the text written (``2026-12-01``), and
``10:00`` is text, not the base-60 integer 600. An explicit tag is one of the core schema's
(``!!int 0x1F`` reads as 31; ``!!int x`` or ``!!timestamp`` is an error), and no text holds a lone
surrogate (``"\ud800"``), which no file, request or journal could encode. Errors carry
``file:line:col`` (1-based) so every caller can say where. Must not import anything above
``ctflow.errors``.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
import yaml.reader
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ctflow import gcpause

# A document may not expand (through aliases) to more values than this: a "billion laughs"
# document is refused instead of being walked for hours.
MAX_VALUES = 1_000_000
MAX_BYTES = 20_000_000
"""A YAML (or JSON fixture) file larger than this is surely a mistake, and is refused unread."""


class YamlError(Exception):
    """A YAML file could not be read; ``str()`` is ``path:line:col: message``."""

    def __init__(self, path: Path | str, line: int, col: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{col}: {message}")
        self.path, self.line, self.col, self.message = str(path), line, col, message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys instead of keeping the last one.

    With ``duplicates`` set, a duplicate key is noted there instead, and the first value kept
    (so the rest of the document can still be read and checked)."""

    duplicates: list[YamlError] | None = None
    path: Path | str = ""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # `!!map` on a list or a scalar
            found = "sequence" if isinstance(node, SequenceNode) else "scalar"
            raise ConstructorError(
                None, None, f"expected a mapping node, but found {found}", node.start_mark
            )
        seen: dict[Any, Node] = {}
        kept: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise ConstructorError(
                    None,
                    None,
                    "a key must be a single value, not a list or mapping",
                    key_node.start_mark,
                ) from None
            if key in seen:
                first = seen[key].start_mark
                message = f"duplicate key {key!r} (first defined at line {first.line + 1})"
                if self.duplicates is None:
                    raise ConstructorError(None, None, message, key_node.start_mark)
                mark = key_node.start_mark
                self.duplicates.append(
                    YamlError(self.path, mark.line + 1, mark.column + 1, message)
                )
                continue
            seen[key] = key_node
            kept.append((key_node, value_node))
        if len(kept) < len(node.value):
            node = MappingNode(node.tag, kept, node.start_mark, node.end_mark, node.flow_style)
        return super().construct_mapping(node, deep=deep)

    def construct_scalar(self, node: ScalarNode | MappingNode) -> Any:
        value = super().construct_scalar(node)
        found = None if not isinstance(value, str) or value.isascii() else _SURROGATE.search(value)
        if found is not None:
            raise ConstructorError(
                None,
                None,
                f"{found[0]!r} is half of a UTF-16 surrogate pair, not a character; write the "
                "character itself (or both halves of its pair)",
                node.start_mark,
            )
        return value

    def construct_core_int(self, node: ScalarNode) -> int:
        text = self.construct_scalar(node)
        match = _CORE_INT.match(text) if isinstance(text, str) else None
        if match is None:
            raise _not_a(node, text, "an integer")
        try:
            return int(text, 8 if match[1] else 16 if match[2] else 10)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise _not_a(node, text, "a whole number of at most 4300 digits") from None

    def construct_core_float(self, node: ScalarNode) -> float:
        text = self.construct_scalar(node)
        if not isinstance(text, str) or not _CORE_FLOAT.match(text):
            raise _not_a(node, text, "a number")
        lowered = text.lower()
        if lowered.endswith((".inf", ".nan")):
            return float(lowered.replace(".", ""))
        return float(text)

    def construct_core_bool(self, node: ScalarNode) -> bool:
        text = self.construct_scalar(node)
        if text not in _CORE_BOOL:
            raise _not_a(node, text, "true or false")
        return _CORE_BOOL[text]

    def construct_core_null(self, node: ScalarNode) -> None:
        text = self.construct_scalar(node)
        if not isinstance(text, str) or not re.match(_CORE_NULL_TEXT, text):
            raise _not_a(node, text, "null")

    def construct_undefined(self, node: Node) -> Any:
        raise ConstructorError(
            None,
            None,
            f"the tag {_shown_tag(node.tag)} is not one ctflow reads; YAML 1.2's core schema "
            "has !!str, !!int, !!float, !!bool, !!null, !!seq and !!map",
            node.start_mark,
        )


_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|(0o)[0-7]+|(0x)[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_CORE_BOOL_TEXT = r"^(?:true|True|TRUE|false|False|FALSE)$"
_CORE_BOOL = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_CORE_NULL_TEXT = r"^(?:~|null|Null|NULL|)$"


def _not_a(node: ScalarNode, text: object, what: str) -> ConstructorError:
    shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:39] + "…"
    return ConstructorError(
        None, None, f"{shown} is not {what} (read as {_shown_tag(node.tag)})", node.start_mark
    )


def _shown_tag(tag: str) -> str:
    """``!!int`` for the core schema's tags, the tag as written otherwise."""
    core = "tag:yaml.org,2002:"
    return "!!" + tag[len(core) :] if tag.startswith(core) else tag


# YAML 1.2 core schema resolvers (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_StrictLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", _CORE_BOOL_TEXT, "tTfF"),
    ("null", _CORE_NULL_TEXT, "~nN"),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("float", _CORE_FLOAT.pattern, "-+.0123456789"),
):
    _StrictLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first) or None
    )
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
_StrictLoader.yaml_constructors = {
    **{
        f"tag:yaml.org,2002:{name}": yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{name}"]
        for name in ("str", "seq", "map")
    },
    "tag:yaml.org,2002:int": _StrictLoader.construct_core_int,
    "tag:yaml.org,2002:float": _StrictLoader.construct_core_float,
    "tag:yaml.org,2002:bool": _StrictLoader.construct_core_bool,
    "tag:yaml.org,2002:null": _StrictLoader.construct_core_null,
    None: _StrictLoader.construct_undefined,
}

_FastComposer: type[yaml.CSafeLoader] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CComposer(yaml.CSafeLoader):
        """libyaml's parser with the same YAML 1.2 resolvers; used to compose nodes only.

        libyaml calls back into Python to resolve every scalar's tag: with no path resolvers
        the tag of a plain scalar depends on its text alone, and a quoted one is always text,
        so tags are remembered by text (a tenth of composing 5,000 campaigns)."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is not ScalarNode:
                return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if not implicit[0]:
                return _STR
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                if len(_PLAIN_TAGS) >= _PLAIN_TAGS_KEPT:
                    _PLAIN_TAGS.clear()
                tag = _PLAIN_TAGS[value] = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            return tag

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            """Only path resolvers use it, and there are none."""

        def ascend_resolver(self) -> None:
            """Only path resolvers use it, and there are none."""

    _PLAIN_TAGS: dict[str, str] = {}
    _PLAIN_TAGS_KEPT = 50_000

    _CComposer.yaml_implicit_resolvers = _StrictLoader.yaml_implicit_resolvers
    _FastComposer = _CComposer


@dataclass(frozen=True)
class Document:
    """One YAML document: its data and its node tree, to say where any value stands."""

    path: Path
    data: Any
    node: Node | None
    text_keys: bool = False
    """True when every mapping key in ``data`` is known to be text (False: not known)."""

    def where(self, keys: Sequence[str | int]) -> str:
        """``path:line:col`` of the value at ``keys`` (or of its nearest existing parent)."""
        line, col = self.position(keys)
        return f"{self.path}:{line}:{col}"

    def position(self, keys: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``keys``, or of its nearest existing parent.

        With ``key=True`` and a mapping entry at ``keys``, the position of the key itself (where
        an unknown or misspelled field should be pointed at).
        """
        node = self.node
        for index, part in enumerate(keys):
            child = _child(node, part, as_key=key and index == len(keys) - 1)
            if child is None:
                break
            node = child
        mark = node.start_mark if node is not None else None
        return (mark.line + 1, mark.column + 1) if mark else (1, 1)

    def exists(self, keys: Sequence[str | int]) -> bool:
        """Whether the node tree has a value at ``keys``."""
        node = self.node
        for part in keys:
            node = _child(node, part)
            if node is None:
                return False
        return True

    def scalar_style(self, keys: Sequence[str | int]) -> str | None:
        """The YAML style of the scalar at ``keys`` (``|``, ``>``, quotes, or ``None`` = plain)."""
        node = self.node
        for part in keys:
            node = _child(node, part)
            if node is None:
                return None
        return node.style if isinstance(node, ScalarNode) else None


def _child(node: Node | None, part: str | int, *, as_key: bool = False) -> Node | None:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == str(part):
                found: Node = key_node if as_key else value_node
                return found
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: Node = node.value[part]
        return child
    return None


def _compose(text: str) -> list[Node]:
    """The node trees of ``text``: parsed by libyaml when present (several times faster), and by
    PyYAML when libyaml refuses the text, so that errors read the same on every machine."""
    if _FastComposer is not None:
        try:
            return list(yaml.compose_all(text, Loader=_FastComposer))
        except yaml.YAMLError:
            pass
    return list(yaml.compose_all(text, Loader=_StrictLoader))


_STR, _SEQ, _MAP = (f"tag:yaml.org,2002:{name}" for name in ("str", "seq", "map"))


_CORE_SCALARS = {
    f"tag:yaml.org,2002:{name}": _StrictLoader.yaml_constructors[f"tag:yaml.org,2002:{name}"]
    for name in ("int", "float", "bool", "null")
}


class _Unusual(Exception):
    """Something :func:`_plain_data` leaves to PyYAML's constructor."""


def _construct(loader: _StrictLoader, node: Node, *, aliased: bool) -> tuple[Any, bool]:
    """The data of one document, and whether every mapping key in it is text: built directly
    from its nodes when they hold only text, lists, mappings with text keys and core scalars
    (several times faster), and by PyYAML's constructor otherwise (aliases, any error or
    duplicate key, a key that is not text), so that results and errors are its own."""
    if not aliased:
        try:
            return _plain_data(loader, node), True
        except (_Unusual, RecursionError):
            pass
    return loader.construct_document(node), False


def _plain_data(loader: _StrictLoader, node: Node) -> Any:
    kind = type(node)
    if kind is ScalarNode:
        if node.tag == _STR:
            value: str = node.value
            if not value.isascii() and _SURROGATE.search(value):
                raise _Unusual
            return value
        construct = _CORE_SCALARS.get(node.tag)
        if construct is None:
            raise _Unusual
        try:
            return construct(loader, node)
        except yaml.YAMLError:
            raise _Unusual from None
    if kind is SequenceNode and node.tag == _SEQ:
        return [_plain_data(loader, item) for item in node.value]
    if kind is MappingNode and node.tag == _MAP:
        return _plain_mapping(loader, node)
    raise _Unusual


def _plain_mapping(loader: _StrictLoader, node: Node) -> dict[Any, Any]:
    data: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if type(key_node) is not ScalarNode or key_node.tag != _STR:
            raise _Unusual
        key = key_node.value
        if key in data or (not key.isascii() and _SURROGATE.search(key)):
            raise _Unusual
        # most values are text: taken here, not through another call (a tenth of reading)
        if type(value_node) is ScalarNode and value_node.tag == _STR:
            value = value_node.value
            if not value.isascii() and _SURROGATE.search(value):
                raise _Unusual
            data[key] = value
        else:
            data[key] = _plain_data(loader, value_node)
    return data


def load_documents(path: Path, duplicates: list[YamlError] | None = None) -> list[Document]:
    """Every document of ``path`` with its positions.

    A duplicate mapping key is an error, unless ``duplicates`` is given: then each is added to
    it and the key's first value kept."""
    text = _read(path)
    try:
        with gcpause.paused(keep=False):
            return _documents(path, text, duplicates)
    except yaml.MarkedYAMLError as exc:
        raise _error(path, exc) from None
    except RecursionError:
        raise YamlError(path, 1, 1, "nested too deeply to read") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlError(
            path, line, col, f"character U+{exc.character:04X} is not allowed in YAML"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, 1, str(exc).splitlines()[0]) from None


def _documents(path: Path, text: str, duplicates: list[YamlError] | None) -> list[Document]:
    nodes = _compose(text)
    aliased = "&" in text  # once: a big file's text is scanned for it, not each of its documents
    if aliased:  # only aliases make a document bigger than its text, and they need anchors
        for node in nodes:
            _check_size(path, node)
    loader = _StrictLoader("")  # constructs from the nodes: the text is not read again
    loader.duplicates, loader.path = duplicates, path
    try:
        built = [_construct(loader, node, aliased=aliased) for node in nodes]
    finally:
        loader.dispose()
    return [
        Document(path, data, node, text_keys)
        for (data, text_keys), node in zip(built, nodes, strict=True)
    ]


def load_single(path: Path) -> Document:
    """The only document of ``path`` (data ``None`` for an empty file)."""
    docs = load_documents(path)
    if len(docs) > 1:
        raise YamlError(path, 1, 1, f"expected one YAML document, found {len(docs)}")
    return docs[0] if docs else Document(path, None, None)


def _check_size(path: Path, root: Node) -> None:
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        if id(node) not in sizes:
            sizes[id(node)] = 0  # a recursive alias counts once
            children: list[Node] = []
            if isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, SequenceNode):
                children = list(node.value)
            sizes[id(node)] = 1 + sum(size(child) for child in children)
        return sizes[id(node)]

    if size(root) > MAX_VALUES:
        mark = root.start_mark
        raise YamlError(
            path,
            mark.line + 1,
            mark.column + 1,
            f"document expands to more than {MAX_VALUES:,} values (through aliases?); refusing it",
        )


def _read(path: Path) -> str:
    """The text of ``path``: a regular file (not a device or a pipe, which may never end) of
    at most :data:`MAX_BYTES`."""
    try:
        found = path.stat()
        if not stat.S_ISREG(found.st_mode):  # before opening: a pipe's open waits
            raise YamlError(path, 1, 1, "not a regular file")
        with path.open("rb") as stream:
            # the size stat gave, not MAX_BYTES: a read allocates what it is asked for first
            data = stream.read(min(found.st_size, MAX_BYTES) + 1)
            if len(data) > found.st_size:  # it grew since: the rest, within the limit
                data += stream.read(MAX_BYTES + 1 - len(data))
        if len(data) > MAX_BYTES:
            raise YamlError(path, 1, 1, f"more than {MAX_BYTES:,} bytes; refusing it")
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise YamlError(path, 1, 1, f"not UTF-8 text ({exc.reason})") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise YamlError(path, 1, 1, reason) from None


def _error(path: Path, exc: yaml.MarkedYAMLError) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = exc.problem or exc.context or "invalid YAML"
    if "'\\t'" in message:
        message += " (YAML indents with spaces, never tabs)"
    return YamlError(path, line, col, message)
