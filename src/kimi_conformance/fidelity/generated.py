"""Tool schemas **generated** by hypothesis from the MFJS grammar the contract encodes
(`#/components/schemas/MfjsRootSchema`, verifiers §3), for the tool-call fidelity suite: every type, string enums,
nested objects and arrays, `anyOf`, `$defs`/`$ref` (and `#`, the root itself), `required`, titles, descriptions
and defaults, kept well inside walle's size caps (`CAPS`). Every schema is satisfiable by construction: `required`
names only declared properties, an enum's values meet the string's length bounds, every minimum is at most its
maximum (an integer range holds an integer), a default meets its own schema, and a reference to the root only
sits under a property that is not required, so a finite instance always exists.

`generated(count)` is the same list in every process of a run: the draw is derandomized and made in a fresh
interpreter (see there), so the xdist workers collect the same tests with the same schemas.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kimi_conformance.fidelity.mfjs import RESERVED_NAMES


@dataclass(frozen=True, slots=True)
class Caps:
    """Size caps of generated schemas: far below walle's (≤ 100 properties, ≤ 5 nesting levels, anyOf ≤ 10,
    enum ≤ 500; verifiers §3), so that the arguments a model writes fit a small output cap."""

    depth: int = 4
    """Nesting levels below the root (a property's schema is level 1)."""
    properties: int = 5
    """Properties per object."""
    total_properties: int = 20
    """Properties in the whole schema, $defs included."""
    any_of: int = 3
    enum: int = 6
    string_length: int = 24
    items: int = 4
    """The largest maxItems (and minItems at most 2)."""
    defs: int = 3
    number: int = 1000
    """Bounds of numbers, ± this."""


CAPS = Caps()
REF_DEPTH = 2
"""`$ref` nodes only down to this level, and `$defs` are built as if at this level: a reference never nests a
schema deeper than `Caps.depth`."""

_PROPERTY_WORDS = (
    "city", "query", "limit", "offset", "unit", "date", "start", "end", "title", "note", "tags", "items",
    "priority", "status", "owner", "email", "currency", "amount", "language", "region", "mode", "level", "format",
    "sort", "filters", "user_id", "account", "path", "content", "label", "color", "size", "weight", "count",
    "enabled", "retries", "timeout", "threshold", "latitude", "longitude", "country", "category", "reason", "id",
)  # fmt: skip
_ENUM_WORDS = (
    "low", "medium", "high", "daily", "weekly", "monthly", "csv", "json", "xml", "metric", "imperial", "red",
    "green", "blue", "asc", "desc", "draft", "open", "closed", "north", "south", "east", "west", "eur", "usd", "jpy",
    "small", "large", "on", "off", "auto", "manual",
)  # fmt: skip
_DESCRIPTIONS = (
    "What to look up.", "How many results to return.", "The unit the value is given in.", "When it starts (ISO 8601).",
    "A short free-text note.", "Which records to include.", "The order of the results.", "Who it is for.",
    "Optional settings; leave out for the defaults.", "An identifier from an earlier call.",
)  # fmt: skip

_names = st.one_of(st.sampled_from(_PROPERTY_WORDS), st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True))
_def_names = st.from_regex(r"[A-Z][A-Za-z0-9_]{0,11}", fullmatch=True)
_enum_values = st.one_of(st.sampled_from(_ENUM_WORDS), st.from_regex(r"[a-z][a-z0-9 _-]{0,11}", fullmatch=True))


@functools.cache
def _ints(low: int, high: int) -> st.SearchStrategy[int]:
    """Strategies are built once each (a new strategy per draw is validated again: most of the time spent)."""
    return st.integers(low, high)


