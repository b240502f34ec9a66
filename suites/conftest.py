"""The conformance suite runs against `--target` (default: the embedded mock); options and fixtures come from
the kimi-conformance pytest plugin (`pytest --help`, group "Kimi API conformance")."""

from __future__ import annotations

import pytest

from kimi_conformance.checks import CheckContext
from kimi_conformance.rules import ModelInfo


@pytest.fixture
def model_info(target_model: str, kimi_settings: object, conformance_session: object) -> ModelInfo:
    """The contract's description of the target model under test."""
    context: CheckContext = conformance_session.context  # type: ignore[attr-defined]
    info = context.model(target_model)
    assert info is not None, f"{target_model} is not a model the contract knows"
    return info
