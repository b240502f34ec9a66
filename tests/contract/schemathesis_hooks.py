"""Schemathesis hooks for running our contract against our mock (loaded through SCHEMATHESIS_HOOKS).

Positive generation can produce chat requests that are valid against every JSON Schema in the contract and still
break a rule over several fields (a tool message answering no call, a partial message that is not last, prompt plus
max tokens over the context...). openapi/README.md lists these rules; the mock enforces them with 400, as the API
does. This hook drops such bodies so `positive_data_acceptance` judges only what the contract can state. It uses
the mock's own list of those rules, which tests/mock test one by one.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from kimi_conformance.rules import load_rules
from kimi_conformance.rules.cross_field import cross_field_problems


def _media_refers_to_uploads(body: dict[str, Any]) -> bool:
    return "ms://" in json.dumps(body.get("messages"), default=str)


@schemathesis.hook
def filter_body(ctx: Any, body: Any) -> bool:
    operation = getattr(ctx, "operation", None)
    path = getattr(operation, "path", "")
    if path == "/v1/files" and isinstance(body, dict) and body.get("file") in (b"", ""):
        return False  # a zero-byte upload is rejected with the documented message (facts §4)
    if path != "/v1/chat/completions" or not isinstance(body, dict):
        return True
    model = load_rules().model(str(body.get("model")))
    if model is None:
        return True
    if _media_refers_to_uploads(body):
        return False  # `ms://<file_id>` must name a file uploaded earlier in the session
    try:
        thinking = model.thinks(body.get("thinking"))
        return not cross_field_problems(body, model, thinking)
    except (AttributeError, KeyError, TypeError):
        return True  # not a schema-valid body (negative generation): let the mock judge it
