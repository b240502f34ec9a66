"""Schemathesis as a generator for the suite: the contract loaded with run settings, generation kept cheap and
within the rules JSON Schema cannot state, and schemathesis's own verdicts attributed to our check codes."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

import schemathesis
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation

from kimi_conformance import contract
from kimi_conformance.budget import Guard, projected_tokens
from kimi_conformance.contract import contract_path, load_contract
from kimi_conformance.exchange import Exchange, External
from kimi_conformance.findings import Severity
from kimi_conformance.profiles import PROFILES
from kimi_conformance.redaction import Redactor
from kimi_conformance.rules import load_rules
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on
from kimi_conformance.runner.case_transport import attach, session_of
from kimi_conformance.runner.foreign_contract import ForeignContract, breakable_modes, load_foreign_contract, narrowed
from kimi_conformance.runner.foreign_verdicts import reconsidered
from kimi_conformance.runner.plan import Ceiling, contract_ceiling, coverage_ceiling, generated_token_ceiling
from kimi_conformance.runner.scenarios import SMALL_MAX_TOKENS
from kimi_conformance.settings import Settings
from kimi_conformance.transport import TargetClient

FAILURE_CODES = {
    "ServerError": "HTTP002",
    "UndefinedStatusCode": "HTTP003",
    "UndefinedContentType": "HTTP004",
    "MissingContentType": "HTTP004",
    "JsonSchemaError": "SCHM001",
    "MalformedJson": "SCHM004",
    "AcceptedNegativeData": "SCHM002",
    "RejectedPositiveData": "SCHM003",
    "IgnoredAuth": "AUTH001",
    "MissingHeaderNotRejected": "AUTH001",
}
"""Schemathesis failure classes -> our codes; any other failure is SCHM005."""
WARNING_FAILURES = frozenset({"UnsupportedMethodResponse", "AllowHeaderMismatch"})
"""Failures that are warnings: what a method the contract does not document gets back is known only from an
observation and an inference (facts §1 [O][I]: the gateway's envelope, 404 or 405), not from a firm fact; and the
`Allow` of that answer may name methods the contract does not document (a gateway or a framework serving more than
Moonshot documents breaks no client)."""
UNDOCUMENTED_METHOD = "unknownRoute"
"""The operation of an exchange whose method the path does not document (the coverage phase's unsupported-method
cases), as the proxy names a route the contract does not know: our per-operation checks do not apply to it."""
EXTERNAL_CODES = frozenset({"AUTH001", "SCHM001", "SCHM002", "SCHM003", "SCHM005"})
"""Codes taken from schemathesis's verdict; the rest our own checks judge on the same exchange."""
TRANSLATES_IDS = "_kimi_translates_ids"
"""Marks the map_body hook that renames contract model ids to the target's: a translation, not an edit of what a
case means (the coverage phase keeps a case's verdict as generated across it: `coverage_phase`)."""
FOREIGN_ATTRIBUTE = "_kimi_foreign_contract"
"""Where `load_schema` keeps the ForeignContract a schema was generated from (`--contract`), on the schema."""


def load_schema(
    client: TargetClient, profile: str, models: dict[str, str] | None = None, foreign: ForeignContract | None = None
) -> Any:
    """The contract as a schemathesis schema aimed at the client's target, whose every case `client` sends
    (`case_transport`). `models`: target model id -> contract model id of the run (None: every model the
    contract knows). `foreign`: generate from that document instead (`--contract`), matched to ours; the target
    is still judged against ours (`attribute_failures`)."""
    config = SchemathesisConfig.from_dict(
        {
            "max-stream-events": 100000,
            "operations": [
                {
                    # Cancelling a finished batch is a documented 400 that depends on state, not on the request.
                    "include-operation-id": "cancelBatch",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429", "5xx"]
                        }
                    },
                }
            ],
        }
    )
    if foreign is not None:
        document = narrowed(foreign.document, set(models.values())) if models else foreign.document
        schema = schemathesis.openapi.from_dict(document, config=config)
    elif models:
        schema = schemathesis.openapi.from_dict(_narrowed_contract(set(models.values())), config=config)
    else:
        schema = schemathesis.openapi.from_path(contract_path(), config=config)
    setattr(schema, FOREIGN_ATTRIBUTE, foreign)
    root = client.base_url.rstrip("/").removesuffix("/v1")
    schema.config.update(base_url=root, headers=client.auth_headers(), request_timeout=client.timeout)
    attach(schema, client)
    schema.config.generation.update(
        max_examples=PROFILES[profile].contract.max_examples, modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    )
    if models and any(target != contract for target, contract in models.items()):
        schema.hook("map_body")(_to_target_ids(models))
    schema.hook("filter_body")(filter_generated_body)
    schema.hook("map_body")(cap_generated_tokens)
    return schema


