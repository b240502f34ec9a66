"""The conformance suite runs against `--target` (default: the embedded mock); options and fixtures come from
the kimi-conformance pytest plugin (`pytest --help`, group "Kimi API conformance")."""

from __future__ import annotations

import pytest

from kimi_conformance.suite import ModelInfo, target_model_info, target_models


@pytest.fixture
def model_info(target_model: str, request: pytest.FixtureRequest) -> ModelInfo:
    """The contract's description of the target model under test."""
    info = target_model_info(request.config, target_model)
    assert info is not None, f"{target_model} is not a model the contract knows"
    return info


@pytest.fixture(scope="session")
def probe_model(request: pytest.FixtureRequest) -> str | None:
    """A model of the run for requests whose model does not matter (auth and error probes); None when the run has
    none (a request naming a model is then not sent: only the run's models ever are)."""
    models = target_models(request.config)
    return models[0] if models else None
