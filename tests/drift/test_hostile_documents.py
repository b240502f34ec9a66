"""The document loader of `drift spec`, branch by branch: what it refuses (in one line naming the source), what it
still reads as before, and that no document it accepts can crash the diff (recursion, misshapen members)."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kimi_conformance.contract import load_contract
from kimi_conformance.drift import documents
from kimi_conformance.drift.documents import MAX_DEPTH, MAX_NODES, expansion, read_document, resolved
from kimi_conformance.drift.spec_diff import compare_documents
from kimi_conformance.errors import ConfigError

OK = "openapi: 3.0.3\ninfo: {title: ok, version: '1'}\npaths: {}\n"


def refused(path: Path, content: str | bytes) -> str:
    """The one-line message `read_document` refuses `content` with (written to `path`)."""
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError) as raised:
        read_document(str(path))
    message = str(raised.value)
    assert "\n" not in message and str(path) in message
    return message


def nested(levels: int, leaf: Any = 1) -> Any:
    """`levels` levels: lists nested `levels - 1` deep around `leaf`."""
    node = leaf
    for _ in range(levels - 1):
        node = [node]
    return node


def count(node: Any) -> int:
    stack, nodes = [node], 0
    while stack:
        item = stack.pop()
        nodes += 1
        stack += item.values() if isinstance(item, dict) else item if isinstance(item, list) else []
    return nodes


# -- reading


def test_the_text_must_be_utf8_and_the_offset_of_the_first_bad_byte_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path / "bad.yaml", b"paths: {}\ninfo: {title: \xff\xfe}\n")
    assert message == f"{tmp_path / 'bad.yaml'} is not UTF-8: byte 0xff at offset 24 is invalid (invalid start byte)"
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + OK.encode())  # a byte order mark is UTF-8 too
    assert read_document(str(tmp_path / "bom.yaml"))["paths"] == {}


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_BYTES", len(OK))
    (tmp_path / "exact.yaml").write_text(OK)
    assert read_document(str(tmp_path / "exact.yaml"))["openapi"] == "3.0.3"
    assert "is larger than 0 MB" in refused(tmp_path / "big.yaml", OK + " ")


def test_a_missing_file_or_a_folder_is_one_line(tmp_path: Path) -> None:
    for source in (tmp_path / "nope.yaml", tmp_path):
        with pytest.raises(ConfigError, match=r"^cannot read ") as raised:
            read_document(str(source))
        assert "\n" not in str(raised.value)


# -- parsing


def test_yaml_aliases_are_counted_as_what_they_stand_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\npaths: {}\n"
    (tmp_path / "fine.yaml").write_text(laughs)
    assert read_document(str(tmp_path / "fine.yaml"))["b"] == [["x"] * 10] * 10  # 100 values: well within
    monkeypatch.setattr(documents, "MAX_NODES", 100)
    message = refused(tmp_path / "laughs.yaml", laughs)
    assert message.endswith(": its YAML aliases expand it beyond 100 nodes (an alias bomb?)")
    no_alias = "paths: {}\nx: [" + ", ".join(["1"] * 100) + "]\n"
    assert refused(tmp_path / "plain.yaml", no_alias).endswith("holds more than 100 values: too large for an "
                                                               "OpenAPI document")  # fmt: skip
    plain = {"paths": {}, "x": list(range(100))}
    assert "holds more than 100 values" in refused(tmp_path / "plain.json", json.dumps(plain))


def test_a_billion_laughs_is_refused_at_once(tmp_path: Path) -> None:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    started = time.monotonic()
    message = refused(tmp_path / "laughs.yaml", "\n".join([*lines, "paths: {x: *l9}"]) + "\n")
    assert f"expand it beyond {MAX_NODES:,} nodes (an alias bomb?)" in message
    assert time.monotonic() - started < 5


def test_an_alias_inside_the_node_it_names_is_a_cycle(tmp_path: Path) -> None:
    message = refused(tmp_path / "cycle.yaml", "paths: {}\nx: &x\n  - y: *x\n")
    assert message.endswith("is not valid YAML: the alias *x at line 3, column 8 names a node that contains it "
                            "(a cycle)")  # fmt: skip


@pytest.mark.parametrize("suffix", ["json", "yaml"])
def test_nesting_is_allowed_to_max_depth_and_refused_past_it(tmp_path: Path, suffix: str) -> None:
    def document(levels: int) -> str:  # the mapping is level 1, `x` level 2
        return json.dumps({"paths": {}, "x": nested(levels - 1)})

    (tmp_path / f"ok.{suffix}").write_text(document(MAX_DEPTH) if suffix == "json" else "\n" + document(MAX_DEPTH))
    assert read_document(str(tmp_path / f"ok.{suffix}"))["paths"] == {}
    too_deep = document(MAX_DEPTH + 1) if suffix == "json" else "\n" + document(MAX_DEPTH + 1)  # `\n`: YAML's way
    assert refused(tmp_path / f"deep.{suffix}", too_deep).endswith(f"nests deeper than {MAX_DEPTH} levels: too "
                                                                   "deep for an OpenAPI document")  # fmt: skip
    hundred_thousand = '{"paths": {}, "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    text = hundred_thousand if suffix == "json" else "\n" + hundred_thousand
    assert f"nests deeper than {MAX_DEPTH} levels" in refused(tmp_path / f"very.{suffix}", text)


def test_an_alias_cannot_nest_a_document_past_max_depth(tmp_path: Path) -> None:
    """Each anchor is shallow, but each alias sits at the bottom of the next: the expanded document is deep."""
    lines = [f"a{i}: &a{i} " + "[" * 30 + (f"*a{i - 1}" if i else "1") + "]" * 30 for i in range(5)]
    assert f"nests deeper than {MAX_DEPTH} levels" in refused(tmp_path / "a.yaml", "\n".join([*lines, "paths: {}"]))


def test_yaml_mapping_keys_are_the_text_written(tmp_path: Path) -> None:
    """`200:` is the status "200" (as in JSON): a document mixing `200:` and `default:` diffs like any other."""
    responses = "        200: {description: ok}\n        default: {description: no}\n        404: {description: gone}"
    merged = "base: &base {1.5: x, true: y, null: z}\nmerged: {<<: *base, 2020-01-01: w}"
    text = OK.replace("paths: {}", f"paths:\n  /a:\n    get:\n      responses:\n{responses}\n{merged}")
    (tmp_path / "keys.yaml").write_text(text)
    document = read_document(str(tmp_path / "keys.yaml"))
    assert list(document["paths"]["/a"]["get"]["responses"]) == ["200", "default", "404"]
    assert document["merged"] == {"1.5": "x", "true": "y", "null": "z", "2020-01-01": "w"}
    assert compare_documents(document, copy.deepcopy(document)) == []
    assert document["openapi"] == "3.0.3"  # values keep their YAML types


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- a\n- b\n", "its top level is a list, not a mapping"),
        ("words\n", "its top level is a string, not a mapping"),
        ("42\n", "its top level is a number, not a mapping"),
        ("", "its top level is empty, not a mapping"),
        ("# only a comment\n", "its top level is empty, not a mapping"),
        ("openapi: 3.0.3\n", "is not an OpenAPI document (no `paths`)"),
        ("paths: [1, 2\n", "is not valid YAML: while parsing a flow sequence, expected ',' or ']', but got"),
        ("paths: {}\n---\npaths: {}\n", "expected a single document in the stream, but found another document"),
        ('paths: {}\nx: "\x00"\n', "it holds the character U+0000 (at character 14), which YAML does not allow"),
        ("paths: {}\nx: " + "9" * 5000 + "\n", "is not valid YAML: Exceeds the limit (4300 digits)"),
        ("paths: !!python/object/apply:os.system [echo]\n", "could not determine a constructor for the tag"),
        ("paths: {}\nx: *nowhere\n", "found undefined alias 'nowhere' at line 2, column 4"),
        ('{"paths": {}, "x": }', "is not valid JSON: Expecting value: line 1 column 20 (char 19)"),
    ],
)
def test_what_is_no_openapi_document_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    assert message in refused(tmp_path / "doc.yaml", content)


# -- URLs


def test_a_document_at_a_url_is_read_like_a_file(
    server: tuple[str, dict[str, tuple[int, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, answers = server
    answers["/ok.yaml"] = (200, OK.encode())
    answers["/latin1.yaml"] = (200, b"paths: {}\nx: caf\xe9\n")
    assert read_document(f"{base}/ok.yaml")["paths"] == {}
    with pytest.raises(ConfigError, match=r"^cannot read .*/gone.yaml: HTTP 404 Not Found$"):
        read_document(f"{base}/gone.yaml")
    with pytest.raises(ConfigError, match=r"latin1.yaml is not UTF-8: byte 0xe9 at offset 16"):
        read_document(f"{base}/latin1.yaml")
    with pytest.raises(ConfigError, match=r"^cannot read http://\[::1:1/x: its IPv6 address lacks the closing \]$"):
        read_document("http://[::1:1/x")
    monkeypatch.setattr(documents, "MAX_BYTES", 10)
    with pytest.raises(ConfigError, match=r"ok.yaml is larger than 0 MB"):
        read_document(f"{base}/ok.yaml")


# -- resolving and diffing


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document.setdefault("components", {}).setdefault("schemas", {})  # type: ignore[no-any-return]


def _with_response(schema: dict[str, Any]) -> dict[str, Any]:
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
    return {"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": ok}}}}


def test_a_reference_bomb_is_refused_before_anything_is_built() -> None:
    document = _with_response({"$ref": "#/components/schemas/s12"})
    _schemas(document)["s0"] = {"type": "string"}
    for i in range(1, 13):
        ref = {"$ref": f"#/components/schemas/s{i - 1}"}
        _schemas(document)[f"s{i}"] = {"type": "object", "properties": {f"p{k}": ref for k in range(9)}}
    started = time.monotonic()
    with pytest.raises(ConfigError, match=rf"^NEW: its \$refs expand it beyond {MAX_NODES:,} nodes"):
        compare_documents(_with_response({}), document)
    assert time.monotonic() - started < 2


def test_a_long_chain_of_refs_resolves_without_recursion_error() -> None:
    """1,200 schemas, each a `$ref` to the next or one property holding it: shallow one by one, far deeper than
    Python's recursion limit resolved (a `$ref` deeper than MAX_DEPTH levels is left as it is)."""
    for hop in ({"$ref": "#/components/schemas/c{}"}, {"properties": {"next": {"$ref": "#/components/schemas/c{}"}}}):
        document = _with_response({"$ref": "#/components/schemas/c0"})
        for i in range(1200):
            _schemas(document)[f"c{i}"] = json.loads(json.dumps(hop).replace("{}", str(i + 1)))
        _schemas(document)["c1200"] = {"type": "string"}
        changed = copy.deepcopy(document)
        _schemas(changed)["c1200"] = {"type": "integer"}
        compare_documents(document, changed)


