"""Named deviations the mock can be switched into (`kimi-conformance mock --fault NAME`).

The conformant mock has none on. Each fault makes one realistic defect; code paths ask
`config.has_fault(name)` at the one place the behaviour lives. The self-test (a later issue) asserts that each
fault is caught by the checks it lists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fault:
    """A named deviation, what it breaks, and the check codes that must catch it."""

    name: str
    description: str
    codes: tuple[str, ...] = ()


_CATALOGUE = (
    Fault("stream-omit-done", "streams end without the final `data: [DONE]` event"),
    Fault("stream-usage-top-level-only", "usage only in an OpenAI-style `choices: []` chunk, not in the final choice"),
    Fault("error-envelope-flat", 'error bodies are `{"message": ...}` instead of `{"error": {...}}`'),
    Fault("server-error-for-client-errors", "invalid requests are answered 500 instead of 400"),
    Fault("auth-ignored", "requests without a valid key are served anyway"),
    Fault("sampling-clamped", "out-of-range or non-fixed sampling values are silently clamped instead of rejected"),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _CATALOGUE}
