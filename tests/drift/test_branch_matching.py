"""`drift spec` on unions: branches matched by identity (the discriminating values, the title, the structure),
never by position, on a document shaped like Moonshot's published spec (built here, never fetched) and on our
contract; model ids and branches added or removed are their own rules; the published spec's URL is read."""

from __future__ import annotations

import copy
import json
from typing import Any

from click.testing import CliRunner

from kimi_conformance.cli import cli
from kimi_conformance.contract import contract_path, load_contract
from kimi_conformance.drift.render import render_json, render_markdown
from kimi_conformance.drift.spec_diff import Change, compare_documents
from tests.drift.published_like import (
    ESTIMATE,
    FAMILIES,
    chat_pointer,
    published_like,
    reversed_unions,
)

Doc = dict[str, Any]
K4 = ("KimiK4ChatRequest", ["kimi-k4", "kimi-k4-turbo"])


def drift(old: Doc, new: Doc) -> list[Change]:
    return compare_documents(old, new)


def family_schema(doc: Doc, name: str) -> Doc:
    return doc["components"]["schemas"][name]["allOf"][1]  # type: ignore[no-any-return]


def run(tmp_path: Any, old: Doc, new: Doc, *options: str) -> tuple[int, str]:
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    result = CliRunner().invoke(
        cli, ["drift", "spec", str(tmp_path / "old.json"), str(tmp_path / "new.json"), *options]
    )
    return result.exit_code, result.output


def test_the_published_spec_with_its_branches_reversed_has_no_change(tmp_path: Any) -> None:
    published = published_like()
    assert drift(published, reversed_unions(published)) == []
    assert run(tmp_path, published, reversed_unions(published)) == (0, "no changes\n")


def test_a_family_added_is_one_non_breaking_change_naming_its_model_ids(tmp_path: Any) -> None:
    """The ids also join the token estimate's enum: still one change, the other place counted in it."""
    published = published_like()
    grown = reversed_unions(published_like({**FAMILIES, "kimi-k4": K4}))
    (found,) = drift(published, grown)
    assert found.rule.name == "request-variant-added" and not found.rule.breaking
    assert found.pointer == f"{chat_pointer()}/oneOf[kimi-k4]"
    assert found.model_ids == ("kimi-k4", "kimi-k4-turbo")
    assert found.detail == "kimi-k4: model kimi-k4, kimi-k4-turbo (also at 1 other place)"
    status, output = run(tmp_path, published, grown)
    assert status == 0 and "SPEC028" in output and "1 change(s), 0 breaking" in output


def test_a_family_removed_is_breaking(tmp_path: Any) -> None:
    families = {title: family for title, family in FAMILIES.items() if title != "kimi-k2-thinking"}
    (found,) = drift(published_like(), published_like(families))
    assert found.rule.name == "request-variant-removed" and found.rule.breaking
    assert found.pointer == f"{chat_pointer()}/oneOf[kimi-k2-thinking]"
    assert found.model_ids == ("kimi-k2-thinking", "kimi-k2-thinking-turbo")
    status, output = run(tmp_path, published_like(), published_like(families))
    assert status == 1 and "SPEC029" in output


def test_a_change_inside_a_family_is_reported_under_its_name() -> None:
    changed = published_like()
    family_schema(changed, "KimiK2ChatRequest")["properties"]["temperature"]["maximum"] = 0.8
    for new in (changed, reversed_unions(changed)):
        (found,) = drift(published_like(), new)
        assert found.rule.name == "request-range-tightened"
        assert found.pointer == f"{chat_pointer()}/oneOf[kimi-k2]/properties/temperature/maximum"


def test_model_ids_added_to_or_removed_from_a_family_are_their_own_rule() -> None:
    changed = published_like()
    ids = family_schema(changed, "KimiK2ChatRequest")["properties"]["model"]["enum"]
    ids.remove("kimi-k2-0711-preview")
    ids.append("kimi-k2-1201")
    found = [(c.rule.name, c.rule.breaking, c.pointer, c.model_ids) for c in drift(published_like(), changed)]
    where = f"{chat_pointer()}/oneOf[kimi-k2]/properties/model"
    assert found == [
        ("model-id-added", False, where, ("kimi-k2-1201",)),
        ("model-id-removed", True, where, ("kimi-k2-0711-preview",)),
    ]


def test_a_model_id_in_several_places_is_reported_once() -> None:
    old, new = published_like(), published_like()
    family_schema(new, "KimiK26ChatRequest")["properties"]["model"]["enum"].append("kimi-k2.6-fast")
    new["paths"][ESTIMATE]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]["model"][
        "enum"
    ].append("kimi-k2.6-fast")
    (found,) = drift(old, new)
    assert found.rule.name == "model-id-added" and found.model_ids == ("kimi-k2.6-fast",)
    assert found.pointer == f"{chat_pointer()}/oneOf[kimi-k2.6]/properties/model"
    assert found.detail == "kimi-k2.6-fast (also at 1 other place)"


