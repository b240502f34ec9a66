"""A finding's fingerprint: what stays the same when the same defect is met again, in another run or another test.

A fingerprint is the finding's check code, its operation, the `model` of the request (empty when the request has
none) and its *subject*: the message with what changes from one run to the next normalised away — ids, timestamps,
numbers, hosts and ports, and quoted values a target generates. Two runs of one target with the same defects give
the same set of fingerprints, whatever the ports, ids, clocks or token counts; several findings (one defect met by
fifteen tests) may share one. Baselines (`report/baseline.py`) and `compare` both match findings by it, so "is this
finding new?" has one answer everywhere.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from kimi_conformance.findings import Finding

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_HTTP_DATE = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b")
_ORIGIN = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/\"'`<>]+")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_HOST_PORT = re.compile(r"\b(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?")
_PREFIXED_ID = re.compile(r"\b(file|batch_req|batch|chatcmpl|cmpl|call|req|run|msg)([-_])[A-Za-z0-9]{6,}")
_TOKEN_ID = re.compile(
    r"(?<![A-Za-z0-9])(?:(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{8,}|[A-Za-z0-9]{20,})(?![A-Za-z0-9])"
)
"""A run of letters and digits that reads like an id: both, eight or more (`6f1c2a9e`), or twenty or more."""
_QUOTED = re.compile(
    r"(?P<q>\"(?:[^\"\\\n]|\\.)*(?:\"|(?=\.\.\.(?:\n|$))))(?P<key>\s*:)?"
    r"|(?<![\w\\])(?P<s>'(?:[^'\\\n]|\\.)*')(?!\w)(?P<skey>\s*:)?"
)
"""A double-quoted string (JSON, possibly cut short by `...`) or a single-quoted one (a Python repr), and whether
a colon follows it (a key of an object, which stays)."""
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]{0,39}")
"""A quoted value kept as it is: one word of at most 40 characters (a finish_reason, a type, a tool's name)."""
_NUMBER = re.compile(r"(?<!\w)(?<!\w[.\-])(?<!HTTP )-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\w|\.\w)")
"""A number standing alone: not the `2.6` of `kimi-k2.6`, the `8` of `utf-8` nor an HTTP status (`HTTP 404`)."""
_NUMBERS = re.compile(r"\[(?:<n>(?:, <n>)*)?\]")
"""A list of numbers, however long (`[0, 1, 2]`, `[]`): its length is as generated as its numbers."""
_MODEL = re.compile(r"(?:^|\s)model=(\"(?:[^\"\\]|\\.)*\")")


def _quoted(match: re.Match[str]) -> str:
    quoted, key = (match["q"], match["key"]) if match["q"] is not None else (match["s"], match["skey"])
    if key is not None:  # an object's key: part of the shape, not a value
        return quoted + key
    quote = quoted[0]
    inner = quoted[1:-1] if len(quoted) > 1 and quoted.endswith(quote) else quoted[1:]
    return quoted if _WORD.fullmatch(inner) else f"{quote}<text>{quote}"


_CUT = re.compile(r"\.\.\.$|(?<=\S)\.\.\.(?=\s)")
"""Where a message cuts an excerpt short: `...` ending a line, or right after a character before a blank."""
_OPENERS, _CLOSERS = "[{(", "]})"


def _excerpt_start(line: str, end: int) -> int | None:
    """Where the excerpt a cut at `end` ends opens: the outermost bracket still open there (brackets inside
    double quotes do not count), else the line's label (`Received: `), else the cut word; None when the cut
    falls inside a double-quoted string outside brackets, which the quoted-value rule already makes `"<text>"`."""
    stack: list[int] = []
    quoted = escaped = False
    for index, char in enumerate(line[:end]):
        if quoted:
            escaped, quoted = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            quoted = True
        elif char in _OPENERS:
            stack.append(index)
        elif char in _CLOSERS and stack:
            stack.pop()
    if stack:
        return stack[0]
    if quoted:
        return None
    label = line.find(": ")
    return label + 2 if 0 <= label < end else line.rfind(" ", 0, end) + 1


def _cut_excerpts(message: str) -> str:
    """Each excerpt a message cuts short, as `<cut>...`: where the cut falls depends on how long the numbers and
    ids before it were, so whatever the cut leaves of an excerpt is no part of the subject."""
    lines = []
    for line in message.split("\n"):
        cut = _CUT.search(line)
        start = None if cut is None else _excerpt_start(line, cut.start())
        if cut is not None and start is not None:
            line = line[:start] + "<cut>" + line[cut.start() :]
        lines.append(line)
    return "\n".join(lines)


def normalise(message: str) -> str:
    """The subject of a finding's message: the same for the same defect in every run. Ids, timestamps, hosts and
    ports, numbers (and lists of numbers, whatever their length) and quoted values longer than one word become
    placeholders (`<id>`, `<time>`, `<n>`, `[<n>, ...]`, `"<text>"` ...), and an excerpt cut short `<cut>...`;
    words, object keys, HTTP statuses and model ids stay; blanks are collapsed, lines kept."""
    text = _ISO_TIME.sub("<time>", _cut_excerpts(message))
    text = _HTTP_DATE.sub("<time>", text)
    text = _ORIGIN.sub("<origin>", text)
    text = _UUID.sub("<uuid>", text)
    text = _HOST_PORT.sub("<host>", text)
    text = _PREFIXED_ID.sub(lambda m: f"{m[1]}{m[2]}<id>", text)
    text = _TOKEN_ID.sub("<id>", text)
    text = _QUOTED.sub(_quoted, text)
    text = _NUMBER.sub("<n>", text)
    text = _NUMBERS.sub("[<n>, ...]", text)
    return "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))


def model_of(request: str) -> str:
    """The `model` of the request a finding names (`Exchange.summary()`: `POST /v1/chat/completions
    model="kimi-k2.6"`), or empty when it has none."""
    found = _MODEL.search(request)
    if found is None:
        return ""
    try:
        value: Any = json.loads(found.group(1))
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True, order=True)
class Fingerprint:
    """What identifies a finding across runs (see the module's docstring)."""

    code: str
    operation: str
    model: str
    subject: str

    @property
    def id(self) -> str:
        """A short stable id (`CHAT004-3f9a2c1d0b7e`): the code and 12 hex digits of the SHA-256 of the four
        fields; results.json and the CI annotations carry it, so tools can join findings across runs."""
        digest = hashlib.sha256("\0".join(self.key()).encode("utf-8")).hexdigest()
        return f"{self.code}-{digest[:12]}"

    def key(self) -> tuple[str, str, str, str]:
        return (self.code, self.operation, self.model, self.subject)

    def line(self) -> str:
        """One line for consoles and annotations: `CHAT004 createChatCompletion kimi-k2.6: Received: ... / ...`."""
        where = " ".join(part for part in (self.code, self.operation, self.model) if part)
        return f"{where}: {self.subject.replace(chr(10), ' / ')}"


def fingerprint(finding: Finding) -> Fingerprint:
    """The fingerprint of one finding."""
    return Fingerprint(finding.code, finding.operation, model_of(finding.request), normalise(finding.message))