@functools.cache
def _choice(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


@functools.cache
def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@functools.cache
def _name_lists(count: int) -> st.SearchStrategy[list[str]]:
    return st.lists(_names.filter(lambda n: n not in RESERVED_NAMES), min_size=count, max_size=count, unique=True)


@functools.cache
def _enum_lists(most: int) -> st.SearchStrategy[list[str]]:
    return st.lists(_enum_values, min_size=1, max_size=most, unique=True)


@functools.cache
def _quarters(cap: int) -> st.SearchStrategy[float]:
    """Numbers in quarters: exact in binary, never written in exponent form (MFJS refuses scientific notation)."""
    return st.integers(-4 * cap, 4 * cap).map(lambda q: q / 4)


_BOOLEANS = st.booleans()


class _Builder:
    """One generated schema, drawn node by node, with the budget of properties it has left."""

    def __init__(self, draw: Callable[..., Any], caps: Caps) -> None:
        self.draw = draw
        self.caps = caps
        self.properties_left = caps.total_properties
        self.defs: dict[str, dict[str, Any]] = {}

    def annotate(self, node: dict[str, Any]) -> dict[str, Any]:
        """A title and a description, sometimes."""
        if self.draw(_ints(0, 3)) == 0:
            node["title"] = self.draw(_choice(_PROPERTY_WORDS)).replace("_", " ").capitalize()
        if self.draw(_BOOLEANS):
            node["description"] = self.draw(_choice(_DESCRIPTIONS))
        return node

    def root(self) -> dict[str, Any]:
        self.properties_left -= self.caps.properties  # the root's own properties, kept for it
        for _ in range(self.draw(_ints(0, self.caps.defs))):
            name = self.draw(_def_names)
            if name not in self.defs:
                self.defs[name] = self.node(REF_DEPTH, optional=False, in_defs=True)
        self.properties_left += self.caps.properties
        root = self.object(0, in_defs=False)
        if self.defs:
            root["$defs"] = self.defs
        if self.draw(_ints(0, 9)) == 0:
            root["$id"] = f"urn:kimi-conformance:fidelity:{self.draw(_ints(0, 999))}"
        return root

    def node(self, depth: int, *, optional: bool, in_defs: bool) -> dict[str, Any]:
        """A subschema at `depth`; `optional`: the value of a property that is not required (a reference to the
        root may sit there, and only there)."""
        kinds = ["string", "integer", "number", "boolean", "null"]
        if depth < self.caps.depth:
            kinds += ["object", "array", "anyOf"]
        if depth <= REF_DEPTH and not in_defs and (self.defs or optional):
            kinds.append("ref")
        kind = self.draw(_choice(tuple(kinds)))
        if kind == "string":
            return self.string()
        if kind in ("integer", "number"):
            return self.number(kind)
        if kind == "boolean":
            node: dict[str, Any] = {"type": "boolean"}
            if self.draw(_ints(0, 3)) == 0:
                node["default"] = self.draw(_BOOLEANS)
            return self.annotate(node)
        if kind == "null":
            return self.annotate({"type": "null"})
        if kind == "object":
            return self.object(depth, in_defs=in_defs)
        if kind == "array":
            return self.array(depth, in_defs=in_defs)
        if kind == "anyOf":
            count = self.draw(_ints(1, self.caps.any_of))
            branches = [self.node(depth + 1, optional=False, in_defs=in_defs) for _ in range(count)]
            return self.annotate({"anyOf": branches})
        targets = [f"#/$defs/{name}" for name in self.defs] + (["#"] if optional else [])
        return self.annotate({"$ref": self.draw(_choice(tuple(targets)))})

    def string(self) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "string"}
        cap = self.caps.string_length
        if self.draw(_BOOLEANS):
            values = self.draw(_enum_lists(self.caps.enum))
            node["enum"] = values
            shortest, longest = min(map(len, values)), max(map(len, values))
            if self.draw(_ints(0, 3)) == 0:
                node["minLength"] = self.draw(_ints(0, shortest))
            if self.draw(_ints(0, 3)) == 0:
                node["maxLength"] = self.draw(_ints(longest, cap))
            if self.draw(_ints(0, 3)) == 0:
                node["default"] = self.draw(_choice(tuple(values)))
            return self.annotate(node)
        low = self.draw(_maybe(_ints(0, cap // 2)))
        high = self.draw(_maybe(_ints(low or 0, cap)))
        if low is not None:
            node["minLength"] = low
        if high is not None:
            node["maxLength"] = high
        if self.draw(_ints(0, 3)) == 0:
            node["default"] = "x" * (low or 0)
        return self.annotate(node)

    def number(self, kind: str) -> dict[str, Any]:
        node: dict[str, Any] = {"type": kind}
        cap = self.caps.number
        value = _ints(-cap, cap) if kind == "integer" else _quarters(cap)
        low = self.draw(_maybe(value))
        high = self.draw(_maybe(value))
        if low is not None and high is not None and high < low:
            low, high = high, low
        if low is not None:
            node["minimum"] = low
        if high is not None:
            node["maximum"] = high
        if self.draw(_ints(0, 3)) == 0:
            node["default"] = low if low is not None else high if high is not None else 0
        return self.annotate(node)

    def object(self, depth: int, *, in_defs: bool) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "object"}
        most = max(0, min(self.caps.properties, self.properties_left))
        count = self.draw(_choice(tuple(range(min(most, 0 if depth else 1), most + 1))))  # uniform, not small-first
        names = self.draw(_name_lists(count))
        self.properties_left -= len(names)
        required = [name for name in names if self.draw(_BOOLEANS)]
        node["properties"] = {
            name: self.node(depth + 1, optional=name not in required, in_defs=in_defs) for name in names
        }
        if required or self.draw(_BOOLEANS):
            node["required"] = required
        if self.draw(_ints(0, 2)) == 0:
            node["additionalProperties"] = self.draw(_BOOLEANS)
        return self.annotate(node)

    def array(self, depth: int, *, in_defs: bool) -> dict[str, Any]:
        node: dict[str, Any] = {"type": "array"}
        if self.draw(_ints(0, 5)):
            node["items"] = self.node(depth + 1, optional=False, in_defs=in_defs)
        low = self.draw(_maybe(_ints(0, 2)))
        high = self.draw(_maybe(_ints(max(low or 0, 1), self.caps.items)))
        if low is not None:
            node["minItems"] = low
        if high is not None:
            node["maxItems"] = high
        return self.annotate(node)


@st.composite
def tool_schemas(draw: Callable[..., Any], caps: Caps = CAPS) -> dict[str, Any]:
    """A tool's `parameters`: an MFJS root object schema, satisfiable, within `caps`."""
    return _Builder(draw, caps).root()


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def draw_schemas(count: int) -> list[dict[str, Any]]:
    """`count` distinct schemas drawn from `tool_schemas()` by hypothesis, derandomized, without a database. Same
    modules loaded, same schemas: see `generated` for why that condition matters."""
    found: dict[str, dict[str, Any]] = {}

    @settings(
        max_examples=2 * count + 20,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(tool_schemas())
    def collect(schema: dict[str, Any]) -> None:
        if len(found) < count:
            found.setdefault(canonical(schema), schema)

    if count:
        collect()
    return list(found.values())


_DRAW = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from kimi_conformance.fidelity.generated import draw_schemas; "
    "json.dump(draw_schemas(int(sys.argv[2])), sys.stdout)"
)


@functools.cache
def generated(count: int) -> tuple[dict[str, Any], ...]:
    """`count` generated schemas, the same in every process of a run and in every run of this code.

    They are drawn in a fresh interpreter (`python -I`, which loads only this module and what it imports, the
    `fidelity` package among them): hypothesis mixes into its draws constants it reads from the local modules the
    process has loaded, so the same derandomized draw made inside a pytest process would change with the modules
    that process happened to import (the suites collected, a plugin), and xdist workers could send different schemas
    under the same test ids. For the same reason a literal changed in a module the draw loads (through the package:
    `classify`, `tally` and the exchange and stream modules they import) may change the schemas drawn."""
    if not count:
        return ()
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-I", "-c", _DRAW, root, str(count)], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"drawing the fidelity corpus failed: {done.stderr.strip()[-2000:]}")
    return tuple(json.loads(done.stdout))
