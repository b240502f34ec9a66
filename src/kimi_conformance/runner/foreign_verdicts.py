"""Schemathesis's verdicts on cases generated from another document (`--contract`), decided again against OURS.

Schemathesis judges a case by the document it was generated from. When that is another document, its verdicts say
what that document thinks, not whether the target keeps our contract, the one it is held to:

- "positive data refused" (SCHM003) blames the target only when our contract accepts the request too: a request
  the other document calls valid but ours refuses was rightly refused;
- "negative data accepted" (SCHM002) only when our contract refuses the request too; and, as for our own cases, a
  warning when all it breaks of ours is marked `x-inferred`;
- its response verdicts (SCHM001: the other document's response schemas; SCHM005: its headers, its methods) are
  left out: our own checks judge every answer against our contract (SCHM001 included);
- "auth ignored" (AUTH001) depends on no document and stays.

"Our contract accepts the request" means what the case sends (its JSON or multipart body, query and path
parameters) validates against our operation's request schemas; a chat body against the family schema our
discriminator maps its model to. What cannot be decided (a body in a form we cannot read back) blames no one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimi_conformance import contract
from kimi_conformance.exchange import External
from kimi_conformance.findings import Severity

KEPT_AS_IS = frozenset({"AUTH001"})
LEFT_OUT = frozenset({"SCHM001", "SCHM005"})


@dataclass(frozen=True, slots=True)
class Problem:
    """One way a request breaks our contract."""

    where: str
    message: str
    inferred: tuple[str, ...] | None = None
    """The x-sources of the x-inferred schema object it sits in or under (None: a documented constraint)."""


@dataclass(frozen=True, slots=True)
class OurVerdict:
    """What our contract says of a request: `problems` (empty: valid), or undecided."""

    problems: tuple[Problem, ...] = ()
    decided: bool = True

    @property
    def valid(self) -> bool:
        return self.decided and not self.problems

    @property
    def invalid(self) -> bool:
        return self.decided and bool(self.problems)

    @property
    def inferred_only(self) -> bool:
        return self.invalid and all(problem.inferred is not None for problem in self.problems)


def reconsidered(case: Any, code: str, message: str, source: str) -> External | None:
    """Schemathesis's failure `code` on a case generated from the document at `source`, as a verdict about the
    target under our contract; None when it says nothing about the target."""
    if code in KEPT_AS_IS:
        return External(code, message)
    if code in LEFT_OUT:
        return None
    verdict = our_verdict(case)
    if code == "SCHM003" and verdict.valid:
        return External(code, f"{message}\nOur contract accepts the request too (generated from --contract {source})")
    if code == "SCHM002" and verdict.invalid:
        first = verdict.problems[0]
        note = f"\nOur contract refuses the request too: {first.message} (at {first.where})"
        if not verdict.inferred_only:
            return External(code, message + note)
        sources = sorted({source for problem in verdict.problems for source in problem.inferred or ()})
        cited = f" (x-sources: {'; '.join(sources)})" if sources else ""
        note += f"\nA warning: what our contract refuses it for is marked x-inferred (inference only){cited}"
        return External(code, message + note, Severity.WARNING)
    return None


def our_verdict(case: Any) -> OurVerdict:
    """What our contract says of what `case` sends (its operation is one of ours: `foreign_contract` rewrote it)."""
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id not in contract.operations():
        return OurVerdict(decided=False)
    path, method = contract.operations()[operation_id]
    document = contract.load_contract()
    operation = document["paths"][path][method]
    problems: list[Problem] = []
    body = _body_problems(case, document, path, method, operation)
    if body is None:
        return OurVerdict(decided=False)
    problems += body
    shared = document["paths"][path].get("parameters", [])
    declared = [
        *((p, f"{contract.pointer_for('paths', path, 'parameters')}/{i}") for i, p in enumerate(shared)),
        *((p, f"{contract.pointer_for('paths', path, method, 'parameters')}/{i}")
          for i, p in enumerate(operation.get("parameters", []))),
    ]  # fmt: skip
    for entry, at in declared:
        parameter = contract.resolve_pointer(document, entry["$ref"]) if "$ref" in entry else entry
        where = parameter.get("in")
        values = {"query": case.query, "path": case.path_parameters}.get(where)
        if values is None:
            continue  # headers and cookies: what the client sends beside the case
        name = parameter["name"]
        if name not in (values or {}):
            if parameter.get("required"):
                problems.append(Problem(f"{where} parameter `{name}`", "it is required"))
            continue
        schema = str(entry.get("$ref", at)) + "/schema"
        problems += _schema_problems(document, schema, values[name], f"{where} parameter `{name}`")
    return OurVerdict(tuple(problems))


def _body_problems(
    case: Any, document: dict[str, Any], path: str, method: str, operation: dict[str, Any]
) -> list[Problem] | None:
    """How the case's body breaks our request body (None: undecidable)."""
    declared = operation.get("requestBody")
    if declared is None:
        return []
    request_body = contract.resolve_pointer(document, declared["$ref"]) if "$ref" in declared else declared
    body = getattr(case, "body", None)
    if body is None or type(body).__name__ == "NotSet":
        return [Problem("the request body", "it is required")] if request_body.get("required") else []
    media = str(case.media_type or "")
    if media not in request_body.get("content", {}):
        documented = ", ".join(request_body.get("content", {}))
        return [Problem("the request body", f"it is sent as {media or 'no media type'}, not {documented}")]
    if media.startswith("multipart/"):
        body = _as_form(body)
        if body is None:
            return None
    pointer = contract.request_body_pointer(path, method, media)
    if isinstance(body, dict):
        pointer = _family(document, pointer, body) or pointer
    return _schema_problems(document, pointer, body, "the request body")