def test_the_deepest_document_accepted_with_refs_at_the_bottom_diffs() -> None:
    """Schemas nested almost MAX_DEPTH levels, each ending in a `$ref` to the next: resolved, the document is
    about twice MAX_DEPTH deep, and diffing two of them must stay within Python's recursion limit."""

    def document(leaf: str) -> dict[str, Any]:
        result = _with_response({"$ref": "#/components/schemas/d0"})
        for i in range(4):
            schema: dict[str, Any] = {"$ref": f"#/components/schemas/d{i + 1}"}
            for _ in range((MAX_DEPTH - 6) // 2):
                schema = {"type": "object", "properties": {"p": schema}}
            _schemas(result)[f"d{i}"] = schema
        _schemas(result)["d4"] = {"type": leaf}
        return result

    old = document("string")
    documents._check_json_shape(old, "old")  # within MAX_DEPTH as written
    compare_documents(old, document("integer"))
    compare_documents(old, copy.deepcopy(old))


def test_expansion_counts_at_least_what_resolution_builds() -> None:
    contract = load_contract()
    assert count(resolved(contract)) <= expansion(contract) <= 1.1 * count(resolved(contract))


def test_a_json_pointer_may_index_a_list() -> None:
    document = _with_response({"$ref": "#/components/schemas/list/1"})
    _schemas(document)["list"] = [{"type": "string"}, {"type": "integer"}]
    assert resolved(document)["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "integer"
    }
    document["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] += "0"
    with pytest.raises(ConfigError, match=r"^the document: unresolvable \$ref #/components/schemas/list/10$"):
        resolved(document)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=10**310), st.floats(),
                     st.text(max_size=5))  # fmt: skip
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["type", "required", "properties", "items", "allOf", "oneOf", "anyOf", "enum", "const", "title",
                     "minimum", "content", "schema", "responses", "parameters", "name", "in", "$ref", "discriminator",
                     "propertyName", "mapping", "x"]), inner, max_size=3),
    max_leaves=8)  # fmt: skip


