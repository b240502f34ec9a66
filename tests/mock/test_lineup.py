"""Today's lineup (facts §12): the mock serves the current models by default and answers 404 for a retired id, as
the API does; `lineup="all"` serves every model the table knows, for users who test an older deployment. A run
reports the current models a target does not list as information."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kimi_conformance.cli import cli
from kimi_conformance.errors import ConfigError
from kimi_conformance.loopback import LoopbackServer, running
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.rules import load_rules
from kimi_conformance.runner.target import probe_target
from kimi_conformance.settings import Settings

CURRENT = [
    "kimi-k2.6",
    "kimi-k2.7-code",
    "kimi-k2.7-code-highspeed",
    "kimi-k3",
    "kimi-k3.1-pro",
    "kimi-k3.1-pro-highspeed",
]
HEADERS = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}


def listed(config: MockConfig) -> list[str]:
    with serve_in_thread(config) as server, httpx.Client(base_url=server.api_base, headers=HEADERS) as http:
        return [model["id"] for model in http.get("/models").json()["data"]]


def test_the_mock_lists_todays_lineup_by_default_and_every_model_with_lineup_all() -> None:
    assert listed(MockConfig()) == CURRENT
    assert listed(MockConfig(lineup="all")) == list(load_rules().models)


@pytest.mark.parametrize("model", ["kimi-k2.5", "moonshot-v1-8k", "kimi-k2-turbo-preview"])
def test_a_retired_model_answers_404_as_the_api_does(model: str) -> None:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    with serve_in_thread(MockConfig()) as server, httpx.Client(base_url=server.api_base, headers=HEADERS) as http:
        answer = http.post("/chat/completions", json=body)
        estimate = http.post("/tokenizers/estimate-token-count", json=body)
    with (
        serve_in_thread(MockConfig(lineup="all")) as server,
        httpx.Client(base_url=server.api_base, headers=HEADERS) as http,
    ):
        served_by_older = http.post("/chat/completions", json={**body, "max_completion_tokens": 8}).status_code
    for refused in (answer, estimate):
        assert refused.status_code == 404
        error = refused.json()["error"]
        assert error["type"] == "resource_not_found_error" and f"Not found the model {model}" in error["message"]
    assert served_by_older == 200


def test_an_unknown_lineup_is_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="lineup must be one of current, all"):
        MockConfig(lineup="2025")
    result = CliRunner().invoke(cli, ["mock", "--lineup", "2025"])
    assert result.exit_code == 4 and "'2025' is not one of 'current', 'all'" in result.output


def test_a_retired_model_on_the_embedded_mock_needs_lineup_all() -> None:
    with pytest.raises(ConfigError, match=r"kimi-k2\.5 was retired .* --mock-lineup all"):
        Settings(models=("kimi-k2.5",))
    assert Settings(models=("kimi-k2.5",), mock_lineup="all").models == ("kimi-k2.5",)


def test_the_probe_names_todays_models_a_target_does_not_list(monkeypatch: pytest.MonkeyPatch) -> None:
    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "kimi-k3", "object": "model"}, {"id": "acme-k2"}]})

    app = Starlette(routes=[Route("/v1/models", models)])
    monkeypatch.setenv("KIMI_TEST_KEY", "sk-test")
    with running(LoopbackServer(app), "models-only") as server:
        settings = Settings(target=server.api_base, api_key_env="KIMI_TEST_KEY", model_family=("acme-k2=kimi-k2.6",))
        probe = probe_target(settings, None)
    assert probe.models == ("kimi-k3", "acme-k2")
    assert probe.not_offered == (
        "kimi-k2.7-code",
        "kimi-k2.7-code-highspeed",
        "kimi-k3.1-pro",
        "kimi-k3.1-pro-highspeed",
    )
