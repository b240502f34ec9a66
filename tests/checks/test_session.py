"""What fails a test: errors always, warnings only under --strict, info never."""

from __future__ import annotations

import time

import pytest

from kimi_conformance.checks import CheckContext, select
from kimi_conformance.exchange import Exchange
from kimi_conformance.findings import Severity
from kimi_conformance.runner.session import ConformanceSession


def chat_exchange(prompt_tokens: int) -> Exchange:
    estimate = Exchange(
        "estimateTokenCount",
        "POST",
        "http://x/v1/tokenizers/estimate-token-count",
        {},
        status=200,
        response_headers={"content-type": "application/json"},
        body=b'{"data": {"total_tokens": 10}}',
    )
    body = (
        f'{{"id": "cmpl-1", "object": "chat.completion", "created": {int(time.time())}, "model": "kimi-k2.6", '
        '"choices": [{"index": 0, "message": {"role": "assistant", "content": "OK", "reasoning_content": "Hm."}, '
        '"finish_reason": "stop"}], '
        f'"usage": {{"prompt_tokens": {prompt_tokens}, "completion_tokens": 1, "total_tokens": {prompt_tokens + 1}}}}}'
    )
    return Exchange("createChatCompletion", "POST", "http://x/v1/chat/completions", {},
                    request_json={"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}]},
                    status=200, response_headers={"content-type": "application/json"}, body=body.encode(),
                    related={"estimate": estimate})  # fmt: skip


@pytest.mark.parametrize(("strict", "blocking"), [(False, 0), (True, 1)])
def test_warnings_block_only_under_strict(strict: bool, blocking: int) -> None:
    session = ConformanceSession(CheckContext(), select(), strict=strict)
    assert len(session.check(chat_exchange(prompt_tokens=20)).findings) == blocking
    (finding,) = [o.finding for o in session.outcomes if o.finding]
    assert finding.code == "CHAT011" and finding.severity is Severity.WARNING


def test_agreeing_estimate_passes() -> None:
    session = ConformanceSession(CheckContext(), select())
    assert not session.check(chat_exchange(prompt_tokens=12))
    assert not [o for o in session.outcomes if o.finding]
