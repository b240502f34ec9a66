"""Schemathesis hooks for running our contract against our mock with the schemathesis CLI (loaded through
SCHEMATHESIS_HOOKS): the same generation filter and token cap the conformance suite uses.

Positive generation can produce chat requests that are valid against every JSON Schema in the contract and still
break a rule over several fields (a tool message answering no call, a partial message that is not last, prompt plus
max tokens over the context...). openapi/README.md lists these rules; the mock enforces them with 400, as the API
does. The filter drops such bodies so `positive_data_acceptance` judges only what the contract can state.
"""

from __future__ import annotations

import schemathesis

from kimi_conformance.runner.schemathesis_bridge import cap_generated_tokens, filter_generated_body

schemathesis.hook("filter_body")(filter_generated_body)
schemathesis.hook("map_body")(cap_generated_tokens)
