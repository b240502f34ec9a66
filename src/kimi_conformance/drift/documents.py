"""OpenAPI documents for drift analysis: read from a path or an http(s) URL, YAML or JSON, 3.0 or 3.1, with
every local `$ref` resolved in place (a reference cycle is left as a `$ref` where it closes).

A document is input the tool does not trust. Whatever it holds, reading it ends in a bounded time with the
document or a one-line ConfigError naming the source: at most `MAX_BYTES` are read, the text must be UTF-8,
the document may nest `MAX_DEPTH` levels and hold `MAX_NODES` nodes, YAML aliases counted as the nodes they
stand for (an alias bomb, a cycle of aliases) and `$ref`s as what they resolve to (a reference bomb). Real
OpenAPI documents nest fewer than 50 levels; the limit keeps every walk of a document, resolved or not, well
inside Python's recursion limit. YAML mapping keys are read as the text written (`200:` is the key "200", as
in JSON), so a document's keys are all strings.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import yaml

from kimi_conformance.errors import ConfigError
from kimi_conformance.settings import url_problem

MAX_BYTES = 50 * 1024 * 1024
"""Of a document's text: the largest OpenAPI documents published are about a quarter of that."""
MAX_DEPTH = 100
MAX_NODES = 5_000_000
"""Of a document once its YAML aliases are expanded, and once its `$ref`s are resolved (a diff of two such
documents takes some 20 s)."""
DOWNLOAD_SECONDS = 60.0
"""A document read from a URL arrives in this time (each read waits 30 s at most)."""

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


def read_document(source: str) -> dict[str, Any]:
    """The parsed document at `source` (a file path or an http(s) URL), or a one-line ConfigError."""
    raw = _download(source) if source.startswith(("http://", "https://")) else _read_file(source)
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source} is not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} is invalid "
                          f"({exc.reason})") from None  # fmt: skip
    data = _parse(text, source)
    if not isinstance(data, dict):
        kinds = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true or false"}
        kind = "empty" if data is None else kinds.get(type(data), f"a {type(data).__name__}")
        raise ConfigError(f"{source} is not an OpenAPI document (its top level is {kind}, not a mapping)")
    if not isinstance(data.get("paths"), dict):
        raise ConfigError(f"{source} is not an OpenAPI document (no `paths`)")
    return data


def _read_file(source: str) -> bytes:
    try:
        with open(source, "rb") as file:  # not stat'ed first: a pipe (`<(curl ...)`) is a document too
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {_one_line(exc)}") from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{source} is larger than {MAX_BYTES // 2**20} MB: too large for an OpenAPI document")
    return raw


def _download(source: str) -> bytes:
    problem = url_problem(source)
    if problem is not None:
        raise ConfigError(f"cannot read {source}: {problem}")
    deadline = time.monotonic() + DOWNLOAD_SECONDS
    chunks: list[bytes] = []
    size = 0
    try:
        with httpx.stream("GET", source, timeout=30, follow_redirects=True) as response:
            if response.is_error:
                raise ConfigError(f"cannot read {source}: HTTP {response.status_code} {response.reason_phrase}")
            for chunk in response.iter_bytes():  # decoded: a compressed body is bounded by what it expands to
                size += len(chunk)
                if size > MAX_BYTES:
                    raise ConfigError(f"{source} is larger than {MAX_BYTES // 2**20} MB: too large for an "
                                      "OpenAPI document")  # fmt: skip
                if time.monotonic() > deadline:
                    raise ConfigError(f"cannot read {source}: not all of it arrived in {DOWNLOAD_SECONDS:.0f} s")
                chunks.append(chunk)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL: a redirect to one, say
        raise ConfigError(f"cannot read {source}: {type(exc).__name__}: {_one_line(exc)}") from None
    return b"".join(chunks)


def _one_line(problem: object) -> str:
    return " ".join(str(problem).split()) or type(problem).__name__


def _too_deep(source: str) -> ConfigError:
    return ConfigError(f"{source} nests deeper than {MAX_DEPTH} levels: too deep for an OpenAPI document")


