"""Each rule of the table is caught when a target breaks it: the mock with `rule-ignored:<rule>` serves the rule's
invalid probes (RULE001), with `rule-strict:<rule>` refuses its valid ones (RULE002). One mock serves every case;
the fault is switched between cases (the mock reads `state.config` per request)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from kimi_conformance.checks import CHECKS, CheckContext
from kimi_conformance.mock import DEFAULT_API_KEY, MockConfig, serve_in_thread
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.mock.server import MockServer
from kimi_conformance.rules import ModelInfo, Rule, load_rules
from kimi_conformance.rules.probes import Probe, probes_for_rule
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on
from kimi_conformance.scenarios import send_probe
from kimi_conformance.session import ConformanceSession
from kimi_conformance.transport import TargetClient

RULE_FAULTS = sorted(name for name, fault in FAULTS.items() if fault.rule is not None)


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with serve_in_thread(MockConfig()) as server:
        yield server


def _isolated(probe: Probe, model: ModelInfo) -> bool:
    """Whether an invalid probe breaks its own rule only (so ignoring that rule alone gets it served)."""
    view = ChatView(probe.body, model, thinking_on(probe.body, model))
    return probe.accept or [rule.id for rule, _ in broken_rules(view)] == [probe.rule]


def showcase(rule: Rule, accept: bool) -> tuple[ModelInfo, list[Probe]]:
    """The first model of the table with a probe of the wanted kind that isolates the rule, and those probes."""
    for model in load_rules().models.values():
        probes = [p for p in probes_for_rule(rule, model) if p.accept is accept and _isolated(p, model)]
        if probes:
            return model, probes
    raise AssertionError(f"rule {rule.id} has no {'valid' if accept else 'invalid'} probe on any model")


def findings_with(mock: MockServer, faults: frozenset[str], probes: list[Probe]) -> set[str]:
    state = mock.config.app.state.mock  # type: ignore[attr-defined]
    state.config = dataclasses.replace(state.config, faults=faults)
    session = ConformanceSession(CheckContext(), selected=frozenset(CHECKS), strict=True)
    try:
        with TargetClient(mock.api_base, DEFAULT_API_KEY) as client:
            return {f.code for probe in probes for f in session.check(send_probe(client, probe))}
    finally:
        state.config = dataclasses.replace(state.config, faults=frozenset())


def test_there_are_two_faults_per_rule_but_few_exceptions() -> None:
    rules = load_rules().rules
    assert len(rules) >= 40
    assert {FAULTS[name].rule for name in RULE_FAULTS if name.startswith("rule-ignored:")} == set(rules)
    without_strict = set(rules) - {FAULTS[n].rule for n in RULE_FAULTS if n.startswith("rule-strict:")}
    assert without_strict == {"content.video-url-form", "content.file-reference"}  # no valid probe can be sent


@pytest.mark.parametrize("fault", RULE_FAULTS)
def test_a_broken_rule_is_caught(mock: MockServer, fault: str) -> None:
    rule = load_rules().rule(FAULTS[fault].rule or "")
    assert rule is not None
    strict = fault.startswith("rule-strict:")
    model, probes = showcase(rule, accept=strict)
    assert findings_with(mock, frozenset(), probes) == set(), f"{model.id}: the clean mock fails {rule.id}"
    found = findings_with(mock, frozenset({fault}), probes)
    expected = "RULE002" if strict else "RULE001"
    assert expected in found and "HTTP002" not in found, f"{fault} on {model.id}: {found}"


@pytest.mark.parametrize("fault", ["sampling-clamped", "rule-errors-422"])
def test_catalogue_faults_on_rules(mock: MockServer, fault: str) -> None:
    rule = load_rules().rule("sampling.kimi-k2.temperature")
    assert rule is not None
    _, probes = showcase(rule, accept=False)
    assert set(FAULTS[fault].codes) <= findings_with(mock, frozenset({fault}), probes)
