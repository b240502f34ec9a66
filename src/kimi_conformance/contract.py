"""Loading the OpenAPI contract and building JSON Schema validators from it.

The contract lives in `openapi/moonshot.openapi.yaml` at the repository root; wheels carry a copy as package
data under `kimi_conformance/_contract/`. OpenAPI 3.1 schemas are JSON Schema 2020-12, so `jsonschema` validates
them directly; internal `$ref`s resolve through a `referencing` registry holding the whole document.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from kimi_conformance.errors import ContractError

CONTRACT_FILENAME = "moonshot.openapi.yaml"
_CONTRACT_URI = "urn:kimi-conformance:contract"


@functools.cache
def contract_path() -> Path:
    """The path of the bundled contract: package data in a wheel, else `openapi/` of the source tree (found once:
    every check that reads the contract asks)."""
    packaged = resources.files("kimi_conformance") / "_contract" / CONTRACT_FILENAME
    if packaged.is_file():
        return Path(str(packaged))
    source_tree = Path(__file__).resolve().parents[2] / "openapi" / CONTRACT_FILENAME
    if source_tree.is_file():
        return source_tree
    raise ContractError(f"the contract {CONTRACT_FILENAME} is neither packaged nor in the source tree")


_SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (the same document, eight times faster), else PyYAML's."""


def load_contract(path: Path | None = None) -> dict[str, Any]:
    """Parse the contract once per path; the result must be treated as read-only."""
    return _parsed(path or contract_path())


@functools.cache
def _parsed(source: Path) -> dict[str, Any]:
    """The document at `source`, parsed once: keyed by the path itself, so `load_contract()` and
    `load_contract(None)` (and the packaged path named) share one parse."""
    try:
        document = yaml.load(source.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise ContractError(f"cannot read the contract {source}: {exc}") from exc
    if not isinstance(document, dict) or "paths" not in document:
        raise ContractError(f"{source} is not an OpenAPI document")
    return document


def resolve_pointer(document: dict[str, Any], pointer: str) -> Any:
    """The value at a JSON pointer such as `#/components/schemas/Usage`."""
    node: Any = document
    for raw in pointer.removeprefix("#").strip("/").split("/"):
        if not raw:
            continue
        part = raw.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise ContractError(f"the contract has nothing at {pointer}") from exc
    return node


def pointer_for(*parts: str) -> str:
    """Build an escaped JSON pointer from path parts (`/v1/files` becomes `~1v1~1files`)."""
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def request_body_pointer(path: str, method: str, media_type: str = "application/json") -> str:
    """The pointer of an operation's request body schema."""
    return pointer_for("paths", path, method.lower(), "requestBody", "content", media_type, "schema")


@functools.cache
def validator_for(pointer: str, path: Path | None = None) -> Draft202012Validator:
    """A cached validator for the schema at `pointer`, with the whole contract available to `$ref`."""
    document = load_contract(path)
    resolve_pointer(document, pointer)  # fail early with a clear error
    resource: Resource[Any] = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_CONTRACT_URI, resource)
    return Draft202012Validator({"$ref": _CONTRACT_URI + pointer}, registry=registry)


def chat_request_pointer(model: str, path: Path | None = None) -> str | None:
    """The family request schema the contract's discriminator maps `model` to, or None for unknown models."""
    request = resolve_pointer(load_contract(path), "#/components/schemas/ChatCompletionRequest")
    mapping: dict[str, str] = request.get("discriminator", {}).get("mapping", {})
    return mapping.get(model)


@functools.cache
def operations(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """operationId -> (path, method) for every operation of the contract."""
    found: dict[str, tuple[str, str]] = {}
    for route, item in load_contract(path)["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = (route, method)
    return found


def documented_responses(operation_id: str, path: Path | None = None) -> dict[str, Any]:
    """Status (as written, e.g. "200") -> response object, `$ref`s resolved."""
    route, method = operations(path)[operation_id]
    document = load_contract(path)
    responses = document["paths"][route][method].get("responses", {})
    return {
        status: resolve_pointer(document, response["$ref"]) if "$ref" in response else response
        for status, response in responses.items()
    }


def response_schema_pointer(operation_id: str, status: int, media_type: str, path: Path | None = None) -> str | None:
    """Pointer of the schema documented for this status and media type, or None when there is none."""
    route, method = operations(path)[operation_id]
    responses = load_contract(path)["paths"][route][method].get("responses", {})
    key = (
        str(status)
        if str(status) in responses
        else f"{str(status)[0]}XX"
        if f"{str(status)[0]}XX" in responses
        else None
    )
    if key is None:
        return None
    response = responses[key]
    base = response["$ref"] if "$ref" in response else pointer_for("paths", route, method, "responses", key)
    content = resolve_pointer(load_contract(path), base).get("content", {})
    if media_type not in content or "schema" not in content[media_type]:
        return None
    return (
        base + "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in ("content", media_type, "schema"))
    )