def _parse(text: str, source: str) -> Any:
    if not text.lstrip().startswith("{"):
        return _load_yaml(text, source)
    try:
        data = json.loads(text)
    except RecursionError:  # Python's own limit: far past MAX_DEPTH
        raise _too_deep(source) from None
    except ValueError as exc:
        raise ConfigError(f"{source} is not valid JSON: {_one_line(exc)}") from None
    _check_json_shape(data, source)
    return data


def _check_json_shape(data: Any, source: str) -> None:
    """`MAX_DEPTH` and `MAX_NODES` for a parsed JSON document (a tree: no node appears twice)."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise _too_deep(source)
        if nodes > MAX_NODES:
            raise ConfigError(f"{source} holds more than {MAX_NODES:,} values: too large for an OpenAPI document")
        if isinstance(node, dict):
            stack += ((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack += ((item, depth + 1) for item in node)


def _load_yaml(text: str, source: str) -> Any:
    loader = None
    try:
        loader = _BoundedLoader(text, source)  # reads the text whole: a control character stops it here
        return loader.get_single_data()
    except RecursionError:  # not expected (the composer stops at MAX_DEPTH), but never a traceback
        raise _too_deep(source) from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f"{source} is not valid YAML: it holds the character U+{exc.character:04X} (at character "
                          f"{exc.position}), which YAML does not allow") from None  # fmt: skip
    except yaml.MarkedYAMLError as exc:
        problem = ", ".join(part for part in (exc.context, exc.problem) if part)
        raise ConfigError(f"{source} is not valid YAML: {_one_line(problem or exc)}{_at(exc.problem_mark)}") from None
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: an integer of more than 4300 digits
        raise ConfigError(f"{source} is not valid YAML: {_one_line(exc)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, composing within `MAX_DEPTH` and `MAX_NODES` with every alias counted as what it
    stands for (PyYAML shares the node, but every walk of the document meets it again, as deep as it sits),
    refusing an alias inside the node it names (a cycle), and reading every scalar mapping key as the text
    written."""

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self._source = source
        self._depth = 0
        """The level of the node being composed (1: the document's top)."""
        self._reach = 0
        """The deepest level the node being composed reaches so far, aliases expanded."""
        self._nodes = 0
        self._aliased = 0
        self._anchored: dict[yaml.Node, tuple[int, int]] = {}
        """An anchored node, once composed -> (the nodes it stands for, the levels it spans)."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        alias = self.check_event(yaml.AliasEvent)
        event: yaml.NodeEvent = self.current_event  # what check_event peeked at
        if alias:
            node = super().compose_node(parent, index)
            if node not in self._anchored:
                raise ConfigError(f"{self._source} is not valid YAML: the alias *{event.anchor}{_at(event.start_mark)} "
                                  "names a node that contains it (a cycle)")  # fmt: skip
            nodes, levels = self._anchored[node]
            if self._depth + levels > MAX_DEPTH:
                raise _too_deep(self._source)
            self._reach = max(self._reach, self._depth + levels)
            self._count(nodes, aliased=True)
            return node
        anchor = event.anchor
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _too_deep(self._source)
        outer, self._reach = self._reach, self._depth
        before = self._nodes
        self._count(1, aliased=False)
        node = super().compose_node(parent, index)
        if anchor is not None and node is not None:
            self._anchored[node] = (self._nodes - before, self._reach - self._depth + 1)
        self._reach = max(outer, self._reach)
        self._depth -= 1
        return node

    def _count(self, nodes: int, aliased: bool) -> None:
        self._nodes += nodes
        self._aliased += nodes if aliased else 0
        if self._nodes > MAX_NODES and self._aliased:
            raise ConfigError(f"{self._source}: its YAML aliases expand it beyond {MAX_NODES:,} nodes "
                              "(an alias bomb?)")  # fmt: skip
        if self._nodes > MAX_NODES:
            raise ConfigError(f"{self._source} holds more than {MAX_NODES:,} values: too large for an OpenAPI "
                              "document")  # fmt: skip

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        node.value = [
            (yaml.ScalarNode(_STR, key.value, key.start_mark, key.end_mark)
             if isinstance(key, yaml.ScalarNode) and key.tag not in (_STR, _MERGE) else key, value)
            for key, value in node.value
        ]  # fmt: skip
        return node


def _pointer(document: dict[str, Any], ref: str, source: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise ConfigError(f"{source}: unresolvable $ref {ref}")
    return node


def _inlined(node: Any, trail: tuple[str, ...], depth: int) -> str | None:
    """The local `$ref` of `node` that `resolved` replaces by its target at `depth`, or None."""
    ref = node.get("$ref") if isinstance(node, dict) else None
    return ref if isinstance(ref, str) and ref.startswith("#/") and depth <= MAX_DEPTH else None


def expansion(document: dict[str, Any], source: str = "the document") -> int:
    """How many nodes `resolved` walks to build the document (at least as many as it holds once resolved), or
    a one-line ConfigError past `MAX_NODES`. Counted without building anything, each `$ref`'s expansion once
    per trail and level (all it depends on): a reference bomb is refused at once, not after minutes."""
    known: dict[tuple[str, tuple[str, ...], int], int] = {}

    def count(node: Any, trail: tuple[str, ...], depth: int) -> int:
        nodes = 1
        ref = _inlined(node, trail, depth)
        if ref is not None and ref in trail:
            return nodes
        if ref is not None:
            key = (ref, trail, depth)
            if key not in known:
                known[key] = count(_pointer(document, ref, source), (*trail, ref), depth + 1)
            nodes += known[key]
        if isinstance(node, dict):
            node = [value for key, value in node.items() if ref is None or key != "$ref"]
        for child in node if isinstance(node, list) else ():
            if nodes > MAX_NODES:
                break
            nodes += count(child, trail, depth + 1)
        if nodes > MAX_NODES:
            raise ConfigError(f"{source}: its $refs expand it beyond {MAX_NODES:,} nodes (a reference bomb?)")
        return nodes

    return count(document, (), 1)


class Inlined(dict[str, Any]):
    """A schema `resolved` put where a `$ref` was, remembering the reference: a discriminator's `mapping` names
    the branches of a union by the references written in it. It compares equal to the plain mapping."""

    __slots__ = ("ref",)

    def __init__(self, content: dict[str, Any], ref: str) -> None:
        super().__init__(content)
        self.ref = ref


def reference_of(schema: Any) -> str | None:
    """The local `$ref` `schema` was written as (resolved in place, or left as a `$ref` where it closes a cycle)."""
    if isinstance(schema, Inlined):
        return schema.ref
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref if isinstance(ref, str) else None


def resolved(document: dict[str, Any], source: str = "the document") -> dict[str, Any]:
    """The document with local `$ref`s replaced by what they point at (siblings of a `$ref` kept, as in 3.1;
    each one an `Inlined` that remembers its reference).
    A `$ref` is left as it is where it closes a cycle, and deeper than `MAX_DEPTH` levels (no diff looks that
    deep); one that expands the document past `MAX_NODES` is a one-line ConfigError naming `source`."""
    expansion(document, source)

    def walk(node: Any, trail: tuple[str, ...], depth: int) -> Any:  # as `expansion` counts
        if isinstance(node, list):
            return [walk(item, trail, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        ref = _inlined(node, trail, depth)
        if ref is not None:
            if ref in trail:
                return {"$ref": ref}
            target = walk(_pointer(document, ref, source), (*trail, ref), depth + 1)
            siblings = {k: walk(v, trail, depth + 1) for k, v in node.items() if k != "$ref"}
            return Inlined({**target, **siblings}, ref) if isinstance(target, dict) else target
        return {key: walk(value, trail, depth + 1) for key, value in node.items()}

    result = walk(document, (), 1)
    assert isinstance(result, dict)
    return result
