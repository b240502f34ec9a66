"""Everything the conformance suites (`suites/`) use, in one place: they import from here and nothing else of
the package, so the package can change shape beneath them. Third-party suites written against a target may use
it too."""

from __future__ import annotations

from kimi_conformance import contract
from kimi_conformance.dialect import ChatDialect
from kimi_conformance.errors import KimiConformanceError
from kimi_conformance.exchange import Exchange
from kimi_conformance.fidelity import DECOY, Answer, ToolCase, corpus
from kimi_conformance.operations import MODEL_OPERATIONS, Surface, group_of
from kimi_conformance.profiles import FIDELITY_SCHEMAS, PROFILES, RULE_EXAMPLES
from kimi_conformance.pytest_plugin import (
    RecordFidelity,
    Verify,
    ceiling,
    run_guard,
    run_settings,
    target_model_info,
    target_models,
    uses_operations,
)
from kimi_conformance.redaction import Redactor
from kimi_conformance.rules import ModelInfo, ParamRule, Rule, load_rules
from kimi_conformance.rules.probes import Probe, ProbeBuilder, companions, probes_for_rule
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on
from kimi_conformance.runner.coverage_phase import coverage_cases
from kimi_conformance.runner.plan import (
    Ceiling,
    PlanCase,
    chat_tokens,
    contract_ceiling,
    prompt_tokens,
    sends,
    sends_if,
)
from kimi_conformance.runner.scenarios import (
    TIME_TOOL,
    WEATHER_TOOL,
    allows_several_choices,
    batch_line,
    chat,
    forced_tool_call,
    json_schema_format,
    named_tool_choice,
    no_thinking_switch,
    sampling_for_choices,
    send_probe,
    thinking_disabled,
    tool_call,
)
from kimi_conformance.runner.schemathesis_bridge import (
    attribute_failures,
    call_case,
    contract_case_ceiling,
    contract_coverage_ceiling,
    exchange_for,
    foreign_contract,
    generation_gap,
    generation_modes,
    load_schema,
    unanswered_exchange,
)
from kimi_conformance.runner.session import ConformanceSession, Judgement
from kimi_conformance.runner.target import Target
from kimi_conformance.settings import Settings
from kimi_conformance.transport import TargetClient

__all__ = [
    "DECOY",
    "FIDELITY_SCHEMAS",
    "MODEL_OPERATIONS",
    "PROFILES",
    "RULE_EXAMPLES",
    "TIME_TOOL",
    "WEATHER_TOOL",
    "Answer",
    "Ceiling",
    "ChatDialect",
    "ChatView",
    "ConformanceSession",
    "Exchange",
    "Judgement",
    "KimiConformanceError",
    "ModelInfo",
    "ParamRule",
    "PlanCase",
    "Probe",
    "ProbeBuilder",
    "RecordFidelity",
    "Redactor",
    "Rule",
    "Settings",
    "Surface",
    "Target",
    "TargetClient",
    "ToolCase",
    "Verify",
    "allows_several_choices",
    "attribute_failures",
    "batch_line",
    "broken_rules",
    "call_case",
    "ceiling",
    "chat",
    "chat_tokens",
    "companions",
    "contract",
    "contract_case_ceiling",
    "contract_ceiling",
    "contract_coverage_ceiling",
    "corpus",
    "coverage_cases",
    "exchange_for",
    "forced_tool_call",
    "foreign_contract",
    "generation_gap",
    "generation_modes",
    "group_of",
    "json_schema_format",
    "load_rules",
    "load_schema",
    "named_tool_choice",
    "no_thinking_switch",
    "probes_for_rule",
    "prompt_tokens",
    "run_guard",
    "run_settings",
    "sampling_for_choices",
    "send_probe",
    "sends",
    "sends_if",
    "target_model_info",
    "target_models",
    "thinking_disabled",
    "thinking_on",
    "tool_call",
    "unanswered_exchange",
    "uses_operations",
]
