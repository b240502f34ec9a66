"""The plan of a run (`--plan`): the ceiling of the requests and of the tokens each collected test may send, per
suite module and per model, known before anything is sent; and the hard limit the run's guard holds each test to
(`Guard.ceilings`), so a run never sends past its own plan: a test that would is a bug in the plan, and the run
stops there as incomplete, saying so.

Each suite test declares its ceiling with a mark, `@pytest.mark.ceiling(CEILING, resend=False)`: a `Ceiling`, or a
function of the test's `PlanCase` (its parameters, model and the run's settings) returning one, built with `sends`
from the bodies the test sends. `resend=True`: every request of the test may be sent again by `--attempts K`, so it
counts K times. A request's tokens are what it asks for: its prompt, counted by the package's tokenizer (what the
mock counts; a live target counts with its own), plus its output cap times `n`; `Guard` projects it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kimi_conformance import contract
from kimi_conformance.budget import projected_tokens
from kimi_conformance.errors import ConfigError
from kimi_conformance.operations import Surface
from kimi_conformance.profiles import PROFILES
from kimi_conformance.rules import ModelInfo
from kimi_conformance.rules.request_rules import max_output_tokens
from kimi_conformance.runner.discovery import probe_ceiling
from kimi_conformance.settings import Settings
from kimi_conformance.tokenizer import count_prompt

GENERATED_TOKENS = 2048
"""The tokens a generated chat or token-count request may ask for at most (its prompt plus its output cap x n, as
the guard projects them): `schemathesis_bridge.filter_generated_body` drops a larger draw, so a contract test's
ceiling holds."""
TOKEN_PATHS = frozenset({"/v1/chat/completions", "/v1/tokenizers/estimate-token-count"})


def generated_token_ceiling(path: str) -> int:
    """The tokens one generated request to `path` may ask for: GENERATED_TOKENS where bodies carry messages, 0
    elsewhere (a body of another operation that happens to hold a `messages` list is dropped)."""
    return GENERATED_TOKENS if path in TOKEN_PATHS else 0


AUTH_SCHEMES = frozenset({"http", "apiKey", "basic"})
"""Security scheme types schemathesis's `ignored_auth` check probes (no key, then a wrong one per scheme)."""


@dataclass(frozen=True, slots=True)
class Ceiling:
    """At most `requests` requests asking for at most `tokens` tokens (None: no bound can be given)."""

    requests: int = 0
    tokens: int | None = 0

    def __add__(self, other: Ceiling) -> Ceiling:
        tokens = None if self.tokens is None or other.tokens is None else self.tokens + other.tokens
        return Ceiling(self.requests + other.requests, tokens)

    def __mul__(self, times: int) -> Ceiling:
        return Ceiling(self.requests * times, None if self.tokens is None else self.tokens * times)


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """The prompt of a body with `messages` (and `tools`), as the package's tokenizer counts it."""
    return count_prompt(body["messages"], body.get("tools"))


def chat_tokens(body: Mapping[str, Any]) -> int:
    """The tokens one chat completion request asks for: its prompt plus its output cap x n. A body without a cap of
    at least 1 has no ceiling (the model would write as much as it likes): a ValueError, a bug in a suite."""
    cap = max_output_tokens(dict(body))
    if cap is None or cap < 1:
        raise ValueError(f"a chat request without an output cap has no token ceiling: {dict(body)}")
    return projected_tokens(body)


def sends(*requests: Mapping[str, Any] | int | None) -> Ceiling:
    """One request per argument: a chat completion's body (`chat_tokens`), an int (a request asking for that many
    tokens: an estimate's prompt, `prompt_tokens`), or None (a request asking for none: a GET, a file, a batch)."""
    tokens = [0 if r is None else r if isinstance(r, int) else chat_tokens(r) for r in requests]
    return Ceiling(len(requests), sum(tokens))


def sends_if(body: Mapping[str, Any] | None) -> Ceiling:
    """One chat completion request, or none when the test has no body to send there (it skips)."""
    return Ceiling() if body is None else sends(body)


def auth_probes(operation_id: str, document: dict[str, Any] | None = None) -> int:
    """Requests schemathesis's `ignored_auth` check adds to a case the target serves: one without the key, one
    with a wrong key per security scheme of the operation (it runs on every served case). `document`: the one the
    cases are generated from, in our terms (`--contract`; default: ours)."""
    document = document or contract.load_contract()
    path, method = contract.operations()[operation_id]
    requirements = document["paths"][path][method].get("security", document.get("security", []))
    schemes = document.get("components", {}).get("securitySchemes", {})
    names = {name for requirement in requirements for name in requirement}
    return 1 + len(names & {name for name, scheme in schemes.items() if scheme.get("type") in AUTH_SCHEMES})


