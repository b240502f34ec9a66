"""Findings: what a check says about a target, built once and rendered many ways.

A check raises `Violation` with a `Received: ... / Expected: ...` message; the runner turns it into a `Finding`
carrying the check's code, title, severity and spec reference plus the exchange's evidence. Findings are plain
data (JSON-serialisable through `as_json`), so xdist workers can ship them and every report renders the same data.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any

from kimi_conformance.redaction import redact


class Severity(enum.Enum):
    """How much a finding matters: errors fail a run, warnings only under --strict, info never."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def blocks(severity: Severity, strict: bool) -> bool:
    """The one blocking rule: does a finding of this severity fail its test, its check and the run? Errors always;
    warnings only under `--strict`; info never."""
    return severity is Severity.ERROR or (strict and severity is Severity.WARNING)


class Violation(AssertionError):
    """Raised by a check when the target breaks the property the check states."""

    def __init__(self, message: str, *, severity: Severity | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.severity = severity
        """Overrides the check's severity, e.g. a rule that rests on inference for this model only."""


_UNPRINTABLE = dict.fromkeys([*range(9), 11, 12, *range(14, 32), 127], "\ufffd")


def printable(text: str) -> str:
    """Text safe for every report format (XML 1.0 forbids most control characters), without the process's secrets
    in any form nor anything that looks like an API key (a target may echo a key in a body or an error)."""
    return redact(text).translate(_UNPRINTABLE)


@dataclass(frozen=True, slots=True)
class Evidence:
    """The smallest excerpt of an exchange that shows a finding."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation of one check on one exchange."""

    code: str
    name: str
    title: str
    severity: Severity
    spec: str
    operation: str
    message: str
    request: str
    evidence: Evidence
    replay: str
    test: str = ""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "severity": Severity(data["severity"]), "evidence": Evidence(**data["evidence"])})

    def render(self) -> str:
        """The plain-text form used in pytest failures and the console."""
        lines = [
            f"{self.code}  {self.title}  [{self.severity.value}]",
            f"  {self.operation} · {self.request}",
            *("  " + line for line in self.message.split("\n")),
        ]
        if self.evidence.status is not None:
            lines.append(f"  Evidence: HTTP {self.evidence.status}  {self.evidence.excerpt[:300]}")
        lines += [f"  Spec:     openapi/moonshot.openapi.yaml{self.spec}", f"  Replay:   {self.replay}"]
        return "\n".join(lines)