def foreign_contract(settings: Settings) -> ForeignContract | None:
    """The document `--contract` names, matched to ours and rewritten in our terms (read once per process), or
    None when the run generates from ours."""
    return load_foreign_contract(settings.contract) if settings.contract is not None else None


def generation_gap(settings: Settings, operation_id: str, mode: str) -> str | None:
    """Why the contract suite generates nothing for one of our operations in `mode` (`--contract` names a document
    without it, or with nothing to break in it), or None."""
    foreign = foreign_contract(settings)
    return foreign.gap(operation_id, mode) if foreign is not None else None


def contract_case_ceiling(operation_id: str, mode: str, settings: Settings) -> Ceiling:
    """The ceiling of one contract test (`plan.contract_ceiling`), from the document its cases are generated from;
    nothing for one `generation_gap` skips."""
    foreign = foreign_contract(settings)
    if foreign is None:
        return contract_ceiling(operation_id, settings.profile)
    if foreign.gap(operation_id, mode) is not None:
        return Ceiling()
    return contract_ceiling(operation_id, settings.profile, foreign.document)


def contract_coverage_ceiling(operation_id: str, settings: Settings) -> Ceiling:
    """The ceiling of one coverage-phase test (`plan.coverage_ceiling`), from the document its cases come from;
    nothing for an operation `--contract`'s document lacks."""
    foreign = foreign_contract(settings)
    if foreign is None:
        return coverage_ceiling(operation_id, settings.profile)
    if foreign.gap(operation_id, "positive") is not None:
        return Ceiling()
    return coverage_ceiling(operation_id, settings.profile, foreign.document)


def generation_modes() -> dict[str, tuple[str, ...]]:
    """operationId -> the generation modes the contract suite runs it in: positive always; negative where there
    is something to break, a request body or a query parameter (parameters given as `$ref`s resolved)."""
    return breakable_modes(contract.load_contract())


def _operation_path(ctx: Any) -> str:
    return str(getattr(getattr(ctx, "operation", None), "path", ""))


def _is_empty_file(value: Any) -> bool:
    data = getattr(value, "data", value)  # schemathesis wraps generated bytes in `Binary`
    return isinstance(data, bytes | str) and len(data) == 0


def filter_generated_body(ctx: Any, body: Any) -> bool:
    """Drop generated chat bodies that break a cross-field rule (valid-looking yet rightly refused), and those
    that would ask for more tokens than GENERATED_TOKENS, or for an unbounded output (both caps broken)."""
    path = _operation_path(ctx)
    if path == "/v1/files" and isinstance(body, dict) and _is_empty_file(body.get("file")):
        return False
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        capped = cap_generated_tokens(ctx, dict(body))
        if path == "/v1/chat/completions" and not any(_usable(capped.get(key)) for key in CAPS):
            return False  # both caps broken: nothing bounds what a target that served it would write
        if projected_tokens(capped) > generated_token_ceiling(path):
            return False
    if path != "/v1/chat/completions" or not isinstance(body, dict):
        return True
    model = load_rules().model(str(body.get("model")))
    if model is None:
        return True
    if "ms://" in str(body.get("messages")):
        return False  # names an upload that does not exist in this run
    try:
        return not broken_rules(ChatView(body, model, thinking_on(body, model)))
    except (AttributeError, KeyError, TypeError):
        return True


