"""KVV's stream-spec (verifiers §5) case by case: every case §5 lists, in its order and words, and the codes that
hold it here, or none and why. docs/checks.md shows it as a table; `tests/checks/test_kvv_stream_spec.py` holds it
to the facts' list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SpecCase:
    """One case of KVV's stream-spec and how this suite holds it."""

    priority: str
    """`P0`, `P1` or `P2`, as verifiers §5 numbers them."""
    case: str
    """The case in the words of verifiers §5 (a test holds them to that text)."""
    codes: tuple[str, ...]
    """The checks that hold it; empty when it is not applicable here."""
    note: str


KVV_STREAM_SPEC: tuple[SpecCase, ...] = (
    SpecCase("P0", "the include_usage summary frame", ("CHNK008",),
             "one `choices: []` usage chunk, last, only when asked (an error: facts §3.2, §3.10 [S][D])."),
    SpecCase(
        "P0",
        "`completion_tokens_details.reasoning_tokens` and `prompt_tokens_details.cached_tokens` on the end frame "
        "and the summary frame",
        ("CHNK015",),
        "a warning: `reasoning_tokens` is undocumented (facts §3.9 [I]), the details spelling observed (§3.9 [O]).",
    ),
    SpecCase("P0", "tool-call continuation chunks carry only `index` and `arguments`", ("CHNK004", "CHNK016"),
             "CHNK004 fails a repeated id or name (facts §3.10 [D]); CHNK016 warns on the keys sent empty or null, "
             "and on a continuation without string arguments."),
    SpecCase("P0", "the end frame carries `choices[0].usage`", ("CHNK006", "CHNK007"),
             "usage inside each choice's finishing chunk (an error: facts §3.10 [D])."),
    SpecCase("P0", "UTF-8-safe byte concatenation", ("SSE002", "CHNK024"),
             "SSE002 fails bytes that are not UTF-8; CHNK024 warns on a delta carrying U+FFFD or a lone surrogate "
             "(a character split across frames)."),
    SpecCase("P0", "standard `finish_reason` values", ("CHNK005",),
             "stop, length, tool_calls (facts §3.9 [S]); §5's extended values are findings too."),
    SpecCase("P0", "`n > 1`", ("CHNK002", "CHNK005", "CHNK006"),
             "choice indexes 0..n-1, one finish_reason and one usage per choice (facts §3.10 [D])."),
    SpecCase("P0", "errors before the stream starts (not inside it)", ("ERR001", "ERR003", "CHNK017"),
             "a refused stream request is a JSON error envelope with its status (ERR001, ERR003: facts §9 [S][D], "
             "§3.10 [KVV]); once a 200 stream has begun, an error frame is a CHNK017 warning (facts §3.10 [I])."),
    SpecCase(
        "P0",
        "headers `X-Msh-Usage-Prompt-Tokens` / `X-Msh-Usage-Cached-Tokens` equal to the final usage (stream and "
        "non-stream)",
        ("CHNK021",),
        "only when present: absent headers are no finding (facts §12 [O]; a gateway may drop them).",
    ),
    SpecCase(
        "P0",
        "`stream_options.include_internal_content` → `delta.internal_content.token_ids` on every increment frame",
        (),
        "not applicable: an internal extension of Moonshot's serving stack, in no fact of the public API or the "
        "contract; the suites never ask for it.",
    ),
    SpecCase("P1", "`[DONE]` last", ("SSE003",), "an error (facts §3.10 [D][KVV])."),
    SpecCase("P1", "top-level fields constant across frames", ("CHNK001", "CHNK020"),
             "CHNK001 fails a changing id, object or model (facts §3.10 [D]); CHNK020 warns on a changing "
             "`created`."),
    SpecCase("P1", 'first frame `delta.content` is `""` or `null`', ("CHNK018",), "a warning."),
    SpecCase("P1", "`role` only in the first frame", ("CHNK002",),
             "an error (facts §3.10 [D]); a later `role: null` is no finding (null names no role), where §5's "
             "fork would fail it."),
    SpecCase("P1", "a thinking-end boundary frame", ("CHNK003",),
             "CHNK003 holds the order (reasoning, then content: facts §3.7, §3.10 [D]); the boundary frame itself "
             "is not asserted: §5 names it only, and no fact gives its shape."),
    SpecCase("P1", "tool-call indices from 0, step 1", ("CHNK022",), "a warning."),
    SpecCase("P1", "end frame `delta == {}`", ("CHNK019",),
             "a warning; unknown fields and null values are tolerated (benign variations)."),
    SpecCase("P1", "one `finish_reason` per index", ("CHNK005",), "an error (facts §3.10 [D])."),
    SpecCase("P1", "no usage on middle frames", ("CHNK008", "CHNK023"),
             "CHNK008 warns on top-level usage outside the usage chunk; CHNK023 on a choice's usage before its "
             "finishing chunk."),
    SpecCase("P1", "stop-sequence range", ("CHAT006",),
             "the stop text and what follows it are not emitted (on the stream's fold, facts §3.2 [S][D])."),
    SpecCase("P1", "logprobs `bytes` equal to the token's UTF-8", (),
             "not applicable: logprobs are in no fact of the Moonshot API nor in the contract, and the suites never "
             "request them."),
    SpecCase("P1", "no error-only frames mid-stream", ("CHNK017",), "a warning (facts §3.10 [I])."),
    SpecCase("P2", "ids match `chatcmpl-<24 hex>`", (),
             "not asserted: the documented id is `cmpl-` + 32 hex (facts §3.9 [D]); §5 contradicts it."),
    SpecCase("P2", "`tool_call.id` is `<name>_<idx>`", (),
             "not asserted: contested (facts §12: `<name>:<index>` on K3, `functions.<name>:<index>` on K2.7)."),
    SpecCase("P2", "no summary frame unless asked for", ("CHNK008",),
             "an error: a `choices: []` usage chunk without include_usage."),
)  # fmt: skip
