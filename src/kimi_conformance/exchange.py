"""One request to a target and what came back, with secrets redacted before anything is kept."""

from __future__ import annotations

import json
import shlex
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from kimi_conformance import strict_json
from kimi_conformance.chunks import StreamView, read_stream
from kimi_conformance.findings import Severity

EXCERPT_CHARS = 600


class External(NamedTuple):
    """A failure another engine (schemathesis) found on an exchange, attributed to one of our check codes."""

    code: str
    message: str
    severity: Severity | None = None
    """Overrides the check's severity (e.g. WARNING for a negated constraint the contract marks `x-inferred`);
    None: the check's own."""


@dataclass(slots=True)
class Exchange:
    """A request, its response (or the transport error instead), ready for checks and reports."""

    operation: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_json: Any = None
    request_text: str = ""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0
    transport_error: str | None = None
    stream_error: str | None = None
    """Why reading the body stopped early after a response began (idle or total stream timeout, reset)."""
    intent: str = "valid"
    """What the request was meant to be: `valid`, `invalid` (refused with 4xx), `unauthenticated` (401) or
    `missing` (names a resource that does not exist: 404) or `stateful` (the answer depends on server state)."""
    rule: tuple[str, str] | None = None
    """For a model-rule probe: (rule id, what the probe sends, e.g. `temperature=1.01`); `intent` says whether the
    request keeps the rule (`valid`) or breaks it (`invalid`)."""
    sent_authorization: str | None = None
    """For `unauthenticated` probes: the (deliberately wrong, not secret) Authorization value sent, if any."""
    external: list[External | tuple[str, str]] = field(default_factory=list)
    """Failures found by another engine (schemathesis), attributed to our check codes: `External(code, message,
    severity)`, or a plain `(code, message)` judged at the check's own severity."""
    related: dict[str, Exchange] = field(default_factory=dict)
    """Other exchanges a check compares with (e.g. the estimate for the same messages)."""
    sent: bool = True
    """False for a request the run did not send (a stream failed fast, `Guard.failing_fast`): `stream_error` says
    why, and it faces HTTP005 alone."""
    recorded_at: int | None = None
    """Its line in the session's cassette, when recorded as it was sent (judging it then fills that line in)."""
    received_at: float = field(default_factory=time.time)
    """When it was made (Unix seconds): the "now" of checks that compare a served time with the clock, so that a
    recorded exchange judged again later (`kimi-conformance recheck`) is judged as it was then."""
    _parsed: Any = None
    _parse_error: str | None = None
    _parsed_done: bool = False
    _stream: StreamView | None = None

    @property
    def content_type(self) -> str:
        return self.response_headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The response body as JSON; raises ValueError with the reason when it is not JSON."""
        if not self._parsed_done:
            self._parsed_done = True
            try:
                self._parsed = strict_json.loads(self.body)
            except ValueError as exc:
                self._parse_error = str(exc)
        if self._parse_error is not None:
            raise ValueError(self._parse_error)
        return self._parsed

    def stream(self) -> StreamView:
        """The body read as a chat completion stream: events, chunks, per-choice traces, the folded completion
        (decoded once, then cached)."""
        if self._stream is None:
            self._stream = read_stream(self.body)
        return self._stream

    def forget_stream(self) -> None:
        """Drop the decoded stream (its events and chunks can take a hundred times the body's memory; the checks
        are done with it). `stream()` decodes it again if anything asks."""
        self._stream = None

    @property
    def streamed_completion(self) -> bool:
        """A chat completion requested as a stream: what `folded()` applies to (whatever came back)."""
        request = self.request_json
        return self.operation == "createChatCompletion" and isinstance(request, dict) and request.get("stream") is True

    def folded(self) -> Exchange | None:
        """This streamed exchange as the JSON answer it amounts to, for the non-streaming checks (same request
        without `stream`); None when it is no streamed completion or carried no chunk."""
        if not self.streamed_completion or self.transport_error is not None:
            return None
        completion = self.stream().completion
        if completion is None:
            return None
        request = dict(self.request_json)
        request.pop("stream", None)
        request.pop("stream_options", None)
        return Exchange(
            operation=self.operation,
            method=self.method,
            url=self.url,
            request_headers=self.request_headers,
            request_json=request,
            request_text=self.request_text,
            status=self.status,
            response_headers={"content-type": "application/json"},
            body=json.dumps(completion).encode(),
            related=self.related,
            received_at=self.received_at,
            _parsed=completion,  # the body's parse, known already
            _parsed_done=True,
        )

    def summary(self) -> str:
        """`POST /v1/chat/completions model=kimi-k2.6 stream=true` style."""
        path = self.url.split("://", 1)[-1].split("/", 1)[-1]
        parts = [f"{self.method} /{path}"]
        if isinstance(self.request_json, dict):
            for key in ("model", "stream", "n"):
                if key in self.request_json:
                    parts.append(f"{key}={json.dumps(self.request_json[key])}")
        return " ".join(parts)

    def excerpt(self, limit: int = EXCERPT_CHARS) -> str:
        text = self.body.decode("utf-8", errors="replace")
        return text if len(text) <= limit else text[:limit] + f"... ({len(self.body)} bytes)"

    def curl(self) -> str:
        """A curl line that replays the request; a real key comes from the environment, never the report."""
        parts = ["curl", "-sS", "-N", "-X", self.method, shlex.quote(self.url)]
        for name, value in self.request_headers.items():
            if name.lower() == "authorization":
                if self.intent == "unauthenticated" and self.sent_authorization is not None:
                    parts += ["-H", shlex.quote(f"Authorization: {self.sent_authorization}")]
                elif self.intent != "unauthenticated":
                    parts += ["-H", '"Authorization: Bearer $MOONSHOT_API_KEY"']
            elif name.lower() in ("content-type", "accept"):
                parts += ["-H", shlex.quote(f"{name}: {value}")]
        if self.request_text.startswith("<") and self.request_text.endswith(" bytes>"):
            parts.append(f"# body not replayable here: {self.request_text}")
        elif self.request_text:
            parts += ["-d", shlex.quote(self.request_text)]
        return " ".join(parts)
