"""The operations probe: which operation groups a URL target offers, asked once per run (beside its `GET /models`,
within its budget, handed by the xdist controller to its workers with the rest of the target probe).

One cheap request per group the run may exercise: a list (files, batches), the balance, a token count of one word,
and a chat completion with no messages (refused with 400 by a target that serves chat; no tokens spent). An answer
404 or 405 means the target does not offer the group: its tests are skipped with that answer as the reason, and the
reports say so once. Any other answer, an error included, means it does: the suites judge it. A probe that gets no
answer at all stops the probing (the target is judged by the reachability checks, and the run finds out soon
enough); the groups not probed are taken as offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kimi_conformance.budget import projected_tokens
from kimi_conformance.exchange import Exchange
from kimi_conformance.operations import Surface
from kimi_conformance.transport import TargetClient

NOT_OFFERED = frozenset({404, 405})
"""Statuses that say a route is not there (unknown path, or a known path without that method)."""


@dataclass(frozen=True, slots=True)
class OperationProbe:
    """The one request that shows whether a target offers a group."""

    group: str
    operation: str
    method: str
    path: str
    needs_model: bool = False
    """Its body names a model: probed only when the run has one."""

    def body(self, model: str) -> dict[str, Any] | None:
        if self.group == "chat":
            return {"model": model, "messages": [], "max_completion_tokens": 1}
        if self.group == "estimate":
            return {"model": model, "messages": [{"role": "user", "content": "hi"}]}
        return None

    @property
    def params(self) -> dict[str, Any] | None:
        return {"limit": 1} if self.group == "batches" else None


PROBES = (
    OperationProbe("balance", "getBalance", "GET", "/users/me/balance"),
    OperationProbe("files", "listFiles", "GET", "/files"),
    OperationProbe("batches", "listBatches", "GET", "/batches"),
    OperationProbe("estimate", "estimateTokenCount", "POST", "/tokenizers/estimate-token-count", needs_model=True),
    OperationProbe("chat", "createChatCompletion", "POST", "/chat/completions", needs_model=True),
)
"""The groups discovered by a request of their own (`models` is the run's `GET /models`), cheapest first."""


@dataclass(frozen=True, slots=True)
class Discovery:
    """What the probes found: the groups not offered (group -> the answer that says so), and the probe that got no
    answer, if one did (for the reachability checks)."""

    not_offered: dict[str, str]
    unanswered: Exchange | None = None

    def applied_to(self, surface: Surface) -> Surface:
        return surface.without(self.not_offered)


def probes_for(surface: Surface, models: tuple[str, ...]) -> tuple[OperationProbe, ...]:
    """The probes a run sends: none when `--operations` names the groups; else one per group it may exercise
    (those naming a model only when it has one)."""
    if surface.declared:
        return ()
    return tuple(p for p in PROBES if surface.serves(p.group) and (models or not p.needs_model))


def probe_ceiling() -> tuple[int, int]:
    """The most the operations probe sends: its requests, and the tokens they ask for (as the guard projects them;
    a model's id changes no count)."""
    return len(PROBES), sum(projected_tokens(probe.body("model")) for probe in PROBES)


def discover(client: TargetClient, surface: Surface, models: tuple[str, ...]) -> Discovery:
    """Send the operations probes (`probes_for`) with `client` (the run's budget and pace; it may raise
    BudgetReached or QuotaExceeded) and read what each answer says."""
    not_offered: dict[str, str] = {}
    for probe in probes_for(surface, models):
        exchange = client.request(
            probe.operation,
            probe.method,
            probe.path,
            json_body=probe.body(models[0]) if models else None,
            params=probe.params,
        )
        if exchange.status is None or exchange.stream_error is not None:
            return Discovery(not_offered, exchange)
        if exchange.status in NOT_OFFERED:
            not_offered[probe.group] = answer_of(probe.method, probe.path, exchange.status)
    return Discovery(not_offered)


def answer_of(method: str, path: str, status: int) -> str:
    """Why a group is not offered, in the words the reports use: `GET /files answered 404`."""
    return f"{method} {path} answered {status}"