def _as_form(body: Any) -> dict[str, str] | None:
    """A multipart body as the server reads it: each part's text (a file's bytes stand in as a string)."""
    if not isinstance(body, dict):
        return None
    form = {}
    for name, value in body.items():
        value = getattr(value, "data", value)  # schemathesis wraps generated bytes in `Binary`
        if isinstance(value, bytes | bytearray):
            form[str(name)] = f"<{len(value)} bytes>"
        elif isinstance(value, str):
            form[str(name)] = value
        else:
            return None  # how it would be written as a part is schemathesis's serializer's, not ours to guess
    return form


def _family(document: dict[str, Any], pointer: str, body: dict[str, Any]) -> str | None:
    """The schema our discriminator maps the body to (a chat request: its model's family), when the body's schema
    has one that knows the body's value."""
    schema = contract.resolve_pointer(document, pointer)
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and "discriminator" not in schema:
        pointer = schema["$ref"]
        schema = contract.resolve_pointer(document, pointer)
    discriminator = schema.get("discriminator") if isinstance(schema, dict) else None
    if not isinstance(discriminator, dict):
        return None
    value = body.get(str(discriminator.get("propertyName")))
    mapped = discriminator.get("mapping", {}).get(value) if isinstance(value, str) else None
    return mapped if isinstance(mapped, str) else None


def _schema_problems(document: dict[str, Any], pointer: str, value: Any, where: str) -> list[Problem]:
    problems = []
    for error in contract.validator_for(pointer).iter_errors(value):
        at = "/" + "/".join(str(part) for part in error.absolute_path)
        problems.append(Problem(f"{where} {at}", error.message[:200], _inferred(document, pointer, error)))
    return problems


def _inferred(document: dict[str, Any], pointer: str, error: Any) -> tuple[str, ...] | None:
    """The x-sources of the deepest x-inferred schema object the error's keyword sits in or under (None: none).
    jsonschema's schema path leaves out the `$ref` hops: a reference is followed wherever the next step is not
    beside it."""
    node: Any = contract.resolve_pointer(document, pointer)
    trail = [node]
    for token in list(error.absolute_schema_path)[:-1]:
        while isinstance(node, dict) and token not in node and isinstance(node.get("$ref"), str):
            node = contract.resolve_pointer(document, node["$ref"])
            trail.append(node)
        listed = isinstance(node, list) and isinstance(token, int) and token < len(node)
        if not (listed or (isinstance(node, dict) and token in node)):
            break
        node = node[token]
        trail.append(node)
    for step in reversed(trail):
        if isinstance(step, dict) and step.get("x-inferred") is True:
            sources = step.get("x-sources")
            return tuple(str(source) for source in sources) if isinstance(sources, list) else ()
    return None
