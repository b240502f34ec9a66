"""GET /v1/models: shape, ids, context lengths (facts §6)."""

from __future__ import annotations

from kimi_conformance.suite import Ceiling, TargetClient, Verify, ceiling, uses_operations

pytestmark = uses_operations("models")


@ceiling(Ceiling(requests=1))
def test_models_list(target_client: TargetClient, verify: Verify) -> None:
    verify(target_client.request("listModels", "GET", "/models"))
