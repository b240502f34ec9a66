"""Tool schemas within MFJS (Moonshot Flavored JSON Schema, verifiers §3), for the tool-call fidelity suite.

Two sets: `REALISTIC`, a few hand-written tools of the kind real agents declare, and schemas **generated** by
hypothesis from the MFJS grammar the contract encodes (`#/components/schemas/MfjsRootSchema`): every type, string
enums, nested objects and arrays, `anyOf`, `$defs`/`$ref` (and `#`, the root itself), `required`, titles,
descriptions and defaults, kept well inside walle's size caps (`CAPS`). Every schema is satisfiable by
construction: `required` names only declared properties, an enum's values meet the string's length bounds, every
minimum is at most its maximum (an integer range holds an integer), a default meets its own schema, and a
reference to the root only sits under a property that is not required, so a finite instance always exists.

`corpus(count)` is what a run sends: the same list in every process of a run (the draw is derandomized and made in
a fresh interpreter, see `generated`), so the xdist workers collect the same tests with the same schemas.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kimi_conformance import contract

MFJS_ROOT = "#/components/schemas/MfjsRootSchema"
"""The contract's meta-schema of a tool's `parameters` (verifiers §3)."""
RESERVED_NAMES = frozenset({"$defs", "$ref", "anyOf", "required", "additionalProperties"})
"""Property names MFJS refuses (verifiers §3)."""


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


def tool(name: str, parameters: dict[str, Any], description: str) -> dict[str, Any]:
    """A function tool (strict by default, facts §3.6)."""
    return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def _place(properties: dict[str, Any], required: list[str], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, **extra}


_TEXT: dict[str, Any] = {"type": "string"}
REALISTIC: tuple[dict[str, Any], ...] = (
    tool(
        "search_flights",
        _place(
            {
                "origin": {"type": "string", "minLength": 3, "maxLength": 3, "description": "IATA airport code"},
                "destination": {"type": "string", "minLength": 3, "maxLength": 3, "description": "IATA airport code"},
                "depart_on": {"type": "string", "description": "Date, YYYY-MM-DD"},
                "passengers": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1},
                "cabin": {"type": "string", "enum": ["economy", "premium", "business", "first"]},
                "flexible_dates": {"type": "boolean"},
            },
            ["origin", "destination", "depart_on"],
            additionalProperties=False,
        ),
        "Find scheduled flights between two airports on a day.",
    ),
    tool(
        "create_calendar_event",
        _place(
            {
                "title": {"type": "string", "minLength": 1, "maxLength": 80},
                "start": {"type": "string", "description": "ISO 8601 date and time"},
                "duration_minutes": {"type": "integer", "minimum": 5, "maximum": 480},
                "attendees": {
                    "type": "array",
                    "maxItems": 4,
                    "items": _place({"email": _TEXT, "optional": {"type": "boolean", "default": False}}, ["email"]),
                },
                "reminder": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 1440}, {"type": "null"}]},
            },
            ["title", "start", "duration_minutes"],
        ),
        "Put an event in the user's calendar.",
    ),
    tool(
        "convert_currency",
        _place(
            {
                "amount": {"type": "number", "minimum": 0, "maximum": 1000000},
                "from_currency": {"type": "string", "enum": ["EUR", "USD", "JPY", "CNY", "GBP"]},
                "to_currency": {"type": "string", "enum": ["EUR", "USD", "JPY", "CNY", "GBP"]},
                "decimals": {"type": "integer", "minimum": 0, "maximum": 4},
            },
            ["amount", "from_currency", "to_currency"],
            additionalProperties=False,
        ),
        "Convert an amount of money at today's rate.",
    ),
    tool(
        "file_bug_report",
        {
            "type": "object",
            "$defs": {
                "environment": _place(
                    {"os": {"type": "string", "enum": ["linux", "macos", "windows"]}, "version": _TEXT}, ["os"]
                ),
            },
            "properties": {
                "summary": {"type": "string", "minLength": 5, "maxLength": 120},
                "severity": {"type": "string", "enum": ["minor", "major", "critical"]},
                "steps": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "string", "maxLength": 80}},
                "environment": {"$ref": "#/$defs/environment", "description": "Where it happened"},
            },
            "required": ["summary", "severity", "steps"],
        },
        "Open a bug in the tracker.",
    ),
    tool(
        "set_thermostat",
        _place(
            {
                "zone": {"type": "string", "enum": ["living_room", "bedroom", "office"]},
                "target_celsius": {"type": "number", "minimum": 10, "maximum": 30},
                "mode": {"type": "string", "enum": ["heat", "cool", "auto", "off"], "default": "auto"},
                "schedule": {
                    "anyOf": [
                        _place(
                            {
                                "days": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": 7,
                                    "items": {
                                        "type": "string",
                                        "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                    },
                                },
                                "from_hour": {"type": "integer", "minimum": 0, "maximum": 23},
                            },
                            ["days", "from_hour"],
                        ),
                        {"type": "null"},
                    ]
                },
            },
            ["zone", "target_celsius"],
        ),
        "Change a heating zone's target temperature.",
    ),
    tool(
        "query_orders",
        {
            "type": "object",
            "$defs": {
                "condition": {
                    "anyOf": [
                        _place(
                            {
                                "field": {"type": "string", "enum": ["status", "total", "country"]},
                                "equals": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                            },
                            ["field", "equals"],
                            additionalProperties=False,
                        ),
                        _place(
                            {"all_of": {"type": "array", "maxItems": 3, "items": {"$ref": "#/$defs/condition"}}},
                            ["all_of"],
                            additionalProperties=False,
                        ),
                    ]
                }
            },
            "properties": {
                "where": {"$ref": "#/$defs/condition"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                "order": {"type": "string", "enum": ["newest", "oldest"]},
            },
            "required": ["where"],
        },
        "Search the shop's orders with nested conditions.",
    ),
    tool(
        "send_notification",
        _place(
            {
                "channel": {"type": "string", "enum": ["email", "sms", "push"]},
                "recipients": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}},
                "message": {"type": "string", "minLength": 1, "maxLength": 280},
                "urgent": {"type": "boolean"},
                "metadata": {"type": "object", "additionalProperties": True},
            },
            ["channel", "recipients", "message"],
        ),
        "Send a short message to people.",
    ),
    tool(
        "org_chart_lookup",
        _place(
            {
                "employee_id": {"type": "string", "minLength": 4, "maxLength": 12},
                "include": {"type": "array", "items": {"type": "string", "enum": ["manager", "reports", "peers"]}},
                "depth": {"type": "integer", "minimum": 0, "maximum": 3},
                "then": {"$ref": "#", "description": "A follow-up lookup, run after this one"},
            },
            ["employee_id"],
        ),
        "Look someone up in the organisation chart.",
    ),
)
"""Hand-written tools of the kind agents declare (written for this suite): flat, nested, enums, anyOf, $defs, a
recursive $defs entry and a reference to the root."""

DECOY: dict[str, Any] = tool(
    "unused_helper",
    _place({"note": _TEXT}, []),
    "Not needed for this request.",
)
"""A second tool in every request, never the one asked for: calling it is a `wrong_tool` answer."""


@dataclass(frozen=True, slots=True)
class ToolCase:
    """One tool the suite asks a model to call: its test id and the tool."""

    id: str
    tool: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.tool["function"]["name"])

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.tool["function"]["parameters"])


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
    "import json, sys; sys.path.insert(0, sys.argv[1]); from kimi_conformance.fidelity.corpus import draw_schemas; "
    "json.dump(draw_schemas(int(sys.argv[2])), sys.stdout)"
)


@functools.cache
def generated(count: int) -> tuple[dict[str, Any], ...]:
    """`count` generated schemas, the same in every process of a run and in every run of this code.

    They are drawn in a fresh interpreter (`python -I`, which loads only this package's corpus module and what it
    imports): hypothesis mixes into its draws constants it reads from the local modules the process has loaded, so
    the same derandomized draw made inside a pytest process would change with the modules that process happened to
    import (the suites collected, a plugin), and xdist workers could send different schemas under the same test
    ids."""
    if not count:
        return ()
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-I", "-c", _DRAW, root, str(count)], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"drawing the fidelity corpus failed: {done.stderr.strip()[-2000:]}")
    return tuple(json.loads(done.stdout))


def corpus(count: int) -> list[ToolCase]:
    """The tools a run asks each model to call: the hand-written ones (at most half of `count`), then generated
    schemas up to `count`."""
    realistic = [ToolCase(f"real-{t['function']['name']}", t) for t in REALISTIC[: min(len(REALISTIC), count // 2)]]
    made = generated(count - len(realistic))
    drawn = [
        ToolCase(f"gen-{i:03d}", tool(f"fidelity_probe_{i:03d}", schema, "A tool of the fidelity suite."))
        for i, schema in enumerate(made)
    ]
    return realistic + drawn


def meta_validator() -> Draft202012Validator:
    """The contract's MFJS meta-schema, as a validator."""
    return contract.validator_for(MFJS_ROOT)


