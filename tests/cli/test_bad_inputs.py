"""The tool's own inputs, hostile or mistaken: a target URL that no client could use and an OpenAPI document built
to exhaust the tool (an alias bomb, a reference bomb, nesting 100,000 deep, bytes that are not UTF-8, a file
too large) each end in one line naming the input, exit 4 (usage) or 2 (unreadable input), within seconds:
never a traceback, a hang or a silent misreading."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from subprocess import PIPE, STDOUT

import pytest

from kimi_conformance.drift.documents import MAX_BYTES, MAX_DEPTH, MAX_NODES
from kimi_conformance.errors import ConfigError
from kimi_conformance.settings import Settings, read_config_file, url_problem

MALFORMED_TARGETS = [
    ("http://[::1/v1", "its IPv6 address lacks the closing ]"),
    ("http://[::1]x:8080/v1", "'x:8080' follows the IPv6 address"),
    ("http://[zz::1]:80/v1", "[zz::1] is not an IPv6 address"),
    ("http://[::1]:99999/v1", "port 99999 is not a number from 1 to 65535"),
]


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, float]:
    """`python -m kimi_conformance ARGS` as a user runs it: exit code, stdout + stderr, seconds taken."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kimi_conformance", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def assert_one_line(output: str, *expected: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    assert len(output.strip().splitlines()) == 1, output[-3000:]
    for text in expected:
        assert text in output, output


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        *MALFORMED_TARGETS,
        ("http://[127.0.0.1]/v1", "[127.0.0.1] is not an IPv6 address"),
        ("http://host:0/v1", "port 0 is not a number from 1 to 65535"),
        ("http://host:65536/v1", "port 65536 is not"),
        ("http://host:-1/v1", "port -1 is not"),
        ("http://host:abc/v1", "port abc is not"),
        ("http://host:" + "9" * 6000 + "/v1", "is not a number from 1 to 65535"),  # never int() of 6000 digits
        ("http://host:80:90/v1", "a host takes one :PORT"),
        ("http://::1/v1", "an IPv6 address goes in brackets"),
        ("http:///v1", "it names no host"),
        ("http://:8080/v1", "it names no host"),
        ("http://user@/v1", "it names no host"),
        ("http://ho[st/v1", "'ho[st' is not a host name"),
        ("http://a b/v1", "a blank or a control character"),
        ("http://host\n/v1", "a blank or a control character"),  # urllib would drop the newline
        ("http://ex\uff03ample/v1", "NFKC"),
        ("ftp://example.com/v1", "it must start with http:// or https://"),
    ],
)
def test_a_url_no_client_can_use_is_named_in_a_few_words(url: str, problem: str) -> None:
    found = url_problem(url)
    assert found is not None and problem in found and "\n" not in found


@pytest.mark.parametrize(
    "url",
    [
        "https://api.moonshot.ai/v1",
        "http://127.0.0.1:8000/v1",
        "http://[::1]:8000/v1",
        "http://[::1]/v1",
        "http://[fe80::1%25eth0]:8080/v1",
        "http://host:65535/v1",
        "http://host:/v1",
        "http://user:secret@gateway.example/v1?x=1#top",
        "http://exämple.com/v1",
    ],
)
def test_a_usable_url_passes(url: str) -> None:
    assert url_problem(url) is None
    assert Settings(target=url).target == url


@pytest.mark.parametrize(("url", "problem"), MALFORMED_TARGETS)
def test_a_malformed_target_is_refused_in_settings_and_in_the_config_file(
    tmp_path: Path, url: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings().merged({"target": url})
    message = str(raised.value)
    assert message.startswith("target must be `mock` or an http(s) base URL such as https://api.moonshot.ai/v1, not ")
    assert f"not {url!r} ({problem}" in message and "\n" not in message
    (tmp_path / "kimi-conformance.toml").write_text(f"target = {json.dumps(url)}\n")
    with pytest.raises(ConfigError, match="target must be") as raised:
        read_config_file(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'kimi-conformance.toml'}: ") and "\n" not in str(raised.value)


def test_run_refuses_a_malformed_target_in_one_line_with_exit_4(tmp_path: Path) -> None:
    """Each `run --target URL` as a subprocess (pytest's usage error: exit 4), started together to save time."""
    env = {**os.environ, "MOONSHOT_API_KEY": "sk-test"}
    started = time.monotonic()
    command = [sys.executable, "-m", "kimi_conformance", "run", "test_models.py", "--target"]
    runs = {
        url: subprocess.Popen([*command, url], cwd=tmp_path, env=env, stdout=PIPE, stderr=STDOUT, text=True)
        for url, _ in MALFORMED_TARGETS
    }
    for url, problem in MALFORMED_TARGETS:
        output, _ = runs[url].communicate(timeout=120)
        assert runs[url].returncode == 4, output[-3000:]
        assert_one_line(output, "target must be `mock` or an http(s) base URL", repr(url), problem)
    assert time.monotonic() - started < 60
    assert not (tmp_path / "reports").exists()  # refused before any run began


def test_run_refuses_a_malformed_target_from_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "kimi-conformance.toml").write_text('target = "http://[::1]:99999/v1"\n')
    code, output, _ = cli("run", "test_models.py", cwd=tmp_path, env={"MOONSHOT_API_KEY": "sk-test"})
    assert code == 4
    assert_one_line(output, "kimi-conformance.toml: target must be", "port 99999 is not a number from 1 to 65535")


