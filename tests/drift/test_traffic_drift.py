"""`kimi-conformance drift traffic RUN`: what a run's cassette shows the target doing that the contract does not
say. Drift is reported, the run itself still passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from kimi_conformance.cli import cli
from kimi_conformance.drift.traffic import analyse, suggest_overlay


def run(tmp_path: Path, *args: str) -> int:
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", "--profile", "quick"]
    command += ["--model", "kimi-k2.6", *args, "test_chat.py", "test_models.py", "test_streaming.py"]
    return subprocess.run(command, cwd=tmp_path, capture_output=True, timeout=300, env=dict(os.environ)).returncode


def test_the_clean_mock_drifts_only_by_fields_it_never_sends(tmp_path: Path) -> None:
    assert run(tmp_path) == 0
    cassette = (tmp_path / "reports" / "latest" / "cassette.jsonl").read_text()
    assert cassette.count("\n") > 20 and '"authorization": "[REDACTED]"' in cassette
    result = CliRunner().invoke(cli, ["drift", "traffic", str(tmp_path / "reports" / "latest"), "--format", "json"])
    assert result.exit_code == 0
    assert [d for d in json.loads(result.output) if d["severity"] == "warning"] == []


def test_undocumented_fields_and_model_ids_are_named_and_the_run_still_passes(tmp_path: Path) -> None:
    assert run(tmp_path, "--mock-fault", "benign-key-order", "--mock-fault", "models-unknown-id") == 0
    folder = str(tmp_path / "reports" / "latest")
    table = CliRunner().invoke(cli, ["drift", "traffic", folder])
    assert table.exit_code == 0
    assert "undocumented-field           createChatCompletion   chunk.x_vendor_extra  example true" in table.output
    assert 'undocumented-model-id        listModels             200.data[].id  "kimi-k2-instruct-0905"' in table.output
    assert CliRunner().invoke(cli, ["drift", "traffic", folder, "--fail-on", "warning"]).exit_code == 1
    overlay = tmp_path / "overlay.yaml"
    assert CliRunner().invoke(cli, ["drift", "traffic", folder, "--suggest", str(overlay)]).exit_code == 0
    actions = yaml.safe_load(overlay.read_text())["actions"]
    field = {"description": "Observed in traffic, e.g. true", "type": "boolean"}
    chunk = {"target": "$.components.schemas.ChatCompletionChunk.properties", "update": {"x_vendor_extra": field}}
    assert chunk in actions


def record(status: int, body: Any, operation: str = "createChatCompletion") -> dict[str, Any]:
    return {"operation": operation, "status": status, "response_headers": {"content-type": "application/json"},
            "body": json.dumps(body)}  # fmt: skip


def test_enum_values_types_and_statuses() -> None:
    completion = {
        "id": "x", "object": "chat.completion", "created": 1, "model": "kimi-k2.6",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "content_filter"}],
        "usage": {"prompt_tokens": "3", "completion_tokens": 1, "total_tokens": 4},
    }  # fmt: skip
    drifts = analyse([record(200, completion), record(418, {"error": {}})])
    found = {(d.kind, d.where) for d in drifts}
    assert ("undocumented-enum-value", "200.choices[].finish_reason") in found
    assert ("type-difference", "200.usage.prompt_tokens") in found
    assert ("undocumented-status", "HTTP 418") in found
    actions = suggest_overlay(drifts)["actions"]
    finish = "$.paths['/v1/chat/completions'].post.responses['200'].content['application/json'].schema"
    finish += ".properties['choices'].items.properties['finish_reason']"
    assert {"target": finish, "update": {"enum": ["content_filter"]}} in actions