def test_the_models_list_and_response_model_fields_hold_model_ids() -> None:
    def listing(ids: list[str]) -> Doc:
        item = {"type": "object", "properties": {"id": {"type": "string", "enum": ids}}}
        listed = {"type": "object", "properties": {"data": {"type": "array", "items": item}}}
        ok = {"200": {"description": "ok", "content": {"application/json": {"schema": listed}}}}
        return {"openapi": "3.1.0", "paths": {"/v1/models": {"get": {"responses": ok}}}}

    found = [(c.rule.name, c.rule.breaking, c.model_ids) for c in drift(listing(["a", "b"]), listing(["b", "c"]))]
    assert found == [("model-id-added", False, ("c",)), ("model-id-removed", True, ("a",))]


def test_our_contract_against_the_published_spec_removes_no_field_both_have() -> None:
    """Our chat request is a family per discriminator value too, but splits moonshot-v1 in two, writes each
    message role as a branch, `response_format` and the tools as unions: none of that is a field removed."""
    changes = drift(published_like(), load_contract())
    assert [c.pointer for c in changes if c.rule.name == "request-property-removed"] == []
    assert not [c.pointer for c in changes if "/oneOf/" in c.pointer or "/anyOf/" in c.pointer]  # no positions
    added = {c.pointer.rsplit("/", 1)[-1]: c.model_ids for c in changes if c.rule.name == "request-variant-added"
             and c.model_ids}  # fmt: skip
    assert added == {
        "oneOf[kimi-k2.7-code (always thinking)]": ("kimi-k2.7-code", "kimi-k2.7-code-highspeed"),
        "oneOf[kimi-k3]": ("kimi-k3", "kimi-k3.1-pro", "kimi-k3.1-pro-highspeed"),
    }
    # the honest differences: our text-only families take no image or video parts, kimi-latest is ours only
    removed = {c.pointer.removeprefix(chat_pointer()) for c in changes if c.rule.name == "request-variant-removed"}
    parts = "/properties/messages/items/properties/content/items"
    assert f"/oneOf[kimi-k2 (non-thinking)]{parts}/oneOf[image_url]" in removed
    assert not any("kimi-k2.6" in pointer for pointer in removed)
    assert {c.model_ids for c in changes if c.rule.name == "model-id-added"} >= {("kimi-latest",)}
    assert not [c for c in changes if c.rule.name == "model-id-removed"]


def test_the_published_spec_is_read_from_its_url(server: tuple[str, dict[str, tuple[int, bytes]]]) -> None:
    """`drift spec https://platform.kimi.ai/docs/openapi.json openapi/moonshot.openapi.yaml`, with the document
    served on loopback."""
    base, answers = server
    answers["/docs/openapi.json"] = (200, json.dumps(published_like()).encode())
    url = f"{base}/docs/openapi.json"
    result = CliRunner().invoke(cli, ["drift", "spec", url, str(contract_path()), "--format", "json"])
    assert result.exit_code == 1, result.output  # breaking: our text-only families refuse image parts
    data = json.loads(result.output)
    assert data["old"] == url
    names = {change["name"] for change in data["changes"]}
    assert "request-property-removed" not in names and {"request-variant-added", "model-id-added"} <= names
    answers["/openapi.json"] = (302, b"/docs/openapi.json")  # a redirect is followed
    moved = CliRunner().invoke(cli, ["drift", "spec", f"{base}/openapi.json", url, "--fail-on", "any"])
    assert (moved.exit_code, moved.output) == (0, "no changes\n")
    answers["/loop"] = (302, b"/loop")
    for source, error in ((f"{base}/nowhere.json", "HTTP 404 Not Found"), (f"{base}/loop", "TooManyRedirects")):
        failed = CliRunner().invoke(cli, ["drift", "spec", source, str(contract_path())])
        assert failed.exit_code == 2 and failed.output.count("\n") == 1 and error in failed.output, failed.output


def test_renderers_name_the_branch_and_the_model_ids() -> None:
    grown = published_like({**FAMILIES, "kimi-k4": K4})
    changes = drift(published_like(), grown)
    data = json.loads(render_json(changes, "old", "new"))
    assert data["changes"][0]["model_ids"] == ["kimi-k4", "kimi-k4-turbo"]
    assert data["changes"][0]["pointer"].endswith("/oneOf[kimi-k4]")
    titled = copy.deepcopy(grown)
    titled["components"]["schemas"]["KimiK4ChatRequest"]["title"] = "kimi-k4 | preview\nline"
    (found,) = drift(published_like(), titled)
    assert found.pointer.endswith("/oneOf[kimi-k4 | preview line]")  # one line, whatever the title holds
    assert "`" + found.pointer.replace("|", "\\|") + "`" in render_markdown([found], "old", "new")
