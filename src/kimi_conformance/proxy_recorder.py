"""The validating proxy's judge: it checks and records each exchange the proxy relayed, on a worker thread of its
own fed by a bounded queue, so judging never holds up traffic (a slow check delays only the recording).

When the queue is full, the proxy still relays the exchange but does not judge it: the exchange is counted as
dropped. Drops and the other counts go into the recording's `proxy.json`, and into one warning line when the
proxy stops.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import queue
import re
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kimi_conformance import contract
from kimi_conformance.checks import CHECKS, CheckContext
from kimi_conformance.exchange import Exchange
from kimi_conformance.redaction import Redactor, redact, register_secret
from kimi_conformance.rules import load_rules
from kimi_conformance.rules.request_rules import ChatView, broken_rules, thinking_on
from kimi_conformance.runner.session import ConformanceSession

QUEUE_SIZE = 64
"""The most relayed exchanges that wait to be judged at once (each one holds its whole response body)."""
DRAIN_SECONDS = 5.0
"""How long a stopping proxy waits for the exchanges still queued to be judged."""
POLL_SECONDS = 0.1
"""How often an idle worker looks for the signal to stop."""
log = logging.getLogger("kimi_conformance.proxy")
_LINE = json.JSONEncoder()
"""`json.dumps` with its defaults, built once: an exchange writes some sixty outcome lines, in one write."""
_CASSETTE_LINE = json.JSONEncoder(ensure_ascii=False)


def _templates() -> list[tuple[re.Pattern[str], str, str]]:
    """(path pattern, METHOD, operationId) of every operation of the contract."""
    found = []
    for operation, (path, method) in contract.operations().items():
        parts = re.split(r"(\{[^/}]+\})", path)
        pattern = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        found.append((re.compile(f"^{pattern}$"), method.upper(), operation))
    return found


@dataclass(slots=True)
class JudgingCounts:
    """What happened to the exchanges the proxy relayed, as far as judging goes."""

    judged: int = 0
    """Checked and recorded."""
    dropped: int = 0
    """Relayed but never judged, because the queue was full or the worker had stopped."""
    failed: int = 0
    """Judging raised outside the check boundary (a crashed check is an outcome, not this): logged, not recorded."""
    unjudged_at_shutdown: int = 0
    """Still queued or being judged when the drain time ran out at shutdown."""

    def warning(self) -> str | None:
        """One line about the relayed exchanges that went unrecorded, or None when every one was recorded."""
        if not (self.dropped or self.failed or self.unjudged_at_shutdown):
            return None
        return (
            f"the proxy relayed exchanges it did not record: {self.dropped} dropped (judging queue full), "
            f"{self.failed} whose judging failed, {self.unjudged_at_shutdown} still unjudged at shutdown; "
            f"{self.judged} judged"
        )


class Recorder:
    """Runs the checks on each relayed exchange and appends outcomes and cassette lines to the proxy's folder;
    `proxy.json` there holds when the proxy started and, once it stops, the judging counts."""

    def __init__(self, folder: Path, secrets: frozenset[str] = frozenset()) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.session = ConformanceSession(CheckContext(), selected=frozenset(CHECKS))
        self.redactor = Redactor(secrets)
        self.templates = _templates()
        self.lock = threading.Lock()
        self._learnt: set[str] = set()
        """Credentials already registered as secrets (registering one again is the same, and costs 15 µs)."""
        self.started_at = time.time()
        (folder / "proxy.json").write_text(json.dumps({"started_at": self.started_at}), "utf-8")

    def learn_secrets(self, headers: Mapping[str, str]) -> None:
        """The client's key (whatever its shape) becomes a secret of this process before anything is kept."""
        for name in ("authorization", "proxy-authorization", "x-api-key", "api-key"):
            value = headers.get(name)
            if value and value not in self._learnt:
                self._learnt.add(value)
                register_secret(value)
                scheme, _, credential = value.partition(" ")
                if credential and scheme.lower() in ("bearer", "basic", "token"):
                    register_secret(credential.strip())

    def operation(self, method: str, path: str) -> str:
        for pattern, verb, operation in self.templates:
            if verb == method and pattern.match(path):
                return operation
        return "unknownRoute"

    def record(self, exchange: Exchange) -> None:
        """Check one exchange and append its outcomes and its cassette line; what this raises is the caller's to
        handle (the JudgingWorker counts it and logs one line)."""
        with self.lock:
            before = len(self.session.outcomes)
            self.session.check(exchange, "proxy")
            outcomes = self.session.outcomes[before:]
            with (self.folder / "outcomes.jsonl").open("a", encoding="utf-8") as out:
                out.write("".join([_LINE.encode(o.as_json()) + "\n" for o in outcomes]))
            with (self.folder / "cassette.jsonl").open("a", encoding="utf-8") as out:
                out.write(_CASSETTE_LINE.encode(self.session.cassette[-1]) + "\n")
            self.session.outcomes.clear()
            self.session.cassette.clear()

    def write_summary(self, counts: JudgingCounts) -> None:
        """Write `proxy.json` again: when the proxy started and stopped, and what happened to judging."""
        summary = {"started_at": self.started_at, "finished_at": time.time(), "judging": dataclasses.asdict(counts)}
        (self.folder / "proxy.json").write_text(json.dumps(summary), "utf-8")


