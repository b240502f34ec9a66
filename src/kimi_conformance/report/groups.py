"""Findings grouped: by check, then by subject (operation, model, stream or not), each group with its count, one
example and the rest.

One faulty target can raise hundreds of findings that are mostly the same check failing on the same operation of
the same model: a reader wants to see each defect once, how often it was met and where, one example in full, and
the others only on demand. The grouping is data, built once here; the HTML and Markdown reports render it. The
order is what a reader needs first: new findings (with a baseline) before known ones, errors before warnings
before info, then the most frequent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kimi_conformance.findings import Finding, Severity
from kimi_conformance.report.fingerprint import model_of

_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True, order=True)
class Subject:
    """Where a check failed: the operation, the request's model (empty when it names none), streamed or not."""

    operation: str
    model: str
    stream: bool

    @classmethod
    def of(cls, finding: Finding) -> Subject:
        return cls(finding.operation, model_of(finding.request), "stream=true" in finding.request)

    def label(self) -> str:
        """`createChatCompletion · kimi-k2.6 · stream`."""
        parts = [self.operation, self.model or "no model"]
        return " · ".join(parts + (["stream"] if self.stream else []))


@dataclass(frozen=True, slots=True)
class FindingGroup:
    """The findings of one check on one subject, each with its baseline state (`new`, `known` or None)."""

    subject: Subject
    findings: tuple[Finding, ...]
    states: tuple[str | None, ...]

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def example(self) -> Finding:
        """The finding shown in full: the first new one, else the first."""
        return self.findings[self._example_index]

    @property
    def example_state(self) -> str | None:
        return self.states[self._example_index]

    @property
    def _example_index(self) -> int:
        return next((i for i, state in enumerate(self.states) if state == "new"), 0)

    @property
    def rest(self) -> list[tuple[Finding, str | None]]:
        """The other findings, for "the rest on demand"."""
        skip = self._example_index
        return [(f, s) for i, (f, s) in enumerate(zip(self.findings, self.states, strict=True)) if i != skip]

    @property
    def baseline_states(self) -> tuple[str, ...]:
        """The distinct baseline states in the group (`new`, `known`), in that order."""
        return tuple(state for state in ("new", "known") if state in self.states)


@dataclass(frozen=True, slots=True)
class CheckGroup:
    """One check's findings, by subject."""

    code: str
    title: str
    severity: Severity
    spec: str
    groups: tuple[FindingGroup, ...]

    @property
    def count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def baseline_states(self) -> tuple[str, ...]:
        found = {state for group in self.groups for state in group.baseline_states}
        return tuple(state for state in ("new", "known") if state in found)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(sorted({group.subject.model for group in self.groups}))

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(sorted({group.subject.operation for group in self.groups}))


def group_findings(findings: Sequence[Finding], states: Sequence[str | None] | None = None) -> list[CheckGroup]:
    """The findings by check, then by subject; `states` are their baseline states, in the same order (None
    without a baseline)."""
    given: Iterable[str | None] = states if states is not None else [None] * len(findings)
    by_check: dict[str, dict[Subject, list[tuple[Finding, str | None]]]] = {}
    for finding, state in zip(findings, given, strict=True):
        by_check.setdefault(finding.code, {}).setdefault(Subject.of(finding), []).append((finding, state))
    checks = []
    for subjects in by_check.values():
        groups = [
            FindingGroup(subject, tuple(f for f, _ in items), tuple(s for _, s in items))
            for subject, items in subjects.items()
        ]
        groups.sort(key=lambda g: ("new" not in g.states, -g.count, g.subject))
        first = groups[0].findings[0]
        checks.append(CheckGroup(first.code, first.title, first.severity, first.spec, tuple(groups)))
    checks.sort(key=lambda c: ("new" not in c.baseline_states, _SEVERITY_ORDER[c.severity], -c.count, c.code))
    return checks