CAPS = ("max_completion_tokens", "max_tokens")


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _usable(cap: Any) -> bool:
    """Whether an output cap bounds the answer: a number of at least 1."""
    return _number(cap) and cap >= 1


def cap_generated_tokens(ctx: Any, body: Any) -> Any:
    """Keep generated chat requests cheap: at most SMALL_MAX_TOKENS of output, asked for where the body asks for no
    usable cap (`max_completion_tokens`, or `max_tokens` when the other is the field a negative case breaks)."""
    if _operation_path(ctx) == "/v1/chat/completions" and isinstance(body, dict):
        for key in CAPS:
            value = body.get(key)  # 3138.0 is an integer to JSON Schema, and to the API
            if _number(value) and value > SMALL_MAX_TOKENS:
                body[key] = SMALL_MAX_TOKENS
        free = [key for key in CAPS if key not in body]
        if free and not any(_usable(body.get(key)) for key in CAPS):
            body[free[0]] = SMALL_MAX_TOKENS
    return body


def _narrowed_contract(contract_models: set[str]) -> dict[str, Any]:
    """The contract with every `model` enum cut down to the run's models, and the chat request's `oneOf` to
    their families, so generation never sends a request to a model the run was not asked to use."""
    document = copy.deepcopy(load_contract())
    request = document["components"]["schemas"]["ChatCompletionRequest"]
    mapping = {model: ref for model, ref in request["discriminator"]["mapping"].items() if model in contract_models}
    request["discriminator"]["mapping"] = mapping
    request["oneOf"] = [branch for branch in request["oneOf"] if branch.get("$ref") in set(mapping.values())]
    known = set(load_rules().models)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            model = node.get("properties", {}).get("model") if isinstance(node.get("properties"), dict) else None
            if isinstance(model, dict) and isinstance(model.get("enum"), list) and set(model["enum"]) <= known:
                kept = [m for m in model["enum"] if m in contract_models]
                model["enum"] = kept or model["enum"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return document


def _to_target_ids(aliases: dict[str, str]) -> Any:
    """A map_body hook: generated bodies name contract model ids; send the target's id for them."""
    by_contract = {contract_id: target_id for target_id, contract_id in aliases.items()}

    def rename(ctx: Any, body: Any) -> Any:
        model = body.get("model") if isinstance(body, dict) else None
        if isinstance(model, str) and model in by_contract:  # a negative case's model may be a list or an object
            body["model"] = by_contract[model]
        return body

    setattr(rename, TRANSLATES_IDS, True)
    return rename


def call_case(case: Any, timeout: float, guard: Guard | None) -> Any:
    """`case.call()` through the schema's client: within its caps, budget and pace, retrying a 429 as its guard
    says (it may raise BudgetReached or QuotaExceeded; a request that got no answer raises the `requests` error
    schemathesis expects, and `unanswered_exchange` finds what the client recorded). `guard` is the run's: the
    client must hold the same one."""
    session = session_of(case.operation.schema)
    if guard is not session.adapter.client.guard:
        raise RuntimeError("call_case was given a guard other than the one of the schema's client")
    return case.call(timeout=timeout)  # the schema's ClientTransport sends it through `session`


def exchange_for(case: Any, response: Any, redactor: Redactor) -> Exchange:
    """What the client recorded for a case and the response it got (body within the caps, `stream_error` set
    when a cap cut it)."""
    exchange = session_of(case.operation.schema).adapter.exchange_of(response.request)
    if exchange is None:
        raise RuntimeError("exchange_for was given a response the schema's client did not read")
    return _generated(case, exchange, redactor)


def _generated(case: Any, exchange: Exchange, redactor: Redactor) -> Exchange:
    # Acceptance of generated data is judged by schemathesis (which knows what each case negates) and
    # attributed to SCHM002/SCHM003 in `attribute_failures`, so the exchange carries no intent of its own.
    exchange.operation = case.operation.definition.raw.get("operationId", case.operation.label)
    if str(case.method).upper() != str(case.operation.method).upper():
        exchange.operation = UNDOCUMENTED_METHOD
    exchange.request_json = case.body if isinstance(case.body, dict | list) else None
    exchange.url = redactor.text(exchange.url)
    exchange.intent = "generated"
    return exchange


def _unobservable_negation(case: Any, failure: Any) -> bool:
    """A multipart `file` part "of the wrong type" is still just bytes on the wire: no server can tell, so
    schemathesis's negative verdict on it says nothing about the target."""
    return (
        type(failure).__name__ == "AcceptedNegativeData"
        and case.operation.path == "/v1/files"
        and "/properties/file" in str(getattr(failure, "message", ""))
    )


def attribute_failures(case: Any, response: Any, exchange: Exchange) -> None:
    """Run schemathesis's checks on the response; record each failure under our code in `exchange.external`. An
    accepted negative case that breaks only constraints the contract marks `x-inferred` is a warning (SCHM002
    at WARNING, saying which constraints and citing their x-sources); one that breaks any other stays an error."""
    from schemathesis.core.failures import FailureGroup

    foreign: ForeignContract | None = getattr(case.operation.schema, FOREIGN_ATTRIBUTE, None)
    try:  # the auth probes schemathesis sends while validating go through the same client (`ClientTransport`)
        case.validate_response(response)
    except FailureGroup as group:
        for failure in group.exceptions:
            if _unobservable_negation(case, failure):
                continue
            code = FAILURE_CODES.get(type(failure).__name__, "SCHM005")
            if code not in EXTERNAL_CODES:
                continue  # the other codes have checks of our own that judge the same exchange
            message = f"{failure.title}: {str(failure.message)[:500]}"
            if foreign is not None:  # its verdict is the other document's: decided again against ours
                verdict = reconsidered(case, code, message, foreign.source)
                exchange.external += [verdict] if verdict is not None else []
                continue
            inferred = inferred_negation(case) if code == "SCHM002" else ()
            if inferred:
                notes = "\n".join(constraint.note() for constraint in inferred)
                message += (
                    f"\nA warning: what the request breaks the contract marks x-inferred (inference only):\n{notes}"
                )
            warning = bool(inferred) or type(failure).__name__ in WARNING_FAILURES
            exchange.external.append(External(code, message, Severity.WARNING if warning else None))


@dataclass(frozen=True, slots=True)
class InferredConstraint:
    """A negated constraint that sits in or under a schema object carrying `x-inferred: true`."""

    keywords: tuple[str, ...]
    """The JSON Schema keywords the case negated there (`maximum`, `enum`, `required`...)."""
    where: str
    """The x-inferred schema object: a contract pointer (`#/components/schemas/...`), or the parameter it is."""
    sources: tuple[str, ...]
    """Its `x-sources` (empty when it has none)."""

    def note(self) -> str:
        keywords = ", ".join(f"`{keyword}`" for keyword in self.keywords) or "the schema"
        cited = f" (x-sources: {'; '.join(self.sources)})" if self.sources else ""
        return f"  {keywords} at {self.where}{cited}"


_BRANCHES = ("oneOf", "anyOf", "allOf")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _dereference(root: Mapping[str, Any], node: Mapping[str, Any], names: Mapping[str, str]) -> tuple[Any, str] | None:
    """The target of a node's local `$ref` and its address: the contract pointer schemathesis bundled it from
    (`names`: bundled name -> original URI) or the reference itself; None for no or an unresolvable reference."""
    reference = node.get("$ref")
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return None
    target: Any = root
    for token in reference[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(target, Mapping) and token in target:
            target = target[token]
        elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
            target = target[int(token)]
        else:
            return None
    origin = names.get(reference.rsplit("/", 1)[-1], "")
    return target, ("#" + origin.partition("#")[2] if "#" in origin else reference)


def schema_trail(
    root: Mapping[str, Any], pointer: str, names: Mapping[str, str] | None = None, base: str = ""
) -> list[tuple[Mapping[str, Any], str]] | None:
    """Every schema object a schemathesis mutation pointer passes through from `root`, with its address (`base`
    for the root; a contract pointer below each `$ref`). Schemathesis leaves out the `$ref` hops of a walk
    (value-channel pointers keep them as `/$ref/<bundled name>`): a reference is followed wherever the next
    keyword is not beside it. None when the pointer cannot be followed in `root`."""
    names = names or {}
    node: Any = root
    address = base
    trail: list[tuple[Mapping[str, Any], str]] = [(root, base)]
    tokens = pointer.split("/")[1:] if pointer else []
    index = 0
    while index < len(tokens):
        keyword = tokens[index]
        while keyword != "$ref" and keyword not in node and "$ref" in node:
            step = _dereference(root, node, names)
            if step is None or not isinstance(step[0], Mapping):
                return None
            node, address = step
            trail.append((node, address))
        child = node.get(keyword)
        if keyword == "$ref":  # `/$ref/<name>`: the reference beside, to the object bundled as <name>
            step = _dereference(root, node, names)
            named = tokens[index + 1] if index + 1 < len(tokens) else None
            if step is None or str(child).rsplit("/", 1)[-1] != named:
                return None
            child, address = step
            index += 2
        elif keyword in ("properties", "patternProperties") and isinstance(child, Mapping):
            for end in range(index + 2, len(tokens) + 1):  # names are not escaped in the pointer: try "a", "a/b"...
                name = "/".join(tokens[index + 1 : end])
                if name in child:
                    break
            else:
                return None
            child, address, index = child[name], f"{address}/{keyword}/{_escape(name)}", end
        elif isinstance(child, list) and (keyword in _BRANCHES or keyword == "items"):
            selector = tokens[index + 1] if index + 1 < len(tokens) else ""
            if not selector.isdigit() or int(selector) >= len(child):
                return None
            child, address, index = child[int(selector)], f"{address}/{keyword}/{selector}", index + 2
        elif keyword in ("items", "additionalProperties"):
            address, index = f"{address}/{keyword}", index + 1
        else:
            return None
        if not isinstance(child, Mapping):
            return None
        node = child
        trail.append((node, address))
    return trail


def inferred_node(
    root: Mapping[str, Any],
    pointer: str,
    keywords: tuple[str, ...],
    names: Mapping[str, str] | None = None,
    base: str = "",
) -> InferredConstraint | None:
    """The x-inferred schema object the negated `keywords` at `pointer` sit in or under (the deepest one), or None
    when they sit under none or the pointer cannot be followed. At the pointer's end a `$ref` is followed until an
    object holds the keywords, so a wrapper's own siblings stay the wrapper's."""
    trail = schema_trail(root, pointer, names, base)
    if trail is None:
        return None
    node, address = trail[-1]
    wanted = [keyword.partition(":")[0] for keyword in keywords]  # `format:uuid` (value channel) is `format`
    while wanted and not all(keyword in node for keyword in wanted) and "$ref" in node:
        step = _dereference(root, node, names or {})
        if step is None or not isinstance(step[0], Mapping):
            break
        node, address = step
        trail.append((node, address))
    for node, address in reversed(trail):
        if node.get("x-inferred") is True:
            sources = node.get("x-sources")
            cited = tuple(str(source) for source in sources) if isinstance(sources, list) else ()
            return InferredConstraint(tuple(keywords), address, cited)
    return None


def _negated_location(case: Any, location: ParameterLocation) -> tuple[Any, dict[str, str], str]:
    """The schema schemathesis negated for `location` (the body's as it resolved and bundled it, or the object of
    the location's parameters), the bundled names' origins, and the address of its root."""
    operation = case.operation
    if location is not ParameterLocation.BODY:
        return getattr(getattr(operation, location.container_name, None), "schema", None), {}, ""
    body = operation.get_body_for_media_type(case.media_type)
    if body is None:
        return None, {}, ""
    path = f"#/paths/{_escape(operation.path)}/{operation.method.lower()}"
    return (
        body.optimized_schema,
        dict(body.name_to_uri),
        f"{path}/requestBody/content/{_escape(body.media_type)}/schema",
    )


def _inferred_mutation(case: Any, mutation: Any) -> InferredConstraint | None:
    if mutation.operator is OperatorKind.SYNTAX_FUZZING:
        return None  # bytes that are not JSON break no schema keyword, documented or not
    location = mutation.parameter_location
    root, names, base = _negated_location(case, location)
    if not isinstance(root, Mapping):
        return None
    pointer = mutation.schema_pointer
    removed = f"/properties/{mutation.parameter}"
    if mutation.operator is OperatorKind.REMOVE_REQUIRED_PROPERTY and pointer.endswith(removed):
        pointer = pointer.removesuffix(removed)  # `required` sits in the object, not in the removed property
    keywords = tuple(keyword for keyword in mutation.keywords if not keyword.startswith("x-"))
    found = inferred_node(root, pointer, keywords, names, base)
    if found is None or location is ParameterLocation.BODY or not found.where.startswith("/properties/"):
        return found
    # A parameter: named as one, citing the x-sources of its definition (beside its schema) when the schema has none.
    name, _, rest = found.where.removeprefix("/properties/").partition("/")
    definition = getattr(getattr(case.operation, location.container_name).get(name), "definition", None)
    declared = definition.get("x-sources") if isinstance(definition, Mapping) else None
    sources = found.sources or (tuple(str(source) for source in declared) if isinstance(declared, list) else ())
    where = f"{location.value} parameter `{name}`" + (f" at /{rest}" if rest else "")
    return InferredConstraint(found.keywords, where, sources)


def inferred_negation(case: Any) -> tuple[InferredConstraint, ...]:
    """The x-inferred constraints a negative case breaks, when it breaks nothing else: empty when any of its
    mutations negates a documented constraint or one that cannot be placed in the schema (that stays an error),
    or when it is no negative case with recorded mutations."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return ()
    mutations = tuple(getattr(meta.phase.data, "mutations", ()))
    negative = {location for location, component in meta.components.items() if component.mode.is_negative}
    if not mutations or not negative <= {mutation.parameter_location for mutation in mutations}:
        return ()  # e.g. a dictionary draw: negative without a mutation to place
    found = []
    for mutation in mutations:
        constraint = _inferred_mutation(case, mutation)
        if constraint is None:
            return ()
        found.append(constraint)
    return tuple(found)


def unanswered_exchange(case: Any, error: Exception, redactor: Redactor) -> Exchange:
    """Our record of a generated request that got no response (refused, reset, timed out): what the client
    recorded, or, when the request never reached it, the error."""
    sent = session_of(case.operation.schema).adapter.exchange_of(getattr(error, "request", None))
    if sent is not None:
        return _generated(case, sent, redactor)
    return Exchange(
        operation=case.operation.definition.raw.get("operationId", case.operation.label),
        method=case.method.upper(),
        url=redactor.text(case.formatted_path),
        request_headers={},
        request_json=case.body if isinstance(case.body, dict | list) else None,
        transport_error=f"{type(error).__name__}: {redactor.text(str(error))[:300]}",
        intent="generated",
    )
