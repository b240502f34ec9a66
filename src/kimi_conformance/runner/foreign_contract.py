"""Another OpenAPI document to generate the contract suite from (`--contract PATH|URL`), such as Moonshot's
published one: its operations matched to ours, and rewritten in our terms.

Only generation changes: the cases of `suites/test_contract.py` are drawn from the other document's schemas, and
the target is still held to OUR contract (the checks read ours; `foreign_verdicts` re-decides schemathesis's verdicts
against ours). Each operation of the other document is matched to one of ours by method and path (a path template
may name its parameters differently; the path may be written under its `servers` base path), or by operationId when
both documents give one and they agree. The document schemathesis loads is the other one rewritten in our terms: each
matched operation under our path, with our operationId and our path parameters' names, every other operation left
out; its schemas, names and all, stay its own. So nothing downstream needs to know where a case came from.

A document the suite cannot use (unreadable, not OpenAPI 3.x, no paths, a `$ref` that cannot be followed, nothing
matching ours) is one ConfigError saying why, before any test runs.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kimi_conformance import contract
from kimi_conformance.drift.documents import expansion, read_document
from kimi_conformance.errors import ConfigError
from kimi_conformance.rules import load_rules

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{[^/{}]*\}")


@dataclass(frozen=True, slots=True)
class ForeignOperation:
    """An operation of the other document, as it writes it."""

    method: str
    path: str
    operation_id: str | None = None

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True, slots=True)
class ForeignContract:
    """The other document, matched to ours and rewritten in our terms."""

    source: str
    document: dict[str, Any]
    """What schemathesis loads: the matched operations under our paths and operationIds, their schemas theirs."""
    matched: dict[str, ForeignOperation]
    """Our operationId -> the operation of the other document it was matched to."""
    not_ours: tuple[ForeignOperation, ...]
    """Operations of the other document that are none of ours: nothing to hold the target to, so not generated."""

    def gap(self, operation_id: str, mode: str) -> str | None:
        """Why the contract suite generates nothing for one of our operations in `mode` from this document (its
        test is skipped with this reason), or None when it does."""
        path, method = contract.operations()[operation_id]
        if operation_id not in self.matched:
            return f"--contract {self.source} has no {method.upper()} {path}: not generated from it"
        if mode not in breakable_modes(self.document).get(operation_id, ()):
            return f"--contract {self.source}: {self.matched[operation_id]} has nothing to break (no body or query)"
        return None

    def line(self) -> str:
        """One line saying what was matched, for the run's summary and its plan."""
        ours = len(contract.operations())
        line = f"contract suite generated from {self.source}: {len(self.matched)} of our {ours} operations matched"
        if len(self.matched) < ours:
            missing = sorted(set(contract.operations()) - set(self.matched))
            line += f" (not in it: {', '.join(missing)})"
        if self.not_ours:
            line += f"; not in our contract, not generated: {', '.join(str(op) for op in self.not_ours)}"
        return line


@functools.cache
def load_foreign_contract(source: str) -> ForeignContract:
    """The document at `source` (a path or an http(s) URL), matched and rewritten, read once per process; or a
    one-line ConfigError naming why the contract suite cannot generate from it."""
    try:
        document = read_document(source)  # unreadable, not UTF-8, not YAML/JSON, no `paths`: one line each
    except ConfigError as exc:
        raise ConfigError(f"--contract: {exc}") from None
    version = document.get("openapi")
    if not (isinstance(version, str) and re.fullmatch(r"3\.[0-9]+(\.[0-9]+)?(-.+)?", version)):
        found = f"swagger {document['swagger']}" if "swagger" in document else f"openapi: {version!r}"
        raise ConfigError(f"--contract {source} is not an OpenAPI 3.x document ({found}); the contract suite "
                          "generates from OpenAPI 3.0 or 3.1")  # fmt: skip
    if not document["paths"]:
        raise ConfigError(f"--contract {source} has no paths: nothing to generate from")
    _refuse_outside_references(document, source)
    try:
        expansion(document, source)  # every local $ref resolves (and none expands it past the node limit)
    except ConfigError as exc:
        raise ConfigError(f"--contract: {exc}") from None
    foreign = _operations(document, source)
    matched, not_ours = _match(foreign, _base_path(document))
    if not matched:
        listed = ", ".join(str(op) for op in list(foreign)[:6]) + (" ..." if len(foreign) > 6 else "")
        raise ConfigError(f"--contract {source}: none of its {len(foreign)} operation(s) is one of ours (matched by "
                          f"method and path, e.g. POST /v1/chat/completions): {listed or 'it has none'}")  # fmt: skip
    rewritten = _in_our_terms(document, foreign, matched, source)
    return ForeignContract(source, rewritten, matched, tuple(not_ours))