def _billion_laughs(levels: int) -> str:
    """A YAML document whose last anchor stands for 9**levels strings, in under a kilobyte."""
    lines = ["openapi: 3.0.3", "info: {title: laughs, version: '1'}", 'l0: &l0 ["lol","lol","lol","lol","lol","lol",'
             '"lol","lol","lol"]']  # fmt: skip
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    lines += ["paths:", "  /laughs:", "    get:", "      responses:", "        '200':", "          description: ok",
              f"          x-laughs: *l{levels}"]  # fmt: skip
    return "\n".join(lines) + "\n"


def _reference_bomb(levels: int) -> dict[str, object]:
    """A JSON document whose last schema, once its `$ref`s are resolved, holds 9**levels schemas."""
    schemas: dict[str, object] = {"s0": {"type": "string"}}
    for i in range(1, levels + 1):
        ref = {"$ref": f"#/components/schemas/s{i - 1}"}
        schemas[f"s{i}"] = {"type": "object", "properties": {f"p{k}": ref for k in range(9)}}
    schema = {"$ref": f"#/components/schemas/s{levels}"}
    ok = {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}
    return {"openapi": "3.0.3", "paths": {"/bomb": {"get": {"responses": ok}}}, "components": {"schemas": schemas}}


LAUGHS = f"laughs.yaml: its YAML aliases expand it beyond {MAX_NODES:,} nodes (an alias bomb?)"
BOMB = f"bomb.json: its $refs expand it beyond {MAX_NODES:,} nodes (a reference bomb?)"
CYCLE = "cycle.yaml is not valid YAML: the alias *p at line 1, column 16 names a node that contains it (a cycle)"
LATIN1 = b"openapi: 3.0.3\npaths: {}\ninfo: {title: caf\xe9, version: '1'}\n"
HOSTILE_DOCUMENTS: list[tuple[str, bytes, str]] = [
    ("laughs.yaml", _billion_laughs(10).encode(), LAUGHS),
    ("bomb.json", json.dumps(_reference_bomb(10)).encode(), BOMB),
    ("deep.json", b'{"paths": {}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", f"nests deeper than {MAX_DEPTH}"),
    ("deep-array.json", b"[" * 100_000 + b"]" * 100_000, f"deep-array.json nests deeper than {MAX_DEPTH} levels"),
    ("deep.yaml", b"paths: {}\nx: " + b"{a: " * 100_000 + b"1" + b"}" * 100_000, f"nests deeper than {MAX_DEPTH}"),
    ("latin1.yaml", LATIN1, "latin1.yaml is not UTF-8: byte 0xe9 at offset 42 is invalid"),
    ("cycle.yaml", b"paths: &p {/a: *p}\n", CYCLE),
    ("list.yaml", b"- paths\n- info\n", "list.yaml is not an OpenAPI document (its top level is a list, not a map"),
    ("scalar.yaml", b"just words\n", "scalar.yaml is not an OpenAPI document (its top level is a string"),
    ("empty.yaml", b"", "empty.yaml is not an OpenAPI document (its top level is empty"),
    ("broken.yaml", b"paths: [1, 2\n", "broken.yaml is not valid YAML: while parsing a flow sequence"),
]


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE_DOCUMENTS, ids=[d[0] for d in HOSTILE_DOCUMENTS])
def test_drift_spec_refuses_a_hostile_document_in_one_line_with_exit_2(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    (tmp_path / name).write_bytes(content)
    (tmp_path / "ok.yaml").write_text("openapi: 3.0.3\ninfo: {title: ok, version: '1'}\npaths: {}\n")
    code, output, seconds = cli("drift", "spec", "ok.yaml", name, cwd=tmp_path)
    assert code == 2, output[-3000:]
    assert_one_line(output, "Error: " + (message if message.startswith(name) else f"{name} {message}"))
    assert seconds < 10


def test_drift_spec_refuses_a_file_over_the_size_limit(tmp_path: Path) -> None:
    with (tmp_path / "huge.yaml").open("wb") as file:
        file.truncate(MAX_BYTES + 1)  # sparse: nothing is written
    code, output, seconds = cli("drift", "spec", "huge.yaml", "huge.yaml", cwd=tmp_path)
    assert code == 2
    assert_one_line(output, f"Error: huge.yaml is larger than {MAX_BYTES // 2**20} MB")
    assert seconds < 10


def test_drift_spec_refuses_a_malformed_url_before_any_request(tmp_path: Path) -> None:
    code, output, _ = cli("drift", "spec", "http://[::1/openapi.yaml", "http://[::1/openapi.yaml", cwd=tmp_path)
    assert code == 2
    assert_one_line(output, "Error: cannot read http://[::1/openapi.yaml: its IPv6 address lacks the closing ]")


def test_drift_spec_says_in_one_line_when_the_junit_file_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("openapi: 3.0.3\ninfo: {title: ok, version: '1'}\npaths: {}\n")
    code, output, _ = cli("drift", "spec", "ok.yaml", "ok.yaml", "--junit", "missing/drift.xml", cwd=tmp_path)
    assert code == 2
    assert "Traceback" not in output and "Error: cannot write missing/drift.xml: No such file or directory" in output
