"""Named deviations the mock can be switched into (`kimi-conformance mock --fault NAME`).

The conformant mock has none on. Each fault makes one realistic defect; code paths ask
`config.has_fault(name)` at the one place the behaviour lives. The self-test (a later issue) asserts that each
fault is caught by the checks it lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from kimi_conformance.rules import load_rules
from kimi_conformance.rules.probes import probes_for_rule


@dataclass(frozen=True, slots=True)
class Fault:
    """A named deviation, what it breaks, and the check codes that must catch it."""

    name: str
    description: str
    codes: tuple[str, ...] = ()
    benign: bool = False
    """A variation a conformant client must accept: the suite must report nothing for it."""
    suites: tuple[str, ...] = ()
    """Suite modules that exercise it, when the check codes' own suites do not (see `selftest.py`)."""
    rule: str | None = None
    """For the per-rule faults (`rule-ignored:<rule>`, `rule-strict:<rule>`), the rule of the table they break."""


_CATALOGUE = (
    Fault("stream-omit-done", "streams end without the final `data: [DONE]` event", ("SSE003",)),
    Fault(
        "stream-usage-top-level-only",
        "usage only in an OpenAI-style `choices: []` chunk, not in the final choice",
        ("CHNK007",),
    ),
    Fault("error-envelope-flat", 'error bodies are `{"message": ...}` instead of `{"error": {...}}`', ("ERR001",)),
    Fault("server-error-for-client-errors", "invalid requests are answered 500 instead of 400", ("HTTP002",)),
    Fault("auth-ignored", "requests without a valid key are served anyway", ("AUTH001",)),
    Fault(
        "sampling-clamped",
        "out-of-range or non-fixed sampling values are silently clamped instead of rejected",
        ("RULE001",),
    ),
    Fault(
        "client-errors-422",
        "invalid requests are answered 422 (a web framework's default) instead of 400",
        ("HTTP003", "RULE003"),
    ),
    Fault("error-type-generic", "400 errors carry type `bad_request_error`, not `invalid_request_error`", ("ERR002",)),
    Fault("errors-as-text-plain", "error envelopes are served as text/plain", ("ERR003", "HTTP004")),
    Fault(
        "hang-on-several-choices",
        "requests with n > 1 are never answered",
        ("HTTP001",),
        suites=("test_chat.py",),
    ),
    Fault(
        "stream-cut-mid-body",
        "the connection drops after two stream events (an upstream timeout)",
        ("HTTP005",),
        suites=("test_streaming.py",),
    ),
    Fault(
        "stream-stalls",
        "every stream goes silent after three events, the connection left open (an overloaded upstream)",
        ("HTTP005",),
        suites=("test_streaming.py",),
    ),
    Fault(
        "content-type-malformed",
        "the balance is served with `Content-Type: json`",
        ("SCHM005", "HTTP004"),
        suites=("test_contract.py",),
    ),
    Fault("finish-reason-stop-on-tool-calls", "tool calls end with finish_reason `stop`", ("CHAT003",)),
    Fault("estimate-accepts-empty", "estimate-token-count serves `messages: []` (0 tokens)", ("SCHM002",)),
    Fault("estimate-undercounts", "estimate-token-count answers 5 tokens fewer than the prompt uses", ("CHAT011",)),
    Fault(
        "partial-mode-rejected",
        "partial mode (a trailing partial assistant message) is refused",
        ("SCHM003",),
        suites=("test_chat.py",),
    ),
    Fault("models-duplicated", "the models list names a model twice", ("MODL001",)),
    Fault("models-unknown-id", "the models list has an id the contract does not know", ("MODL002",)),
    Fault(
        "models-context-length-string",
        "a model's context_length is a string",
        ("SCHM001", "MODL001"),
        suites=("test_models.py",),
    ),
    Fault(
        "models-nan-context",
        "a model's context_length is `NaN` (not JSON)",
        ("SCHM004",),
        suites=("test_models.py",),
    ),
    Fault("file-list-lags", "the newest upload is missing from the file list", ("FILE001",)),
    Fault("file-content-empty", "file content is an extraction document with empty content", ("FILE003",)),
    Fault("batch-window-rewritten", "a batch echoes completion_window in seconds (`86400`), not as sent", ("BTCH001",)),
    Fault("batch-list-ignores-limit", "the batch list ignores `limit`", ("BTCH002",)),
    Fault("batch-output-drops-last-line", "the batch output file misses its last line", ("BTCH004",)),
    Fault("unknown-model-400", "an unknown model is answered 400 instead of 404", ("ERR004",)),
    Fault("model-not-echoed", "responses name the model family, not the requested model id", ("CHAT001", "CHNK001")),
    Fault("n-ignored", "`n` is ignored: always one choice", ("CHAT002",)),
    Fault("usage-total-wrong", "total_tokens is prompt + completion + 1", ("CHAT004",)),
    Fault("max-tokens-ignored", "max_tokens / max_completion_tokens are not enforced", ("CHAT005", "CHNK010")),
    Fault("stop-ignored", "stop sequences are not applied", ("CHAT006",)),
    Fault("tool-choice-none-ignored", "`tool_choice: none` still calls tools", ("CHAT007",)),
    Fault("json-mode-ignored", "response_format json_object / json_schema produce prose", ("CHAT008",)),
    Fault("tool-args-invalid", "tool-call arguments do not match the tool's schema", ("CHAT009",)),
    Fault(
        "tool-args-missing-required",
        "tool-call arguments leave out the first required property of the tool's parameters (the rest is right)",
        ("CHAT009",),
    ),
    Fault(
        "tool-call-markup-unparsed",
        "a tool call comes back as raw `<|tool_call_begin|>` markup in content, no tool_calls, yet finish_reason "
        "tool_calls (a tool-call parser that did not run: K2VV counts it invalid)",
        ("CHAT003",),
    ),
    Fault(
        "stream-tool-args-fragment-lost",
        "a streamed tool call loses its last arguments fragment: the joined arguments are no JSON",
        ("CHAT009",),
        suites=("test_streaming.py",),
    ),
    Fault("reasoning-always", "reasoning_content even when thinking is off", ("CHAT010",)),
    Fault("tool-choice-required-ignored", "`tool_choice: required` is answered in words, without a call", ("CHAT017",)),
    Fault(
        "named-tool-choice-ignored",
        "a named tool_choice is ignored: the tools the question names are called instead",
        ("CHAT017",),
    ),
    Fault(
        "forced-call-cut-as-stop",
        "a forced tool call cut by the output cap ends as a text answer with `stop`, not `length`",
        ("CHAT017",),
    ),
    Fault("undeclared-tool-called", "the first tool call names a function the request did not declare", ("CHAT009",)),
    Fault("cache-never-hits", "a repeated prompt prefix never reports cached tokens (cached_tokens 0)", ("CHAT018",)),
    Fault(
        "prompt-tokens-exclude-cached",
        "prompt_tokens counts only the uncached part of the prompt, so cached_tokens exceed it",
        ("CHAT004",),
    ),
    Fault("deleted-file-still-served", "a deleted file is still listed and served", ("FILE002",)),
    Fault("batch-cancel-anytime", "a completed batch can still be cancelled (200)", ("BTCH003",)),
    Fault("stream-wrong-content-type", "streams are served as application/json", ("SSE001",)),
    Fault("stream-invalid-utf8", "a stream carries bytes that are not UTF-8", ("SSE002",)),
    Fault("stream-non-json-event", "a `data: keep-alive` event that is not JSON", ("SSE004",)),
    Fault("stream-role-repeated", "`role` in every delta, not only the first", ("CHNK002",)),
    Fault("stream-content-before-reasoning", "content deltas come before reasoning_content", ("CHNK003",)),
    Fault("stream-tool-fragments-repeat-name", "later tool-call fragments repeat function.name", ("CHNK004",)),
    Fault("stream-finish-reason-early", "a finish_reason mid-stream, before more deltas", ("CHNK005",)),
    Fault("stream-usage-missing", "no usage anywhere in the stream", ("CHNK006",)),
    Fault("stream-usage-chunk-unasked", "a `choices: []` usage chunk without include_usage", ("CHNK008",)),
    # KVV's stream-spec (verifiers §5; mock/stream_spec.py)
    Fault("stream-usage-details-missing", "stream usage without prompt/completion token details", ("CHNK015",)),
    Fault(
        "stream-tool-fragments-null-keys",
        'later tool-call fragments carry `"id": null, "type": null` and `function.name: null`',
        ("CHNK016",),
    ),
    Fault("stream-error-frame", 'an error-only `{"error": ...}` frame mid-stream instead of the rest', ("CHNK017",)),
    Fault("stream-first-delta-without-content", 'the first delta is `{"role": "assistant"}`, no content', ("CHNK018",)),
    Fault("stream-end-delta-content", 'the finishing chunk\'s delta is `{"content": ""}`, not `{}`', ("CHNK019",)),
    Fault("stream-created-per-chunk", "every chunk carries its own `created` (one second apart)", ("CHNK020",)),
    Fault(
        "usage-headers-off",
        "X-Msh-Usage-Prompt-Tokens leaves out the reply primer (3 fewer than usage.prompt_tokens)",
        ("CHNK021",),
    ),
    Fault("stream-tool-index-from-one", "streamed tool-call indexes count from 1", ("CHNK022",)),
    Fault("stream-usage-mid-chunk", "each choice's usage comes in the chunk before its finishing one", ("CHNK023",)),
    Fault("stream-utf8-replacement", "a content piece ends in U+FFFD (a character split across frames)", ("CHNK024",)),
    Fault(
        "stream-finish-reason-differs",
        "streams end with `length` where the same request without stream stops",
        ("CHNK009",),
    ),
    Fault("partial-prefix-repeated", "partial mode repeats the assistant prefix in the answer", ("CHAT012",)),
    Fault(
        "tool-call-markup-in-content",
        "tool calls answered as raw `<|tool_calls_section_begin|>` markup in content, finish_reason stop",
        ("CHAT013",),
    ),
    Fault(
        "think-tags-in-content",
        "the reasoning printed in content inside `<think>` tags, no reasoning_content",
        ("CHAT013", "CHAT014"),
    ),
    Fault(
        "reasoning-dropped",
        "a thinking model's reasoning is lost: no reasoning_content, `reasoning_content: null` on every frame",
        ("CHAT014",),
        suites=("test_chat.py", "test_streaming.py"),
    ),
    Fault("created-in-milliseconds", "`created` is the Unix time in milliseconds", ("CHAT015",)),
    Fault("usage-all-zero", "every usage count is 0", ("CHAT016", "CHNK010")),
    Fault("benign-crlf", "SSE lines end with CRLF", benign=True),
    Fault("benign-comments", "SSE comment lines (`: ping`) inside events", benign=True),
    Fault("benign-no-space", "`data:` fields without the space after the colon", benign=True),
    Fault("benign-tiny-writes", "the stream is written a few bytes at a time", benign=True),
    Fault("benign-key-order", "JSON keys in another order, plus unknown extra fields", benign=True),
    Fault("benign-gzip", "non-streaming responses gzip-compressed (Content-Encoding: gzip)", benign=True),
    Fault(
        "benign-loose-tool-arguments",
        "a tool with `strict: false` gets arguments that are a JSON object outside its schema",
        benign=True,
        suites=("test_chat.py",),
    ),
    Fault("benign-retry-field", "streams open with a `retry: 3000` block before the first data event", benign=True),
    Fault(
        "benign-error-nulls",
        'every error envelope carries `"code": null, "param": null`',
        benign=True,
        suites=("test_errors.py",),
    ),
    Fault("benign-null-role-deltas", 'stream deltas after the first carry `"role": null`', benign=True),
)


def _rule_faults() -> list[Fault]:
    """Two faults per rule of the table: the rule ignored (its invalid probes served), and the rule over-strict
    (every request touching it refused; only for rules with a valid probe that can show it)."""
    table = load_rules()
    faults = []
    for rule in table.rules.values():
        faults.append(Fault(f"rule-ignored:{rule.id}", f"not enforced: {rule.title}", ("RULE001",), rule=rule.id))
        if any(p.accept for m in table.models.values() for p in probes_for_rule(rule, m)):
            faults.append(
                Fault(
                    f"rule-strict:{rule.id}",
                    f"over-strict: refuses valid uses of: {rule.title}",
                    ("RULE002",),
                    rule=rule.id,
                )
            )
    return faults


FAULTS: dict[str, Fault] = {fault.name: fault for fault in [*_CATALOGUE, *_rule_faults()]}
