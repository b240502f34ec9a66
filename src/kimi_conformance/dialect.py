"""The target's dialect of a chat request: how it switches thinking, and the fields it wants in every request.

The suites write requests in the contract's words. Open-source stacks serving Kimi-K2 (vLLM, SGLang) switch
thinking with the chat template's `chat_template_kwargs: {"thinking": true|false}` instead of the contract's
`thinking: {"type": "enabled"|"disabled"}`, and vendors may need fields of their own. `ChatDialect.wire` turns a
chat request as the contract asks it into the request the target is sent; the transport applies it where every
chat request leaves (`TargetClient.send`), so an exchange keeps both: `request_json` is what was asked (what the
checks judge the answer by), `request_text` what went on the wire (what the cassette, the finding and its
replay show).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance import strict_json
from kimi_conformance.errors import ConfigError

THINKING_STYLES = ("kimi", "chat-template-kwargs")
"""`kimi`: the contract's `thinking` object, sent as is; `chat-template-kwargs`: `chat_template_kwargs.thinking`."""
SWITCHES = {"enabled": True, "disabled": False}
"""The contract's thinking switch (`thinking.type`) as the chat template's boolean."""


def parse_extra_body(text: str | None) -> dict[str, Any]:
    """`--extra-body` as the JSON object it must be ({} when not given), or a one-line ConfigError."""
    if text is None:
        return {}
    try:
        value = strict_json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"--extra-body is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--extra-body must be a JSON object, not {type(value).__name__}: {text[:80]}")
    return value


def merged(own: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra`'s fields added to `own` where `own` has none; where both hold an object, the two objects merged the
    same way. The request's own fields win: what a test sends is what it judges (a negative case stays negative,
    the output cap keeps the run within its plan)."""
    result = dict(own)
    for key, value in extra.items():
        if key not in result:
            result[key] = value
        elif isinstance(result[key], Mapping) and isinstance(value, Mapping):
            result[key] = merged(result[key], value)
    return result


@dataclass(frozen=True, slots=True)
class ChatDialect:
    """How the target reads a chat request: its thinking switch (`--thinking-style`) and the fields merged into
    every chat request (`--extra-body`)."""

    thinking_style: str = "kimi"
    extra_body: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.thinking_style not in THINKING_STYLES:
            raise ConfigError(
                f"thinking-style must be one of {', '.join(THINKING_STYLES)}, not {self.thinking_style!r}"
            )

    @property
    def plain(self) -> bool:
        """Sends every request as the contract writes it."""
        return self.thinking_style == "kimi" and not self.extra_body

    def translates(self, body: Any) -> bool:
        """Whether the target can be asked what `body` asks: always in the contract's own dialect; with the chat
        template's switch, unless `body` carries a thinking object other than a plain switch (the contract's own
        rules about that object, its other fields and values, mean nothing to such a target)."""
        if self.thinking_style == "kimi" or not isinstance(body, dict) or "thinking" not in body:
            return True
        return _switch(body["thinking"]) is not None

    def wire(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat request the target is sent for `body` (the contract's): thinking switched its way, the extra
        fields merged in. A thinking object that is no plain switch is left as it is."""
        sent = dict(body)
        switch = _switch(sent.get("thinking")) if self.thinking_style == "chat-template-kwargs" else None
        if switch is not None:
            del sent["thinking"]
            kwargs = sent.get("chat_template_kwargs")
            sent["chat_template_kwargs"] = {**(kwargs if isinstance(kwargs, dict) else {}), "thinking": switch}
        return merged(sent, self.extra_body) if self.extra_body else sent


def _switch(thinking: Any) -> bool | None:
    """`{"type": "enabled"}` -> True, `{"type": "disabled"}` -> False, anything else None."""
    if isinstance(thinking, dict) and set(thinking) == {"type"} and isinstance(thinking["type"], str):
        return SWITCHES.get(thinking["type"])
    return None
