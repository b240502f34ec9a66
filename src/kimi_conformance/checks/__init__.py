"""The checks: a registry of small functions with stable codes, run on exchanges with a target."""

from __future__ import annotations

from kimi_conformance.checks import (  # noqa: F401  (registration)
    chat,
    errors,
    honoured,
    http,
    plausible,
    resources,
    rules,
    schema,
    serving,
    stream_spec,
    streaming,
)
from kimi_conformance.checks.context import CheckContext
from kimi_conformance.checks.registry import CHECKS, Check, check, select
from kimi_conformance.checks.runner import NotApplicable, Outcome, Status, run_checks

__all__ = ["CHECKS", "Check", "CheckContext", "NotApplicable", "Outcome", "Status", "check", "run_checks", "select"]
