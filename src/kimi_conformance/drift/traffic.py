"""Traffic vs spec: what a target did in a run (its cassette) that the contract does not say — undocumented
fields (with an example value), undocumented enum values and model ids, type differences, undocumented status
codes — and documented response fields never seen. Drift, not failure: warnings and info."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from kimi_conformance import contract, strict_json
from kimi_conformance.chunks import read_stream
from kimi_conformance.drift.documents import resolved
from kimi_conformance.drift.keywords import flatten
from kimi_conformance.errors import ConfigError
from kimi_conformance.rules import load_rules

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@dataclass(frozen=True, slots=True)
class Drift:
    """One way the traffic differs from the contract."""

    kind: str
    severity: str
    operation: str
    where: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "severity": self.severity, "operation": self.operation, "where": self.where,
                "detail": self.detail}  # fmt: skip


def read_cassette(run: Path) -> list[dict[str, Any]]:
    """The records of a run folder's cassette.jsonl (or of that file)."""
    path = run / "cassette.jsonl" if run.is_dir() else run
    try:
        return strict_json.jsonl(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{run}: no readable cassette.jsonl ({exc})") from exc


def _type_ok(value: Any, kinds: Any) -> bool:
    names = kinds if isinstance(kinds, list) else [kinds]
    for name in names:
        allowed = _JSON_TYPES.get(name, (object,))
        if isinstance(value, allowed) and not (isinstance(value, bool) and name in ("integer", "number")):
            return True
    return False


def _branch(value: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """The oneOf/anyOf branch that describes `value` best: the first that validates, else the first of its type."""
    for key in ("oneOf", "anyOf"):
        branches = [flatten(b) for b in schema.get(key) or [] if isinstance(b, dict)]
        if not branches:
            continue
        for branch in branches:
            if Draft202012Validator(branch).is_valid(value):
                return _branch(value, branch)
        typed = [b for b in branches if "type" not in b or _type_ok(value, b["type"])]
        return _branch(value, typed[0] if typed else branches[0])
    return schema


@dataclass(slots=True)
class _Walk:
    operation: str
    found: list[Drift] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    documented: set[str] = field(default_factory=set)

    def walk(self, value: Any, schema: Any, where: str, depth: int = 0) -> None:
        if not isinstance(schema, dict) or depth > 30:
            return
        schema = _branch(value, flatten(schema))
        if "type" in schema and not _type_ok(value, schema["type"]):
            self.add(
                "type-difference", "warning", where, f"{type(value).__name__} {_brief(value)} for {schema['type']}"
            )
            return
        enum = schema.get("enum") if "enum" in schema else [schema["const"]] if "const" in schema else None
        if isinstance(enum, list) and value not in enum:
            self.add("undocumented-enum-value", "warning", where, f"{_brief(value)} not in {_brief(enum)}")
        if isinstance(value, dict):
            self.walk_object(value, schema, where, depth)
        elif isinstance(value, list):
            for item in value:
                self.walk(item, schema.get("items"), f"{where}[]", depth + 1)

    def walk_object(self, value: dict[str, Any], schema: dict[str, Any], where: str, depth: int) -> None:
        declared = schema.get("properties")
        properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
        extra = schema.get("additionalProperties")
        for name in properties:
            self.documented.add(f"{where}.{name}")
        for name, item in value.items():
            path = f"{where}.{name}"
            if name in properties:
                self.seen.add(path)
                self.walk(item, properties[name], path, depth + 1)
            elif isinstance(extra, dict) and extra:
                self.walk(item, extra, f"{where}.*", depth + 1)
            elif not properties and extra is not False:
                continue  # a free-form object (metadata, tool arguments): nothing is documented to differ from
            else:
                self.add("undocumented-field", "warning", path, f"example {_brief(item)}")

    def add(self, kind: str, severity: str, where: str, detail: str) -> None:
        self.found.append(Drift(kind, severity, self.operation, where, detail))


def _brief(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def analyse(records: list[dict[str, Any]]) -> list[Drift]:
    """Every drift the records show, each distinct (kind, operation, where) once."""
    document = resolved(contract.load_contract())
    operations = contract.operations()
    chunk_schema = document["components"]["schemas"].get("ChatCompletionChunk", {})
    known_models = set(load_rules().models)
    walks: dict[str, _Walk] = {}
    drifts: list[Drift] = []
    for record in records:
        operation, status = record.get("operation"), record.get("status")
        if operation not in operations or not isinstance(status, int):
            continue
        path, method = operations[operation]
        responses = document["paths"][path][method].get("responses", {})
        response = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        walk = walks.setdefault(operation, _Walk(operation))
        if response is None:
            walk.add("undocumented-status", "warning", f"HTTP {status}", f"documented: {', '.join(responses)}")
            continue
        kind = record.get("response_headers", {}).get("content-type", "").split(";")[0].strip().lower()
        content = response.get("content") or {}
        if kind == "text/event-stream":
            for chunk in read_stream(str(record.get("body", "")).encode()).chunks:
                walk.walk(chunk, chunk_schema, "chunk")
        elif kind == "application/json" and "application/json" in content:
            try:
                body = strict_json.loads(str(record.get("body", "")))
            except ValueError:
                continue
            walk.walk(body, content["application/json"].get("schema"), f"{status}")
            if operation == "listModels" and isinstance(body, dict):
                for model in body.get("data") or []:
                    if isinstance(model, dict) and model.get("id") not in known_models:
                        walk.add("undocumented-model-id", "info", f"{status}.data[].id", _brief(model.get("id")))
    for walk in walks.values():
        drifts += walk.found
        for where in sorted(w for w in walk.documented - walk.seen if w.startswith(("2", "chunk"))):
            drifts.append(Drift("documented-field-never-seen", "info", walk.operation, where, "not in any answer"))
    unique = {(d.kind, d.operation, d.where): d for d in drifts}
    return sorted(unique.values(), key=lambda d: (d.severity != "warning", d.operation, d.where, d.kind))


def render_table(drifts: list[Drift]) -> str:
    if not drifts:
        return "no drift\n"
    lines = [f"{d.severity:7}  {d.kind:28} {d.operation:22} {d.where}  {d.detail}" for d in drifts]
    warnings = sum(d.severity == "warning" for d in drifts)
    lines.append(f"{len(drifts)} drift(s): {warnings} warning, {len(drifts) - warnings} info")
    return "\n".join(lines) + "\n"


_SCHEMA_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


def _target(drift: Drift, operations: dict[str, tuple[str, str]]) -> tuple[str, list[str]]:
    """(JSONPath of the schema the drift's path starts at, the path's segments below it)."""
    head, *segments = drift.where.split(".")
    if head == "chunk":
        return "$.components.schemas.ChatCompletionChunk", segments
    path, method = operations[drift.operation]
    return f"$.paths['{path}'].{method}.responses['{head}'].content['application/json'].schema", segments


def _descend(base: str, segments: list[str]) -> str:
    for segment in segments:
        name = segment.removesuffix("[]")
        base += f".properties['{name}']" + (".items" if segment.endswith("[]") else "")
    return base


def _example(detail: str) -> Any:
    try:
        return json.loads(detail.removeprefix("example "))
    except ValueError:  # cut short ("...") or not JSON
        return None


def suggest_overlay(drifts: list[Drift]) -> dict[str, Any]:
    """An OpenAPI Overlay 1.0 document that would make the contract describe the observed traffic — for a person
    to review (targets are written inline: where the contract uses a `$ref`, point the action at the component)."""
    operations = contract.operations()
    actions: list[dict[str, Any]] = []
    for drift in drifts:
        if drift.operation not in operations:
            continue
        if drift.kind == "undocumented-status":
            path, method = operations[drift.operation]
            status = drift.where.removeprefix("HTTP ")
            actions.append({"target": f"$.paths['{path}'].{method}.responses",
                            "update": {status: {"description": "Observed in traffic; describe it."}}})  # fmt: skip
            continue
        base, segments = _target(drift, operations)
        if drift.kind == "undocumented-field" and segments:
            example = _example(drift.detail)
            schema: dict[str, Any] = {
                "description": f"Observed in traffic, e.g. {drift.detail.removeprefix('example ')}"
            }
            if type(example) in _SCHEMA_TYPES:
                schema["type"] = _SCHEMA_TYPES[type(example)]
            name = segments[-1].removesuffix("[]")
            actions.append({"target": _descend(base, segments[:-1]) + ".properties", "update": {name: schema}})
        elif drift.kind == "undocumented-enum-value":
            value = json.loads(drift.detail.split(" not in ", 1)[0])
            actions.append({"target": _descend(base, segments), "update": {"enum": [value]}})
    return {
        "overlay": "1.0.0",
        "info": {
            "title": "kimi-conformance: traffic the contract does not describe (review before applying)",
            "version": "1",
        },
        "actions": actions,
    }