def _places(node: Any, trail: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict | list):
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            yield (*trail, key)
            yield from _places(value, (*trail, key))


_ITEM = {"$ref": "#/components/schemas/Item"}
_BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {"/items/{id}": {
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "post": {
            "parameters": [{"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 9}}],
            "requestBody": {"content": {"application/json": {"schema": _ITEM}}},
            "responses": {
                "200": {"description": "ok", "content": {"application/json": {"schema": {"allOf": [
                    _ITEM, {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}]}}}},
                "default": {"description": "no"},
            },
        },
    }},
    "components": {"schemas": {"Item": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 10, "nullable": True},
        "kind": {"enum": ["a", "b"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "value": {"oneOf": [{"type": "integer"}, {"type": ["string", "null"]}], "const": 1},
        "self": _ITEM,
        "part": {"oneOf": [{"$ref": "#/components/schemas/Text"}, {"title": "image", "type": "object", "properties": {
            "kind": {"const": "image"}, "url": {"type": "string"}}}], "discriminator": {"propertyName": "kind",
                                                                                       "mapping": {"text": "Text"}}},
        "parts": {"anyOf": [{"type": "object", "properties": {"kind": {"enum": ["text", "image"]}}}]},
    }}, "Text": {"type": "object", "properties": {"kind": {"enum": ["text"]}, "text": {"type": "string"}}}}},
}  # fmt: skip
"""Every construct the diff reads, small enough to diff hundreds of times a second."""
_PLACES = list(_places(_BASE))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PLACES), _VALUES), min_size=1, max_size=3))
def test_a_misshapen_member_never_crashes_the_diff(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    """A document that loads but is no valid OpenAPI (a `required` that is a number, `content` a list, a bound
    of 311 digits, `type: [{}]`): the diff reads the misshapen member as absent, and never raises but a
    ConfigError (an unresolvable `$ref`)."""
    document = copy.deepcopy(_BASE)
    for place, value in edits:
        node: Any = document
        try:
            for key in place[:-1]:
                node = node[key]
            node[place[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced the way there
    for old, new in ((_BASE, document), (document, _BASE)):
        try:
            compare_documents(old, new)
        except ConfigError as exc:
            assert "unresolvable $ref" in str(exc)