def contract_ceiling(operation_id: str, profile: str, document: dict[str, Any] | None = None) -> Ceiling:
    """A contract test (one operation, one generation mode): the profile's examples, one more for hypothesis's
    replay of a failing one, each with its auth probes; each request asking for at most the generated ceiling.
    `document`: the one the cases are generated from, in our terms (`--contract`; default: ours)."""
    path, _ = contract.operations()[operation_id]
    requests = (PROFILES[profile].contract.max_examples + 1) * (1 + auth_probes(operation_id, document))
    return Ceiling(requests, requests * generated_token_ceiling(path))


def coverage_ceiling(operation_id: str, profile: str, document: dict[str, Any] | None = None) -> Ceiling:
    """A contract test of the coverage phase (one operation): the profile's coverage cases, each with its auth
    probes, each asking for at most the generated ceiling (no replay: the phase draws nothing at random)."""
    path, _ = contract.operations()[operation_id]
    requests = PROFILES[profile].coverage * (1 + auth_probes(operation_id, document))
    return Ceiling(requests, requests * generated_token_ceiling(path))


@dataclass(frozen=True, slots=True)
class PlanCase:
    """What a ceiling function sees of one collected test."""

    params: Mapping[str, Any]
    """The test's parameters (pytest's callspec)."""
    settings: Settings
    model_id: str | None
    """The run's model the test exercises, as the target names it (None: no model of its own)."""
    model: ModelInfo | None
    """That model in the rules table."""
    run_models: tuple[ModelInfo, ...] = ()
    """Every model of the run in the rules table (a scenario may pick one: the batches take a batchable one)."""

    @property
    def info(self) -> ModelInfo:
        """The test's model in the rules table (a ValueError if it has none: its ceiling needs one)."""
        if self.model is None:
            raise ValueError(f"the test names no model the rules table knows ({self.model_id})")
        return self.model


Declared = Ceiling | Callable[[PlanCase], Ceiling]


@dataclass(frozen=True, slots=True)
class PlannedTest:
    nodeid: str
    model_id: str | None
    ceiling: Ceiling | None
    """None: the test declares no ceiling (it is not limited)."""

    @property
    def module(self) -> str:
        return self.nodeid.split("::")[0].rsplit("/", 1)[-1]


def plan_test(nodeid: str, mark: tuple[tuple[Any, ...], dict[str, Any]] | None, case: PlanCase) -> PlannedTest:
    """One test's ceiling from its `ceiling` mark (`(args, kwargs)`; None: no mark)."""
    if mark is None:
        return PlannedTest(nodeid, case.model_id, None)
    args, kwargs = mark
    if len(args) != 1 or set(kwargs) - {"resend"} or not (isinstance(args[0], Ceiling) or callable(args[0])):
        raise ConfigError(f"{nodeid}: `ceiling` takes a Ceiling or a function of the PlanCase, and `resend=`")
    declared: Declared = args[0]
    ceiling = declared if isinstance(declared, Ceiling) else declared(case)
    if kwargs.get("resend"):
        ceiling = ceiling * case.settings.attempts
    return PlannedTest(nodeid, case.model_id, ceiling)


def model_param(params: Mapping[str, Any], models: tuple[str, ...]) -> str | None:
    """The run's model a test's parameters name: a parameter that is one, or a tuple that starts with one."""
    for value in params.values():
        first = value[0] if isinstance(value, tuple) and value else value
        if isinstance(first, str) and first in models:
            return first
    return None


