"""The live progress of a run: one line per process that sends (each xdist worker, or the only one), saying the
tests done of the total, the requests and tokens spent against the budget, the estimated cost and the 429 retries.

A live run is slow and costs money, so whoever started it sees what it has spent while it goes. On a terminal the
lines are redrawn in place, at most a few times a second; anywhere else (CI logs) each worker's line is written
plainly, at most every PLAIN_INTERVAL seconds and once at the end, so a log gets a trace without a flood.

xdist workers cannot write to the controller's terminal: each attaches its counters to its test reports
(`snapshot_properties` into `report.user_properties`, which xdist carries), and the controller draws every
worker's line from the last report it received of it. The lines hold numbers only: never a key, a URL or a body.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TextIO

from kimi_conformance.budget import Guard

PROPERTY = "kimi_progress"
"""The `user_properties` entry a worker's report carries its counters in."""
TERMINAL_INTERVAL = 0.25
"""Seconds between two redraws on a terminal."""
PLAIN_INTERVAL = 15.0
"""Seconds between two plain lines of one worker (not a terminal)."""
CLEAR_LINE = "\r\x1b[2K"
"""Back to the start of the line and erase it (ANSI: every terminal pytest colours)."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one process has spent so far, and its share of the budget (None: no limit)."""

    requests: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0
    max_requests: int | None = None
    max_tokens: int | None = None

    @classmethod
    def of(cls, guard: Guard) -> Snapshot:
        spent = guard.spent
        return cls(spent.requests, spent.tokens, spent.cost_usd, spent.retries, guard.max_requests, guard.max_tokens)

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "tokens": self.tokens,
            "cost_usd": self.cost_usd,
            "retries": self.retries,
            "max_requests": self.max_requests,
            "max_tokens": self.max_tokens,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            int(data.get("requests", 0)),
            int(data.get("tokens", 0)),
            float(data.get("cost_usd", 0.0)),
            int(data.get("retries", 0)),
            data.get("max_requests"),
            data.get("max_tokens"),
        )


def snapshot_properties(guard: Guard) -> tuple[str, dict[str, Any]]:
    """The `user_properties` entry carrying this process's counters to the controller."""
    return PROPERTY, Snapshot.of(guard).as_json()


def snapshot_in(properties: Iterable[tuple[str, object]]) -> Snapshot | None:
    """The counters a report carries (`snapshot_properties`), or None."""
    for name, value in properties:
        if name == PROPERTY and isinstance(value, dict):
            return Snapshot.from_json(value)
    return None


def render(worker: str, done: int, total: int, spent: Snapshot) -> str:
    """`worker gw0: 120/540 tests · 310/2,000 requests · 41,200 tokens (budget 100,000) · $0.012 · 2 retries after
    429` (no budget: `310 requests · 41,200 tokens`)."""
    requests = f"{spent.requests:,}" + (f"/{spent.max_requests:,}" if spent.max_requests is not None else "")
    tokens = f"{spent.tokens:,} tokens" + (f" (budget {spent.max_tokens:,})" if spent.max_tokens is not None else "")
    retries = f"{spent.retries} {'retry' if spent.retries == 1 else 'retries'} after 429"
    return f"worker {worker}: {done}/{total} tests · {requests} requests · {tokens} · ${spent.cost_usd:.3f} · {retries}"


@dataclass(slots=True)
class _Worker:
    done: int = 0
    spent: Snapshot = Snapshot()
    written: float = float("-inf")
    """When its plain line was last written (not a terminal)."""
    changed: bool = False


class ProgressBoard:
    """The progress lines of a run's workers, written to `stream`: redrawn in place when it is a terminal, plain
    lines otherwise. `clock` is monotonic seconds."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.terminal = _is_terminal(stream)
        self.clock = clock
        self.total = 0
        self.workers: dict[str, _Worker] = {}
        self._drawn = 0
        self._last_draw = float("-inf")

    def update(self, worker: str, *, finished_test: bool, spent: Snapshot) -> None:
        """A report from `worker`: one more test done (`finished_test`), and what it has spent by then."""
        state = self.workers.setdefault(worker, _Worker())
        state.done += int(finished_test)
        state.spent = spent
        state.changed = True
        now = self.clock()
        if self.terminal:
            if now - self._last_draw >= TERMINAL_INTERVAL:
                self._draw(now)
        elif now - state.written >= PLAIN_INTERVAL:
            self._plain(worker, state, now)

    def finish(self) -> None:
        """The last state: on a terminal the lines drawn once more and left standing; otherwise each worker's line
        written when it changed since its last one."""
        if self.terminal:
            if self.workers:
                self._draw(self.clock())
                self.stream.write("\n")  # the lines stay; pytest's summary starts below them
                self.stream.flush()
            return
        for worker, state in sorted(self.workers.items()):
            if state.changed:
                self._plain(worker, state, self.clock())

    def _line(self, worker: str, state: _Worker) -> str:
        return render(worker, state.done, self.total, state.spent)

    def _plain(self, worker: str, state: _Worker, now: float) -> None:
        self.stream.write(self._line(worker, state) + "\n")
        self.stream.flush()
        state.written, state.changed = now, False

    def _draw(self, now: float) -> None:
        """Every worker's line in place: up to the first line drawn last time, then each erased and rewritten (the
        cursor stays at the end of the last one, so a redraw of a single line is `\\r`, erase, the line)."""
        up = f"\x1b[{self._drawn - 1}A" if self._drawn > 1 else ""
        lines = [CLEAR_LINE + self._line(worker, state) for worker, state in sorted(self.workers.items())]
        self.stream.write(up + "\n".join(lines))
        self.stream.flush()
        self._drawn, self._last_draw = len(lines), now


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or file-less stream
        return False
