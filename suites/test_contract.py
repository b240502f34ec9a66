"""Property-based, per operation and generation mode, from the contract (schemathesis strategies driven by
hypothesis): documented statuses and content types, response schemas (SSE events included), negative data
refused with 4xx, positive data accepted, never a 5xx. Then, per operation, schemathesis's coverage phase
(`...-coverage`): boundary values per constraint, missing required headers, unsupported methods, judged the same
way. Generated chat requests stay cheap."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from kimi_conformance.suite import (
    MODEL_OPERATIONS,
    PROFILES,
    ConformanceSession,
    Exchange,
    Judgement,
    KimiConformanceError,
    Redactor,
    Settings,
    Target,
    TargetClient,
    attribute_failures,
    call_case,
    ceiling,
    contract_case_ceiling,
    contract_coverage_ceiling,
    coverage_cases,
    exchange_for,
    foreign_contract,
    generation_gap,
    generation_modes,
    group_of,
    load_schema,
    run_guard,
    target_models,
    unanswered_exchange,
    uses_operations,
)


@pytest.fixture(scope="session")
def contract_schema(
    target_client: TargetClient,
    kimi_settings: Settings,
    conformance_session: ConformanceSession,
    request: pytest.FixtureRequest,
) -> Any:
    """The contract as schemathesis sees it, narrowed to the run's models (`--model`, else those the target lists,
    through `--model-family`), sent as the target names them; every case goes through the run's client (its caps,
    budget and pace)."""
    context = conformance_session.context
    models = {m: info.id for m in target_models(request.config) if (info := context.model(m)) is not None}
    return load_schema(target_client, kimi_settings.profile, models, foreign_contract(kimi_settings))


def _cases() -> list[Any]:
    """Every operation in positive mode; in negative mode those with parameters or a body to break."""
    return [
        pytest.param(
            operation_id,
            GenerationMode(mode),
            id=f"{operation_id}-{mode}",
            marks=uses_operations(operation_id) if group_of(operation_id) else (),
        )
        for operation_id, modes in generation_modes().items()
        for mode in modes
    ]


GENERATION_LIMITS = ("Unsatisfiable", "InvalidArgument", "SchemaError", "FailedHealthCheck", "UnsupportedSchema")
"""What schemathesis or hypothesis raise when they cannot generate (more) data: a limit of the tool, not a finding."""


@ceiling(lambda case: contract_case_ceiling(case.params["operation_id"], case.params["mode"].value, case.settings))
@pytest.mark.parametrize(("operation_id", "mode"), _cases())
def test_operation(
    contract_schema: Any,
    conformance_session: ConformanceSession,
    kimi_settings: Settings,
    target: Target,
    operation_id: str,
    mode: GenerationMode,
    request: pytest.FixtureRequest,
) -> None:
    if operation_id in MODEL_OPERATIONS and not target_models(request.config):
        pytest.skip(f"the run exercises no model for {operation_id} to name")
    gap = generation_gap(kimi_settings, operation_id, mode.value)  # --contract: an operation its document lacks
    if gap is not None:
        pytest.skip(gap)
    operation = contract_schema.find_operation_by_id(operation_id)
    sender = CaseSender(conformance_session, kimi_settings, target, request)
    profile = PROFILES[kimi_settings.profile].contract

    @settings(
        max_examples=profile.max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=profile.phases,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def exercise(case: Any) -> None:
        sender.send(case)

    try:
        exercise()
    except Exception as exc:  # schemathesis cannot generate for this operation and mode (e.g. nothing to negate)
        if type(exc).__name__ not in GENERATION_LIMITS:
            raise
        if sender.sent == 0 and not sender.findings:
            pytest.skip(f"no {mode.value} data can be generated for {operation_id}: {type(exc).__name__}")
        # Some draws hit a schema construct schemathesis cannot negate (UnsupportedSchema, e.g. a `not` below
        # the root): what was sent until then is judged, the rest of this operation's exploration ends here.
    sender.verdict()


@ceiling(lambda case: contract_coverage_ceiling(case.params["operation_id"], case.settings))
@pytest.mark.parametrize(
    "operation_id",
    [
        pytest.param(
            operation_id,
            id=f"{operation_id}-coverage",
            marks=uses_operations(operation_id) if group_of(operation_id) else (),
        )
        for operation_id in generation_modes()
    ],
)
def test_coverage(
    contract_schema: Any,
    conformance_session: ConformanceSession,
    kimi_settings: Settings,
    target: Target,
    operation_id: str,
    request: pytest.FixtureRequest,
) -> None:
    """Schemathesis's coverage phase for one operation: the profile's number of its cases, one of each kind in
    turn, sent through the run's client and judged like the generated ones."""
    if operation_id in MODEL_OPERATIONS and not target_models(request.config):
        pytest.skip(f"the run exercises no model for {operation_id} to name")
    gap = generation_gap(kimi_settings, operation_id, "positive")
    if gap is not None:
        pytest.skip(gap)
    cases = coverage_cases(contract_schema, operation_id, PROFILES[kimi_settings.profile].coverage)
    if not cases:
        pytest.skip(f"the coverage phase derives no case for {operation_id}")
    sender = CaseSender(conformance_session, kimi_settings, target, request)
    for case in cases:
        sender.send(case)
    sender.verdict()


class CaseSender:
    """Sends a test's generated cases with the run's client (its budget, caps, pace) and judges each answer: our
    checks and schemathesis's verdicts. A target that stops answering is one finding, then nothing more is sent."""

    def __init__(
        self, session: ConformanceSession, kimi_settings: Settings, target: Target, request: pytest.FixtureRequest
    ) -> None:
        self.session = session
        self.timeout = kimi_settings.request_timeout
        self.guard = run_guard(request.config)
        self.nodeid = request.node.nodeid
        self.redactor = Redactor(frozenset({target.api_key or ""}))
        self.findings = Judgement()
        self.unanswered: list[Exchange] = []
        self.sent = 0

    def send(self, case: Any) -> None:
        if self.unanswered:
            return  # the target stopped answering: one finding is enough, do not hammer it
        try:
            response = call_case(case, self.timeout, self.guard)
        except KimiConformanceError:
            raise  # the budget or the quota stops the run (the plugin says so)
        except Exception as error:  # connection refused, reset, timeout: a finding (HTTP001), not a crash
            self.unanswered.append(unanswered_exchange(case, error, self.redactor))
            self.findings.extend(self.session.check(self.unanswered[0], self.nodeid))
            return
        self.sent += 1
        exchange = exchange_for(case, response, self.redactor)
        attribute_failures(case, response, exchange)
        self.findings.extend(self.session.check(exchange, self.nodeid))

    def verdict(self) -> None:
        """Fail the test with its findings (at most ten distinct ones shown)."""
        if self.findings:
            pytest.fail(self.findings.distinct(10).render(), pytrace=False)
