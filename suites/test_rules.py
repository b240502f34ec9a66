"""Model rules, probed at their edges (facts §3): for every model of the target and every rule of the table that
applies to it, the valid edge is served and the first invalid value on each side is refused with 400
`invalid_request_error`; fixed parameters accept their value and omission only. Hypothesis then explores each
sampling parameter inside and outside its range. `kimi-conformance rules --model X` says what a run costs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kimi_conformance.suite import (
    RULE_EXAMPLES,
    Ceiling,
    ChatView,
    ConformanceSession,
    Judgement,
    ModelInfo,
    ParamRule,
    PlanCase,
    Probe,
    ProbeBuilder,
    Rule,
    Settings,
    TargetClient,
    broken_rules,
    ceiling,
    companions,
    load_rules,
    probes_for_rule,
    send_probe,
    sends,
    target_model_info,
    target_models,
    thinking_on,
    uses_operations,
)

pytestmark = uses_operations("chat")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per (model of the target, rule that applies to it); sampling exploration per (model, parameter)."""
    for name, sampling in (("model_rule", False), ("model_param", True)):
        if name not in metafunc.fixturenames:
            continue
        cases = []
        for target_id in target_models(metafunc.config):
            model = target_model_info(metafunc.config, target_id)
            for rule in load_rules().rules_for(model) if model is not None else []:
                if not sampling or rule.param is not None:
                    cases.append(pytest.param((target_id, rule.id), id=f"{target_id}-{rule.id}"))
        metafunc.parametrize(name, cases or [pytest.param(None, marks=pytest.mark.skip(reason="no model"))])


def _send_all(client: TargetClient, session: ConformanceSession, probes: list[Probe], test: str) -> Judgement:
    judgement = Judgement()
    for probe in probes:
        judgement.extend(session.check(send_probe(client, probe), test))
    return judgement


def _case(request: pytest.FixtureRequest, pair: tuple[str, str]) -> tuple[str, ModelInfo, Rule]:
    """(target model id, its model in the table, the rule) of a parametrized case."""
    target_id, rule_id = pair
    model = target_model_info(request.config, target_id)
    rule = load_rules().rule(rule_id)
    assert model is not None and rule is not None
    return target_id, model, rule


def _fail_on(judgement: Judgement) -> None:
    if judgement:
        pytest.fail(judgement.render(), pytrace=False)


def _edges_ceiling(case: PlanCase) -> Ceiling:
    """The rule's boundary probes for the model: one request each."""
    target_id, rule_id = case.params["model_rule"]
    rule = load_rules().rule(rule_id)
    assert rule is not None
    return sends(*[probe.body for probe in probes_for_rule(rule, case.info, target_id)])


@ceiling(_edges_ceiling)
def test_rule_edges(
    model_rule: tuple[str, str],
    target_client: TargetClient,
    conformance_session: ConformanceSession,
    request: pytest.FixtureRequest,
) -> None:
    target_id, model, rule = _case(request, model_rule)
    probes = probes_for_rule(rule, model, target_id)
    if not probes:
        pytest.skip(f"{rule.id} has no probe for {target_id}")
    probes = [probe for probe in probes if target_client.dialect.translates(probe.body)]
    if not probes:  # the thinking object's own fields and values: the target has no such object
        pytest.skip(f"{rule.id} is about the thinking object, which --thinking-style chat-template-kwargs replaces")
    _fail_on(_send_all(target_client, conformance_session, probes, request.node.nodeid))


def _bounds(param: ParamRule, thinking: bool) -> tuple[float, float]:
    """The parameter's range, or its fixed value at both ends."""
    fixed = param.fixed_value(thinking)
    low = fixed if fixed is not None else param.minimum
    high = fixed if fixed is not None else param.maximum
    assert low is not None and high is not None
    return low, high


def _widest(param: ParamRule, thinking: bool) -> tuple[float, float]:
    """The widest values the exploration draws: the bounds widened on each side."""
    low, high = _bounds(param, thinking)
    return (int(low) - 3, int(high) + 3) if param.integer else (low - 2, high + 2)


def _values(param: ParamRule, thinking: bool) -> st.SearchStrategy[float]:
    """Values inside and outside the parameter's range (or around its fixed value)."""
    (low, high), (lowest, highest) = _bounds(param, thinking), _widest(param, thinking)
    if param.integer:
        return st.integers(int(lowest), int(highest)).map(float)
    inside = st.floats(low, high, allow_nan=False).map(lambda v: round(v, 3))
    around = st.floats(lowest, highest, allow_nan=False).map(lambda v: round(v, 3))
    return st.one_of(inside, around, st.sampled_from([low, high]))


def _sampling_ceiling(case: PlanCase) -> Ceiling:
    """What `kimi-conformance rules` counts (the examples per thinking mode), each request asking for at most what
    the body with the widest value asks for (`n` multiplies the output cap)."""
    target_id, rule_id = case.params["model_param"]
    rule, model = load_rules().rule(rule_id), case.info
    assert rule is not None and rule.param is not None
    param, build = rule.param, ProbeBuilder(model, target_id)
    widest = []
    for off in build.modes():
        top = _widest(param, not off and model.supports_reasoning)[1]
        body = build.body(off, **{param.name: int(top) if param.integer else top}, **companions(param, model))
        widest.append(sends(body))
    most = max(widest, key=lambda ceiling: ceiling.tokens or 0)
    return most * (len(widest) * RULE_EXAMPLES[case.settings.profile])


@ceiling(_sampling_ceiling)
def test_sampling_explored(
    model_param: tuple[str, str],
    target_client: TargetClient,
    conformance_session: ConformanceSession,
    kimi_settings: Settings,
    request: pytest.FixtureRequest,
) -> None:
    target_id, model, rule = _case(request, model_param)
    param = rule.param
    assert param is not None
    build = ProbeBuilder(model, target_id)
    findings = Judgement()

    @settings(
        max_examples=RULE_EXAMPLES[kimi_settings.profile],
        phases=[Phase.generate],
        database=None,
        deadline=None,
        derandomize=True,  # the same values every run: a baseline's findings, and a CI verdict, do not flake
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def explore(data: Any) -> None:
        off = data.draw(st.sampled_from(build.modes()), label="thinking off")
        thinking = not off and model.supports_reasoning
        value = data.draw(_values(param, thinking), label=param.name)
        body = build.body(off, **{param.name: int(value) if param.integer else value}, **companions(param, model))
        broken = broken_rules(ChatView(body, model, thinking_on(body, model)))
        probe = Probe(rule.id, f"{param.name}={value:g}{' (thinking off)' if off else ''}", body, not broken)
        findings.extend(_send_all(target_client, conformance_session, [probe], request.node.nodeid))

    explore()
    _fail_on(findings)
