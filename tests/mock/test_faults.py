"""Each named fault switches on exactly the deviation it names. Faults with check codes are proven by the suite
catching them (tests/runner/test_run.py); the others (streaming, whose checks come later) are probed here."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from kimi_conformance.errors import ConfigError
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.mock.faults import FAULTS
from tests.conftest import user

AUTH = {"Authorization": f"Bearer {DEFAULT_API_KEY}"}
CHAT = {"model": "kimi-k2-turbo-preview", "messages": user("hi")}


def _stream(client: httpx.Client) -> str:
    return client.post("/chat/completions", json={**CHAT, "stream": True}, headers=AUTH).text


def omits_done(client: httpx.Client) -> bool:
    return not _stream(client).endswith("data: [DONE]\n\n")


def usage_only_top_level(client: httpx.Client) -> bool:
    body = _stream(client)
    return '"finish_reason":"stop","usage"' not in body and '"choices":[]' in body


def flat_envelope(client: httpx.Client) -> bool:
    body = client.get("/models").json()
    return "error" not in body and "message" in body


def server_error_for_bad_request(client: httpx.Client) -> bool:
    return client.post("/chat/completions", json={**CHAT, "n": 9}, headers=AUTH).status_code == 500


def ignores_auth(client: httpx.Client) -> bool:
    return client.get("/models").status_code == 200


def clamps_sampling(client: httpx.Client) -> bool:
    body = {"model": "kimi-k2.6", "messages": user("hi"), "temperature": 0.7, "top_p": 0.3}
    return client.post("/chat/completions", json=body, headers=AUTH).status_code == 200


PROBES: dict[str, Callable[[httpx.Client], bool]] = {
    "stream-omit-done": omits_done,
    "stream-usage-top-level-only": usage_only_top_level,
    "error-envelope-flat": flat_envelope,
    "server-error-for-client-errors": server_error_for_bad_request,
    "auth-ignored": ignores_auth,
    "sampling-clamped": clamps_sampling,
}


def test_probes_name_real_faults() -> None:
    assert set(PROBES) <= set(FAULTS)


@pytest.mark.parametrize("fault", sorted(PROBES))
def test_fault_shows_only_when_switched_on(fault: str) -> None:
    probe = PROBES[fault]
    for faults, expected in ((frozenset({fault}), True), (frozenset(), False)):
        with serve_in_thread(MockConfig(faults=faults)) as server, httpx.Client(base_url=server.api_base) as client:
            assert probe(client) is expected, f"{fault} on={expected}"


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown fault"):
        MockConfig(faults=frozenset({"make-it-worse"}))