def _mark_broken_rule(exchange: Exchange) -> None:
    """A chat request that breaks a model rule of the table is judged like a rule probe (RULE001, RULE003)."""
    body = exchange.request_json
    if exchange.operation != "createChatCompletion" or not isinstance(body, dict):
        return
    model = load_rules().model(str(body.get("model")))
    if model is None:
        return
    try:
        broken = broken_rules(ChatView(body, model, thinking_on(body, model)), after_schema=False)
    except Exception:  # a malformed body: the contract checks judge the answer
        return
    if broken:
        exchange.intent = "invalid"
        exchange.rule = (broken[0][0].id, "a request observed by the proxy")


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body as the checks need it (gzip or deflate undone); the client gets the raw bytes."""
    try:
        if encoding == "gzip":
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            return zlib.decompress(body)
    except zlib.error:
        return body
    return body


@dataclass(slots=True)
class Relayed:
    """An exchange the proxy relayed in full, as the event loop hands it over: the request body as the client sent
    it and the response body as it arrived (in pieces, still content-encoded). The worker does the rest."""

    exchange: Exchange
    request_body: bytes = b""
    response_pieces: list[bytes] = field(default_factory=list)

    def completed(self) -> Exchange:
        """The exchange with its request parsed, a broken model rule marked, and its response body decoded."""
        exchange = self.exchange
        try:
            exchange.request_json = json.loads(self.request_body) if self.request_body else None
        except ValueError:
            exchange.request_json = None
        _mark_broken_rule(exchange)
        encoding = exchange.response_headers.get("content-encoding", "")
        exchange.body = _decoded(b"".join(self.response_pieces), encoding)
        return exchange


class JudgingWorker:
    """A single thread that judges relayed exchanges in the order they were relayed. It reads from a bounded queue
    that `submit` fills without ever waiting, and it keeps going whatever judging one exchange raises."""

    def __init__(self, recorder: Recorder, queue_size: int = QUEUE_SIZE, drain_seconds: float = DRAIN_SECONDS) -> None:
        if queue_size < 1:
            raise ValueError(f"the judging queue must hold at least one exchange, not {queue_size}")
        self.recorder = recorder
        self.queue_size = queue_size
        self.drain_seconds = drain_seconds
        self.counts = JudgingCounts()
        self._waiting: queue.Queue[Relayed] = queue.Queue(maxsize=queue_size)
        self._pending = 0
        """Exchanges accepted by `submit` that the worker has not finished with yet."""
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kimi-proxy-judge", daemon=True)
        self._thread.start()

    def submit(self, relayed: Relayed) -> bool:
        """Queue a relayed exchange for judging without waiting, and say whether it was queued. When the queue is
        full or the worker has stopped, its judging is dropped and counted, with a warning on the first drop."""
        with self._lock:
            if self._thread.is_alive() and self._queued(relayed):
                self._pending += 1
                return True
            self.counts.dropped += 1
            first_drop = self.counts.dropped == 1
        if first_drop:
            log.warning(
                "the judging queue is full (%d exchanges): exchanges are relayed but not judged until it has room; "
                "they are counted and reported when the proxy stops",
                self.queue_size,
            )
        return False

    def _queued(self, relayed: Relayed) -> bool:
        try:
            self._waiting.put_nowait(relayed)
        except queue.Full:
            return False
        return True

    def close(self) -> JudgingCounts:
        """Stop when the queue is empty, after judging what is in it and what still arrives, for up to
        `drain_seconds`. Exchanges still waiting after that are abandoned and counted. The counts go into
        `proxy.json`, and they are logged as a warning when any relayed exchange went unrecorded."""
        self._closing.set()
        self._thread.join(self.drain_seconds)
        if self._thread.is_alive():
            self._abandoned.set()
        with self._lock:
            self.counts.unjudged_at_shutdown = self._pending
            counts = dataclasses.replace(self.counts)
        self.recorder.write_summary(counts)
        warning = counts.warning()
        if warning:
            log.warning("%s", warning)
        return counts

    def _run(self) -> None:
        """Judge queued exchanges until closing with an empty queue; once abandoned, take them off unjudged."""
        try:
            while not (self._closing.is_set() and self._waiting.empty()):
                try:
                    relayed = self._waiting.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if not self._abandoned.is_set():
                    self._judge(relayed)
                with self._lock:
                    self._pending -= 1
        finally:
            if not self._closing.is_set():
                log.error("the judging worker stopped: exchanges relayed from now on are dropped and counted")

    def _judge(self, relayed: Relayed) -> None:
        """Judge and record one exchange. Anything that raises is counted and logged in one line (redacted), and
        the worker goes on."""
        exchange = relayed.exchange
        try:
            self.recorder.record(relayed.completed())
        except Exception as exc:  # the proxy must never lose its judge over one exchange
            with self._lock:
                self.counts.failed += 1
            log.error(
                "judging %s %s failed (%s); the exchange was relayed unchanged and is not recorded",
                exchange.method,
                redact(exchange.url),
                redact(f"{type(exc).__name__}: {exc}"),
            )
            return
        with self._lock:
            self.counts.judged += 1