@dataclass(frozen=True, slots=True)
class Plan:
    """A run's tests and their ceilings, and the target probe's request."""

    settings: Settings
    models: tuple[str, ...]
    tests: tuple[PlannedTest, ...]
    probe_sent: bool
    """Whether `--plan` sent the target probe (a URL target without --model: its models are what it lists)."""

    @property
    def probe(self) -> Ceiling:
        """The run's `GET /models` and its operations probe (`runner/discovery.py`: one request per group, none
        when `--operations` names them): a URL target only, the embedded mock's models are the table's."""
        return Ceiling(0 if self.settings.is_mock else 1, 0) + self.operations_probe

    @property
    def operations_probe(self) -> Ceiling:
        """The most the run's operations probe sends (nothing against the mock or with `--operations`)."""
        if self.settings.is_mock or Surface.declared_by(self.settings.operations).declared:
            return Ceiling()
        requests, tokens = probe_ceiling()
        return Ceiling(requests, tokens)

    def total(self) -> Ceiling:
        """The probe and every test that declares a ceiling."""
        total = self.probe
        for test in self.tests:
            total = total + (test.ceiling or Ceiling())
        return total

    def limits(self) -> dict[str, tuple[int, int | None]]:
        """The guard's hard limit per test (`Guard.ceilings`)."""
        return {t.nodeid: (t.ceiling.requests, t.ceiling.tokens) for t in self.tests if t.ceiling is not None}

    def rows(self) -> list[tuple[str, str, int, Ceiling | None]]:
        """(suite module, model or "-", tests, their ceiling: None when one of them declares none)."""
        order = {model: index for index, model in enumerate(self.models)}
        groups: dict[tuple[str, str], list[PlannedTest]] = {}
        for test in self.tests:
            groups.setdefault((test.module, test.model_id or "-"), []).append(test)
        rows = []
        for (module, model), tests in sorted(groups.items(), key=lambda g: (g[0][0], order.get(g[0][1], -1))):
            ceiling: Ceiling | None = Ceiling()
            for test in tests:
                ceiling = None if ceiling is None or test.ceiling is None else ceiling + test.ceiling
            rows.append((module, model, len(tests), ceiling))
        return rows

    def lines(self, verbose: bool = False) -> list[str]:
        """The plan as the terminal shows it: a table per suite module and model, the totals, what they mean;
        `verbose`: every test's ceiling too."""
        s = self.settings
        target = "the embedded mock" if s.is_mock else s.target
        lines = [
            f"plan of a run against {target}: profile {s.profile}, --attempts {s.attempts}",
            f"models: {', '.join(self.models) or 'none'}",
            f"{'suite':<22} {'model':<26} {'tests':>6} {'requests':>10} {'tokens':>12}",
        ]
        for module, model, count, ceiling in self.rows():
            lines.append(f"{module:<22} {model:<26} {count:>6} {_requests(ceiling):>10} {_tokens(ceiling):>12}")
        if not s.is_mock:
            lines.append(f"{'(GET /models)':<22} {'-':<26} {'':>6} {1:>10} {0:>12}")
        discovery = self.operations_probe
        if discovery.requests:
            lines.append(
                f"{'(operations probe)':<22} {'-':<26} {'':>6} {discovery.requests:>10} {_tokens(discovery):>12}"
            )
        total = self.total()
        lines.append(f"{'total':<22} {'':<26} {len(self.tests):>6} {total.requests:>10,} {_tokens(total):>12}")
        undeclared = sum(1 for t in self.tests if t.ceiling is None)
        if undeclared:
            lines.append(f"{undeclared} test(s) declare no ceiling (`ceiling` mark): not counted, not limited")
        if verbose:
            lines += [f"{_requests(t.ceiling):>10} {_tokens(t.ceiling):>12}  {t.nodeid}" for t in self.tests]
        probes = "GET /models and operations probe are" if discovery.requests else "GET /models is"
        if s.is_mock:
            sent = "nothing (the embedded mock was not even started)"
        elif self.probe_sent:
            sent = f"GET /models only, to learn the target's models (the run's {probes} counted above)"
        else:
            sent = f"nothing (--model names the models; the run's {probes} counted above)"
        return [
            *lines,
            f"sent: {sent}",
            "tokens: asked for, prompt (this package's tokenizer, as the mock counts; a live target counts with its",
            "  own) + output cap x n; a target that keeps to its caps spends no more",
            f"not counted: resends of a request answered 429, up to --max-retries {s.max_retries} each (a 429 spends "
            f"no tokens;",
            f"  {total.requests * (1 + s.max_retries):,} requests at most), and the clean-up (deleting the run's "
            "files, cancelling its batches)",
            "the run stops as incomplete before a test passes its ceiling (that would be a bug in the plan)",
        ]


def _requests(ceiling: Ceiling | None) -> str:
    return "?" if ceiling is None else f"{ceiling.requests:,}"


def _tokens(ceiling: Ceiling | None) -> str:
    return "?" if ceiling is None else "unbounded" if ceiling.tokens is None else f"{ceiling.tokens:,}"
