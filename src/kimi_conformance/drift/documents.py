"""OpenAPI documents for drift analysis: read from a path or an http(s) URL, YAML or JSON, 3.0 or 3.1, with
every local `$ref` resolved in place (a reference cycle is left as a `$ref` where it closes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml

from kimi_conformance.errors import ConfigError


def read_document(source: str) -> dict[str, Any]:
    """The parsed document at `source` (a file path or an http(s) URL)."""
    try:
        if source.startswith(("http://", "https://")):
            response = httpx.get(source, timeout=30, follow_redirects=True)
            response.raise_for_status()
            text = response.text
        else:
            text = Path(source).read_text(encoding="utf-8")
    except (OSError, httpx.HTTPError) as exc:
        raise ConfigError(f"cannot read {source}: {exc}") from exc
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{source} is neither JSON nor YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise ConfigError(f"{source} is not an OpenAPI document (no `paths`)")
    return data


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            raise ConfigError(f"unresolvable $ref {ref}")
        node = node[part]
    return node


def resolved(document: dict[str, Any]) -> dict[str, Any]:
    """The document with local `$ref`s replaced by what they point at (siblings of a `$ref` kept, as in 3.1)."""

    def walk(node: Any, trail: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(item, trail) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in trail:
                return {"$ref": ref}
            target = walk(_pointer(document, ref), (*trail, ref))
            siblings = {k: walk(v, trail) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings} if isinstance(target, dict) else target
        return {key: walk(value, trail) for key, value in node.items()}

    result = walk(document, ())
    assert isinstance(result, dict)
    return result