def mfjs_problems(schema: dict[str, Any]) -> list[str]:
    """What makes `schema` no satisfiable MFJS tool schema, beyond the meta-schema (which JSON Schema cannot say):
    `required` names a property not declared, a reserved property name, a `$ref` to nothing, an empty range
    (minimum above maximum, minLength above maxLength, an integer range holding no integer), an enum value outside
    the string's bounds, a default its own schema refuses, a required reference to the root (no finite instance)."""
    problems = [f"meta-schema: {error.message[:160]}" for error in meta_validator().iter_errors(schema)]
    defs = _object(schema.get("$defs"))

    def walk(node: Any, at: str, required_path: bool) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref == "#" and required_path:
                problems.append(f"{at}: a required reference to the root has no finite instance")
            elif ref != "#" and ref.removeprefix("#/$defs/") not in defs:
                problems.append(f"{at}: $ref {ref} points at nothing")
        _bounds(node, at, problems)
        properties = _object(node.get("properties"))
        listed = node.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        for name in required:
            if name not in properties:
                problems.append(f"{at}: required {name!r} is no declared property")
        for name, child in properties.items():
            if name in RESERVED_NAMES:
                problems.append(f"{at}: property name {name!r} is reserved")
            walk(child, f"{at}/properties/{name}", required_path and name in required)
        if "items" in node:
            walk(node["items"], f"{at}/items", False)
        for i, branch in enumerate(node.get("anyOf") or []):
            walk(branch, f"{at}/anyOf/{i}", False)

    walk(schema, "#", True)
    for name, node in defs.items():
        walk(node, f"#/$defs/{name}", False)
    return problems


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _bounds(node: dict[str, Any], at: str, problems: list[str]) -> None:
    low, high = node.get("minimum"), node.get("maximum")
    if isinstance(low, int | float) and isinstance(high, int | float):
        if low > high:
            problems.append(f"{at}: minimum {low} above maximum {high}")
        elif node.get("type") == "integer" and math.ceil(low) > math.floor(high):
            problems.append(f"{at}: no integer between {low} and {high}")
    short, long = node.get("minLength"), node.get("maxLength")
    if isinstance(short, int) and isinstance(long, int) and short > long:
        problems.append(f"{at}: minLength {short} above maxLength {long}")
    few, many = node.get("minItems"), node.get("maxItems")
    if isinstance(few, int) and isinstance(many, int) and few > many:
        problems.append(f"{at}: minItems {few} above maxItems {many}")
    enum = node.get("enum")
    if isinstance(enum, list):
        bounds = {k: node[k] for k in ("type", "minLength", "maxLength") if k in node}
        refused = [value for value in enum if not Draft202012Validator(bounds).is_valid(value)]
        if refused:
            problems.append(f"{at}: enum values {refused} break the string's own bounds")
    if "default" in node:
        plain = {k: v for k, v in node.items() if k not in ("default", "title", "description")}
        if not Draft202012Validator(plain).is_valid(node["default"]):
            problems.append(f"{at}: default {node['default']!r} breaks its own schema")
