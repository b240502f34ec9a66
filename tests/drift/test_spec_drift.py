"""`kimi-conformance drift spec`: our contract against copies changed in one way each; every rule is classified
right, an unchanged document has no change, and the outputs and `--fail-on` gate as documented."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kimi_conformance.cli import cli
from kimi_conformance.contract import load_contract
from kimi_conformance.drift.spec_diff import SPEC_RULES, compare_documents

Doc = dict[str, Any]


def schemas(doc: Doc) -> Doc:
    return doc["components"]["schemas"]  # type: ignore[no-any-return]


def _batch_request(doc: Doc) -> Doc:
    return schemas(doc)["BatchCreateRequest"]  # type: ignore[no-any-return]


def _model(doc: Doc) -> Doc:
    return schemas(doc)["Model"]  # type: ignore[no-any-return]


def _limit(doc: Doc) -> Doc:
    return doc["components"]["parameters"]["BatchLimit"]["schema"]  # type: ignore[no-any-return]


def _remove_operation(doc: Doc) -> None:
    del doc["paths"]["/v1/users/me/balance"]


def _add_operation(doc: Doc) -> None:
    doc["paths"]["/v1/ping"] = {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}


def _status_added(doc: Doc) -> None:
    doc["paths"]["/v1/models"]["get"]["responses"]["418"] = {"description": "teapot"}


def _status_removed(doc: Doc) -> None:
    del doc["paths"]["/v1/models"]["get"]["responses"]["200"]


def _media_removed(doc: Doc) -> None:
    content = doc["paths"]["/v1/models"]["get"]["responses"]["200"]["content"]
    content["application/x-ndjson"] = content.pop("application/json")


def _media_added(doc: Doc) -> None:
    content = doc["paths"]["/v1/models"]["get"]["responses"]["200"]["content"]
    content["text/csv"] = {"schema": {"type": "string"}}


def _response_enum_added(doc: Doc) -> None:
    schemas(doc)["BatchStatus"]["enum"].append("paused")


def _response_enum_removed(doc: Doc) -> None:
    schemas(doc)["BatchStatus"]["enum"].remove("expired")


def _chat_union(doc: Doc) -> Doc:
    return schemas(doc)["ChatCompletionRequest"]  # type: ignore[no-any-return]


def _k3_ids(doc: Doc) -> list[str]:
    return schemas(doc)["KimiK3ChatRequest"]["allOf"][1]["properties"]["model"]["enum"]  # type: ignore[no-any-return]


def _family_added(doc: Doc) -> None:
    family = copy.deepcopy(schemas(doc)["KimiK3ChatRequest"])
    family["title"] = "kimi-k4"
    family["allOf"][1]["properties"]["model"]["enum"] = ["kimi-k4"]
    schemas(doc)["KimiK4ChatRequest"] = family
    _chat_union(doc)["oneOf"].append({"$ref": "#/components/schemas/KimiK4ChatRequest"})
    _chat_union(doc)["discriminator"]["mapping"]["kimi-k4"] = "#/components/schemas/KimiK4ChatRequest"


def _family_removed(doc: Doc) -> None:
    _chat_union(doc)["oneOf"].remove({"$ref": "#/components/schemas/KimiK3ChatRequest"})
    mapping = _chat_union(doc)["discriminator"]["mapping"]
    for model in _k3_ids(doc):
        del mapping[model]


def _stream_usage(doc: Doc) -> list[Doc]:
    return schemas(doc)["ChatCompletionChunk"]["properties"]["usage"]["anyOf"]  # type: ignore[no-any-return]


MUTATIONS: dict[str, Callable[[Doc], object]] = {
    "operation-removed": _remove_operation,
    "operation-added": _add_operation,
    "response-status-removed": _status_removed,
    "response-status-added": _status_added,
    "request-property-removed": lambda d: _batch_request(d)["properties"].pop("metadata"),
    "request-optional-property-added": lambda d: _batch_request(d)["properties"].update(priority={"type": "integer"}),
    "request-required-property-added": lambda d: (
        _batch_request(d)["properties"].update(project={"type": "string"}),
        _batch_request(d)["required"].append("project"),
    ),
    "request-property-made-required": lambda d: _batch_request(d)["required"].append("metadata"),
    "request-property-made-optional": lambda d: _batch_request(d)["required"].remove("completion_window"),
    "request-enum-value-removed": lambda d: _batch_request(d)["properties"]["endpoint"].update(enum=[]),
    "request-enum-value-added": lambda d: _batch_request(d)["properties"]["endpoint"]["enum"].append("/v1/embeddings"),
    "request-type-narrowed": lambda d: _limit(d).update(type="string"),
    "request-type-widened": lambda d: _limit(d).update(type=["integer", "string"]),
    "request-range-tightened": lambda d: _limit(d).update(maximum=50),
    "request-range-widened": lambda d: _limit(d).update(maximum=1000),
    "response-property-removed": lambda d: _model(d)["properties"].pop("context_length"),
    "response-property-added": lambda d: _model(d)["properties"].update(region={"type": "string"}),
    "response-property-made-optional": lambda d: _model(d)["required"].remove("owned_by"),
    "response-enum-value-added": _response_enum_added,
    "response-enum-value-removed": _response_enum_removed,
    "response-type-changed": lambda d: _model(d)["properties"]["context_length"].update(type=["integer", "string"]),
    "response-range-widened": lambda d: _model(d)["properties"]["context_length"].update(minimum=0),
    "response-range-tightened": lambda d: _model(d)["properties"]["context_length"].update(minimum=1024),
    "media-type-removed": _media_removed,
    "media-type-added": _media_added,
    "model-id-added": lambda d: _k3_ids(d).append("kimi-k3.2"),
    "model-id-removed": lambda d: _k3_ids(d).remove("kimi-k3.1-pro-highspeed"),
    "request-variant-added": _family_added,
    "request-variant-removed": _family_removed,
    "response-variant-added": lambda d: _stream_usage(d).append({"type": "string"}),
    "response-variant-removed": lambda d: _stream_usage(d).remove({"type": "null"}),
}


def test_every_rule_has_a_one_change_case() -> None:
    assert set(MUTATIONS) == set(SPEC_RULES)


def test_an_unchanged_contract_has_no_change() -> None:
    assert compare_documents(load_contract(), copy.deepcopy(load_contract())) == []


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_a_contract_changed_in_one_way_is_classified_right(rule: str) -> None:
    changed = copy.deepcopy(load_contract())
    MUTATIONS[rule](changed)
    found = {change.rule.name for change in compare_documents(load_contract(), changed)}
    if rule == "media-type-removed":
        assert found == {"media-type-removed", "media-type-added"}  # a rename is both
    else:
        assert found == {rule}, found


def _write(path: Path, doc: Doc, as_json: bool) -> str:
    path.write_text(json.dumps(doc) if as_json else yaml.safe_dump(doc))
    return str(path)


def test_cli_outputs_and_fail_on(tmp_path: Path) -> None:
    old = _write(tmp_path / "old.yaml", load_contract(), as_json=False)
    changed = copy.deepcopy(load_contract())
    _add_operation(changed)
    added = _write(tmp_path / "added.json", changed, as_json=True)
    runner = CliRunner()
    table = runner.invoke(cli, ["drift", "spec", old, added])
    assert table.exit_code == 0 and "SPEC002" in table.output and "1 change(s), 0 breaking" in table.output
    assert runner.invoke(cli, ["drift", "spec", old, added, "--fail-on", "any"]).exit_code == 1
    _remove_operation(changed)
    removed = _write(tmp_path / "removed.json", changed, as_json=True)
    junit = tmp_path / "drift.xml"
    result = runner.invoke(cli, ["drift", "spec", old, removed, "--format", "json", "--junit", str(junit)])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["summary"] == {"changes": 2, "breaking": 1}
    assert {c["rule"] for c in data["changes"]} == {"SPEC001", "SPEC002"}
    assert junit.read_text().count("<testcase") == len(SPEC_RULES) and 'failures="1"' in junit.read_text()
    markdown = runner.invoke(cli, ["drift", "spec", old, removed, "--format", "markdown", "--fail-on", "none"])
    assert markdown.exit_code == 0 and "**1 breaking**" in markdown.output
    missing = runner.invoke(cli, ["drift", "spec", old, str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
