"""`kimi-conformance run` end to end: the suite against the embedded mock, clean and broken on purpose."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import MockConfig, create_app, serve_in_thread
from kimi_conformance.rules import load_rules
from kimi_conformance.runner.discovery import PROBES

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    """Run the CLI in a child process from `tmp_path`; return its exit code, results.json and output."""
    command = [sys.executable, "-m", "kimi_conformance", "run", "--report-dir", "reports", *args]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )
    results_path = tmp_path / "reports" / "latest" / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    return done.returncode, results, done.stdout + done.stderr


def codes(results: dict[str, Any]) -> set[str]:
    return {finding["code"] for finding in results.get("findings", [])}


def test_the_whole_suite_passes_on_the_conformant_mock(tmp_path: Path) -> None:
    returncode, results, output = run(tmp_path, "-n", "2")
    assert returncode == 0, output[-3000:]
    assert results["verdict"] == "pass" and results["findings"] == []
    assert results["schema_version"] == 1 and results["summary"]["passed"] > 1000
    assert {"kimi-k3", "kimi-k2.6"} <= set(results["models"]["exercised"])  # today's lineup (facts §12)
    assert results["models"]["not_offered"] == []
    cassette = (tmp_path / "reports" / "latest" / "cassette.jsonl").read_text("utf-8").split("\n")[:-1]
    assert len(cassette) == results["recorded"]["exchanges"] == results["spending"]["requests"]  # each once
    unjudged = [line for line in map(json.loads, cassette) if line.get("judged") is False]
    # unjudged: polls and schemathesis's auth probes (the coverage phase's cases bring theirs: about a tenth)
    assert len(unjudged) == results["recorded"]["unjudged"] < len(cassette) // 8
    folder = (tmp_path / "reports" / "latest").resolve()
    files = {"junit.xml", "results.json", "report.md", "report.html", "cassette.jsonl"}
    assert {p.name for p in folder.iterdir()} == files
    assert "kimi-conformance: ✅ **pass**" in (folder / "report.md").read_text()
    assert "verdict PASS" in output


@pytest.mark.slow
def test_the_older_lineup_still_passes_on_every_older_model(tmp_path: Path) -> None:
    returncode, results, output = run(tmp_path, "-n", "2", "--mock-lineup", "all", "--profile", "quick")
    assert returncode == 0 and results["verdict"] == "pass", output[-3000:]
    assert results["models"]["exercised"] == list(load_rules().models)
    assert "models: 20 exercised (moonshot-v1-8k" in output


def test_xdist_gives_the_same_findings_as_a_serial_run(tmp_path: Path) -> None:
    found = []
    for workers in ("0", "2"):
        folder = tmp_path / workers
        folder.mkdir()
        _, results, _ = run(folder, "-n", workers, "--mock-fault", "auth-ignored", str(SUITES / "test_errors.py"))
        found.append({(f["code"], f["operation"], f["request"]) for f in results["findings"]})
    assert found[0] and found[0] == found[1]


def test_a_url_target_never_leaks_its_key(tmp_path: Path) -> None:
    secret = "sk-very-secret-key-0123456789"
    with serve_in_thread(
        MockConfig(lineup="all", api_keys=frozenset({secret}), faults=frozenset({"error-envelope-flat"}))
    ) as mock:
        returncode, results, output = run(
            tmp_path,
            "--target", mock.api_base,
            "--api-key-env", "KIMI_TEST_KEY",
            "--model", "kimi-k2-turbo-preview",
            str(SUITES / "test_errors.py"), str(SUITES / "test_chat.py"),
            env={"KIMI_TEST_KEY": secret},
        )  # fmt: skip
    assert returncode == 1 and "ERR001" in codes(results)
    assert secret not in output
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
    assert any("$MOONSHOT_API_KEY" in f["replay"] for f in results["findings"])


def test_settings_from_a_config_file_with_environment_interpolation(tmp_path: Path) -> None:
    (tmp_path / "kimi-conformance.toml").write_text(
        'profile = "quick"\nchecks = ["MODL001", "SCHM001"]\nreport-dir = "${KIMI_REPORTS}"\n'
    )
    command = [sys.executable, "-m", "kimi_conformance", "run", str(SUITES / "test_models.py")]
    env = {**os.environ, "KIMI_REPORTS": "from-config"}
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout[-2000:]
    results = json.loads((tmp_path / "from-config" / "latest" / "results.json").read_text())
    assert results["settings"]["profile"] == "quick"
    assert {o["code"] for o in results["checks"] if o["verdict"] != "not-run"} <= {"MODL001", "SCHM001"}


def test_usage_errors_exit_4(tmp_path: Path) -> None:
    returncode, _, output = run(tmp_path, "--checks", "NOPE999", str(SUITES / "test_models.py"))
    assert returncode == 4 and "unknown check 'NOPE999'" in output
    returncode, _, output = run(tmp_path, "--target", "ftp://example", str(SUITES / "test_models.py"))
    assert returncode == 4 and "target must be" in output


def test_an_unreachable_target_is_one_classified_finding(tmp_path: Path) -> None:
    """A target that answers nothing is gone: the run is incomplete (exit 2), with the one finding that says so."""
    with socket.socket() as probe:  # a loopback port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"
    returncode, results, output = run(
        tmp_path, "--target", dead, "--profile", "quick", env={"MOONSHOT_API_KEY": "sk-x"}
    )
    assert returncode == 2 and results["verdict"] == "incomplete"
    assert [f["code"] for f in results["findings"]] == ["HTTP001"]
    assert "does not answer" in output and "Traceback" not in output


class CountingModels:
    """ASGI middleware counting `GET /v1/models` on its way to the mock."""

    def __init__(self, app: Any) -> None:
        self.app, self.count = app, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] == "/v1/models":
            self.count += 1
        await self.app(scope, receive, send)


def test_a_url_target_is_asked_for_its_models_once_per_run_within_the_budget(tmp_path: Path) -> None:
    """Two xdist workers: the controller asks once (`GET /models`, also the reachability probe) and hands the
    answer to both; the request is spent within the budget like any other."""
    counted = CountingModels(create_app(MockConfig(lineup="all", api_keys=frozenset({"url-key"}))))
    test = "test_chat.py::test_max_tokens_cap"  # one request per model
    found = []
    with running(LoopbackServer(counted), "counted-mock") as server:  # type: ignore[arg-type]
        for models in (["--model", "kimi-k2-turbo-preview"], []):
            folder = tmp_path / str(len(models))
            folder.mkdir()
            target = ["--target", server.api_base, "--api-key-env", "URL_KEY", "-n", "2", *models, test]
            returncode, results, output = run(folder, *target, env={"URL_KEY": "url-key"})
            assert returncode == 0, output[-2000:]
            found.append((counted.count, results["summary"]["tests"]["passed"], results["spending"]["requests"]))
            counted.count = 0
    (probes, tested, requests), (listed_probes, listed_tested, listed_requests) = found
    operations_probe = len(PROBES)  # one request per operation group, also once per run (runner/discovery.py)
    assert (probes, tested, requests) == (1, 1, 2 + operations_probe)
    assert listed_probes == 1 and listed_tested > 5  # every listed model the contract knows, from that one answer
    assert listed_requests == 1 + operations_probe + listed_tested