def breakable_modes(document: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """operationId -> the generation modes the contract suite runs it in, for any document in our terms: positive
    always; negative where there is something to break, a request body or a query parameter (`$ref`s followed)."""
    modes: dict[str, tuple[str, ...]] = {}
    for item in document["paths"].values():
        for method, operation in item.items() if isinstance(item, dict) else ():
            if method not in METHODS or not isinstance(operation, dict):
                continue
            if not isinstance(operation.get("operationId"), str):
                continue
            declared = [*item.get("parameters", []), *operation.get("parameters", [])]
            parameters = [contract.resolve_pointer(document, p["$ref"]) if "$ref" in p else p for p in declared]
            breakable = "requestBody" in operation or any(p.get("in") == "query" for p in parameters)
            modes[operation["operationId"]] = ("positive", "negative") if breakable else ("positive",)
    return modes


def _refuse_outside_references(document: dict[str, Any], source: str) -> None:
    """A `$ref` into another document would be fetched relative to `source`: refused, so generation reads nothing
    but the one document it was given."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                raise ConfigError(f"--contract {source} holds a $ref to another document ({ref}): only references "
                                  "inside the document can be followed (bundle it into one file first)")  # fmt: skip
            stack += node.values()
        elif isinstance(node, list):
            stack += node


def _operations(document: dict[str, Any], source: str) -> dict[ForeignOperation, tuple[dict[str, Any], list[Any]]]:
    """Every operation of the document -> (its object, the parameters of its path item)."""
    found: dict[ForeignOperation, tuple[dict[str, Any], list[Any]]] = {}
    for path, item in document["paths"].items():
        if isinstance(item, dict) and isinstance(item.get("$ref"), str):
            item = contract.resolve_pointer(document, item["$ref"])
        if not isinstance(item, dict):
            raise ConfigError(f"--contract {source}: the path item of {path} is not an object")
        for method in METHODS:
            operation = item.get(method)
            if isinstance(operation, dict):
                named = operation.get("operationId")
                key = ForeignOperation(method, str(path), named if isinstance(named, str) else None)
                found[key] = (operation, list(item.get("parameters") or []))
    return found


def _base_path(document: dict[str, Any]) -> str:
    """The path of the document's first server URL (`https://host/v1` -> `/v1`), under which its paths live; empty
    when it has none or its URL is templated."""
    servers = document.get("servers")
    url = servers[0].get("url") if isinstance(servers, list) and servers and isinstance(servers[0], dict) else None
    if not isinstance(url, str) or "{" in url:
        return ""
    return urlsplit(url).path.rstrip("/")


def _shape(path: str) -> str:
    """A path template without its parameters' names (`/v1/files/{id}` -> `/v1/files/{}`)."""
    return _TEMPLATE.sub("{}", path.rstrip("/") or "/")


def _match(
    foreign: dict[ForeignOperation, Any], base: str
) -> tuple[dict[str, ForeignOperation], list[ForeignOperation]]:
    """Our operationId -> the operation of the other document matched to it; and those matched to none of ours."""
    ours = {(method, _shape(path)): operation_id for operation_id, (path, method) in contract.operations().items()}
    matched: dict[str, ForeignOperation] = {}
    not_ours = []
    for operation in foreign:
        found = ours.get((operation.method, _shape(operation.path))) or ours.get(
            (operation.method, _shape(base + operation.path))
        )
        if found is None and operation.operation_id in contract.operations():
            _, method = contract.operations()[operation.operation_id]
            found = operation.operation_id if method == operation.method else None
        if found is None or found in matched:
            not_ours.append(operation)
        else:
            matched[found] = operation
    return matched, not_ours


def _in_our_terms(
    document: dict[str, Any],
    foreign: dict[ForeignOperation, tuple[dict[str, Any], list[Any]]],
    matched: dict[str, ForeignOperation],
    source: str,
) -> dict[str, Any]:
    """The document with only the matched operations, each under our path and operationId, its path parameters
    named as ours (by position in the template), links and servers left out (they name its own operations)."""
    paths: dict[str, dict[str, Any]] = {}
    for operation_id, theirs in matched.items():
        path, method = contract.operations()[operation_id]
        operation, shared = foreign[theirs]
        rewritten = copy.deepcopy(operation)
        rewritten["operationId"] = operation_id
        rewritten.pop("servers", None)
        names = dict(zip(_placeholders(theirs.path), _placeholders(path), strict=False))
        parameters = _merged_parameters(document, shared, operation.get("parameters") or [], source)
        if parameters:
            rewritten["parameters"] = [_renamed(p, names) for p in parameters]
        for response in (rewritten.get("responses") or {}).values():
            if isinstance(response, dict):
                response.pop("links", None)
        paths.setdefault(path, {})[method] = rewritten
    kept = {key: copy.deepcopy(value) for key, value in document.items() if key not in ("paths", "servers", "webhooks")}
    return {**kept, "paths": paths}


def _placeholders(path: str) -> list[str]:
    return [match.group(0)[1:-1] for match in _TEMPLATE.finditer(path)]


def _merged_parameters(document: dict[str, Any], shared: list[Any], own: list[Any], source: str) -> list[Any]:
    """The operation's parameters: its path item's, then its own (which win for the same name and location),
    path parameters resolved so that they can be renamed."""
    merged: dict[tuple[str, str], Any] = {}
    for parameter in [*shared, *own]:
        resolved = contract.resolve_pointer(document, parameter["$ref"]) if "$ref" in parameter else parameter
        if not isinstance(resolved, dict) or not isinstance(resolved.get("name"), str):
            raise ConfigError(f"--contract {source}: a parameter is not an object with a name ({parameter!r:.80})")
        kept = copy.deepcopy(resolved) if resolved.get("in") == "path" else parameter
        merged[(resolved["name"], str(resolved.get("in")))] = kept
    return list(merged.values())


def _renamed(parameter: Any, names: dict[str, str]) -> Any:
    if isinstance(parameter, dict) and parameter.get("in") == "path" and parameter.get("name") in names:
        return {**parameter, "name": names[parameter["name"]]}
    return parameter


def narrowed(document: dict[str, Any], run_models: set[str]) -> dict[str, Any]:
    """A document in our terms with every `model` enum cut down to the run's models, the branches of a union that
    allow none of them left out and a discriminator's mapping cut the same way, so that generation never sends a
    request to a model the run was not asked to use (whatever the document calls its schemas)."""
    narrow = copy.deepcopy(document)
    known = set(load_rules().models)

    def models_of(schema: Any, depth: int = 0) -> set[str] | None:
        """The model ids a schema allows, when it names them (None: it does not say)."""
        if not isinstance(schema, dict) or depth > 8:
            return None
        if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
            return models_of(contract.resolve_pointer(narrow, schema["$ref"]), depth + 1)
        model = schema.get("properties", {}).get("model") if isinstance(schema.get("properties"), dict) else None
        enum = model.get("enum") if isinstance(model, dict) else None
        if isinstance(enum, list) and known & set(map(str, enum)):
            return set(map(str, enum))
        for member in schema.get("allOf") or []:
            found = models_of(member, depth + 1)
            if found is not None:
                return found
        return None

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for key in ("oneOf", "anyOf"):
            branches = node.get(key)
            if isinstance(branches, list):
                kept = [b for b in branches if (allowed := models_of(b)) is None or allowed & run_models]
                node[key] = kept or branches
        mapping = node.get("discriminator", {}).get("mapping") if isinstance(node.get("discriminator"), dict) else None
        if isinstance(mapping, dict) and set(mapping) & run_models:
            node["discriminator"]["mapping"] = {m: ref for m, ref in mapping.items() if m in run_models}
        model = node.get("properties", {}).get("model") if isinstance(node.get("properties"), dict) else None
        if isinstance(model, dict) and isinstance(model.get("enum"), list) and known & set(map(str, model["enum"])):
            model["enum"] = [m for m in model["enum"] if m in run_models] or model["enum"]
        for value in node.values():
            walk(value)

    walk(narrow["paths"])
    walk(narrow.get("components", {}))
    return narrow
