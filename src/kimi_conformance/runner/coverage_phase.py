"""Schemathesis's coverage phase for the contract suite: the cases it derives from each constraint of an operation
(boundary values, a value of each wrong type, missing required properties and headers, unexpected properties,
methods the path does not document), with no randomness, chosen in turn from each kind up to the profile's number.

Schemathesis offers the phase to its engine only (`schema.iter_coverage_cases`), not as a strategy, and applies no
body hooks there: the suite's own (`filter_body`, `map_body` on the schema: target model ids, the output cap,
cross-field rules) are applied here, so a coverage case is as cheap as a generated one and sent the same way."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from schemathesis import GenerationMode
from schemathesis.hooks import HookContext

from kimi_conformance.budget import projected_tokens
from kimi_conformance.runner.plan import generated_token_ceiling
from kimi_conformance.runner.schemathesis_bridge import TRANSLATES_IDS

COVERAGE_MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
"""Both: the negative half holds the missing headers and the unsupported methods, whatever the operation takes."""


def scenario_of(case: Any) -> str:
    """The kind of a coverage case: its mode and schemathesis's scenario (`negative/unspecified_http_method`)."""
    data = case.meta.phase.data
    return f"{case.meta.generation.mode.value}/{data.scenario.value}"


def _with_body_hooks(schema: Any, operation: Any, cases: Iterable[Any]) -> Iterator[Any]:
    """The cases the schema's `filter_body` hooks keep, mapped by its `map_body` hooks, as generation does; and
    only those whose chat body stays within the generated token ceiling. A credential header the phase writes
    (empty) carries the run's, as the fuzzing phase's cases do. A case's mode follows the edits (the output cap
    may make a negative case valid), judged with the contract's model ids; renaming them to the target's is
    no edit."""
    context = HookContext(operation=operation)
    auth = dict(schema.config.headers or {})
    filters = schema.hooks.get_all_by_name("filter_body")
    maps = schema.hooks.get_all_by_name("map_body")
    ceiling = generated_token_ceiling(operation.path)
    for case in cases:
        for name in set(case.headers or {}) & set(auth):  # the phase fills a credential in as empty: `Bearer `
            case.headers[name] = auth[name]  # (a case that leaves it out keeps it out: the missing-header case)
        case._record_starting_state()  # the credential is no edit of the generated case: its meta stays as generated
        if isinstance(case.body, dict):
            if not all(keep(context, case.body) for keep in filters):
                continue
            for change in sorted(maps, key=lambda hook: getattr(hook, TRANSLATES_IDS, False)):
                translation = getattr(change, TRANSLATES_IDS, False)
                if translation:
                    _ = case.meta  # the edits so far judged against the contract's ids, before they are renamed
                changed = change(context, case.body)  # an edit in place is seen by its hash
                if changed is not case.body:  # (assigning the same body again would relabel it)
                    case.body = changed
                if translation:
                    case._record_starting_state()
            if isinstance(case.body.get("messages"), list) and projected_tokens(case.body) > ceiling:
                continue
        yield case


def round_robin(cases: Iterable[Any], limit: int) -> list[Any]:
    """At most `limit` cases, one of each kind in turn (the kinds in the order they first appear, each kind's
    cases in schemathesis's order), so a small limit still reaches every kind rather than the first one's 3,000."""
    kinds: dict[str, deque[Any]] = {}
    for case in cases:
        kinds.setdefault(scenario_of(case), deque()).append(case)
    chosen: list[Any] = []
    while len(chosen) < limit and kinds:
        for kind in list(kinds):
            chosen.append(kinds[kind].popleft())
            if not kinds[kind]:
                del kinds[kind]
            if len(chosen) == limit:
                break
    return chosen


def coverage_cases(schema: Any, operation_id: str, limit: int) -> list[Any]:
    """The coverage phase's cases for one operation of a schema `load_schema` made, at most `limit`, ready to send
    (`call_case`)."""
    operation = schema.find_operation_by_id(operation_id)
    generated = schema.iter_coverage_cases(
        operation, generation_modes=list(COVERAGE_MODES), generation_config=schema.config.generation
    )
    return round_robin(_with_body_hooks(schema, operation, generated), limit)
