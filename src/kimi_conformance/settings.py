"""Run settings: command-line options over a config file over defaults.

The config file is `kimi-conformance.toml` (top-level keys) or `[tool.kimi-conformance]` in pyproject.toml, in
the directory pytest runs from. `${VAR}` in a string value is replaced by that environment variable, so secrets
stay in the environment; the API key itself is never a setting, only the name of its variable.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

from kimi_conformance.dialect import THINKING_STYLES, ChatDialect, parse_extra_body
from kimi_conformance.errors import ConfigError
from kimi_conformance.operations import Surface
from kimi_conformance.profiles import PROFILE_NAMES
from kimi_conformance.rules import LINEUPS, in_lineup, load_rules

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class RunOption:
    """One run option as every front end declares it: the `Settings` field (also the config-file key, dashes
    allowed), its type and default, and the flag `kimi-conformance run` and the pytest plugin both take."""

    name: str
    kind: type
    """`str`, `int`, `float` or `bool` (a flag); for `repeatable` options, the type of each value."""
    default: Any
    help: str
    flag: str
    """The command-line flag (`--request-timeout`); repeatable options take it once per value."""
    pytest_flag: str
    """The plugin's flag: the same, unless pytest owns it (`--strict` is pytest's own)."""
    repeatable: bool = False
    optional: bool = False
    """None is a value (no limit, not set)."""
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        """Where pytest keeps the value (prefixed, so no other plugin's option can collide)."""
        return f"kimi_{self.name}"

    @property
    def help_with_default(self) -> str:
        if self.kind is bool or self.default in (None, ()):
            return self.help
        return f"{self.help} (default: {self.default})"


def option(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    pytest_flag: str | None = None,
    metavar: str | None = None,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A `Settings` field that is also a run option (see `run_options`)."""
    details = {"help": help, "flag": flag, "pytest_flag": pytest_flag, "metavar": metavar, "choices": choices}
    return field(default=default, metadata={"option": details})


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that changes what a conformance run does: the one table of run options. Each field is a
    config-file key, a `kimi-conformance run` option and a pytest option, generated from it (`run_options`)."""

    target: str = option("mock", "`mock` (the embedded reference mock) or an SDK-style base URL")
    api_key_env: str = option("MOONSHOT_API_KEY", "Environment variable holding the API key", metavar="NAME")
    models: tuple[str, ...] = option(
        (), "Model to exercise (repeatable; default: all the target lists)", flag="--model"
    )
    model_family: tuple[str, ...] = option((), "The target's id for a model the contract knows", metavar="ALIAS=MODEL")
    """`ALIAS=MODEL` pairs: the target's id for a model the contract knows."""
    operations: tuple[str, ...] = option(
        (),
        "Operation groups the target offers (models, chat, estimate, files, batches, balance) or a set of them "
        "(chat-only, moonshot-full), comma-separated or repeated; default: discover them (one probe each, a 404 or "
        "405 is not offered and its tests are skipped)",
        metavar="NAMES",
    )
    thinking_style: str = option(
        "kimi",
        "How the target switches thinking: kimi (the `thinking` object) or chat-template-kwargs "
        "(`chat_template_kwargs.thinking`, as vLLM and SGLang serve Kimi-K2)",
        metavar="STYLE",
        choices=THINKING_STYLES,
    )
    extra_body: str | None = option(
        None, "A JSON object merged into every chat request (the request's own fields win)", metavar="JSON"
    )
    profile: str = option("standard", "How much to generate", choices=PROFILE_NAMES)
    contract: str | None = option(
        None,
        "Generate the property-based contract tests (test_contract.py) from this OpenAPI 3.x document instead of "
        "ours: its operations matched to ours by method and path; the target is still held to our contract",
        metavar="PATH|URL",
    )
    checks: tuple[str, ...] = option((), "Only these checks (codes or names, comma-separated or repeated)")
    exclude_checks: tuple[str, ...] = option((), "Skip these checks (codes or names)")
    request_timeout: float = option(30.0, "Seconds per request, until the response headers")
    stream_timeout: float = option(120.0, "Seconds a whole body (a stream above all) may take")
    stream_idle_timeout: float | None = option(
        None, "Seconds of silence allowed inside a body (default: the request timeout)"
    )
    strict: bool = option(False, "Warnings fail the run too", pytest_flag="--strict-conformance")
    report_dir: str = option("reports", "Where runs write reports")
    baseline: str | None = option(
        None,
        "A baseline file of known findings (`kimi-conformance baseline create`): only findings not in it fail the "
        "run; every report lists the new, known and fixed ones",
        metavar="FILE",
    )
    mock_faults: tuple[str, ...] = option(
        (), "Break the embedded mock on purpose (repeatable)", flag="--mock-fault", metavar="NAME"
    )
    mock_lineup: str = option(
        "current",
        "Models the embedded mock serves: current (today's lineup) or all (retired models too: an older deployment)",
        metavar="LINEUP",
        choices=LINEUPS,
    )
    max_requests: int | None = option(
        None, "Budget: stop cleanly after this many requests (split between workers; exit 2)"
    )
    max_tokens: int | None = option(
        None, "Budget: stop cleanly before spending more tokens (prompt + completion, from usage)"
    )
    plan: bool = option(
        False,
        "Print the run's ceilings of requests and tokens, per suite and model, and send nothing (a URL target "
        "without --model is asked for its models: that one request); the run never passes them",
    )
    quiet: bool = option(
        False,
        "No live progress line (tests done, requests and tokens against the budget, cost, 429 retries) while the "
        "run goes; pytest's own -q is apart",
        pytest_flag="--quiet-conformance",
    )
    rpm: float | None = option(None, "At most this many requests per minute (split between workers)")
    concurrency: int | None = option(
        None, "At most this many requests in flight: each worker sends one at a time, so this caps -n"
    )
    max_retries: int = option(
        3, "Retries of a rate-limited (429) answer, after Retry-After or a jittered backoff; quota 429s never"
    )
    attempts: int = option(
        1, "Sends of a request failing only model-behaviour checks (JSON content, tool arguments): pass@k"
    )
    price_table: str | None = option(
        None, "A TOML price table (USD per 1M tokens per model) instead of the packaged one", metavar="FILE"
    )
    min_schema_accuracy: float | None = option(
        None,
        "Fail the run when a model's tool-call schema_accuracy (K2VV: valid calls / answers ending in tool_calls, "
        "suites/test_fidelity.py) is below this percentage, 0-100; Moonshot's own endpoints score 100 "
        "(default: report only)",
        metavar="PERCENT",
    )

    def __post_init__(self) -> None:
        if self.profile not in PROFILE_NAMES:
            raise ConfigError(f"profile must be one of {', '.join(PROFILE_NAMES)}, not {self.profile!r}")
        numbers = {o.name: getattr(self, o.name) for o in run_options() if o.kind in (int, float)}
        for name, value in numbers.items():
            if value is not None and not math.isfinite(value):
                raise ConfigError(f"{name.replace('_', '-')} must be a finite number, not {value}")
        if min(self.request_timeout, self.stream_timeout, self.stream_idle_timeout or 1) <= 0:
            raise ConfigError("request-timeout, stream-timeout and stream-idle-timeout must be positive")
        problem = None if self.target == "mock" else url_problem(self.target)
        if problem is not None:
            raise ConfigError(f"target must be `mock` or an http(s) base URL such as https://api.moonshot.ai/v1, "
                              f"not {self.target!r} ({problem})")  # fmt: skip
        if self.contract is not None:
            web = self.contract.startswith(("http://", "https://"))
            where = url_problem(self.contract) if web else None
            if where is not None or not self.contract.strip():
                raise ConfigError(f"--contract takes a path or an http(s) URL of an OpenAPI document, not "
                                  f"{self.contract!r}" + (f" ({where})" if where else ""))  # fmt: skip
        for name in ("max_requests", "max_tokens", "rpm", "concurrency"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, not {value}")
        gate = None if self.min_schema_accuracy is None else problem_with_percent(self.min_schema_accuracy)
        if gate is not None:
            raise ConfigError(f"min-schema-accuracy {gate}")
        if self.attempts < 1:
            raise ConfigError("attempts must be at least 1")
        if self.max_retries < 0:
            raise ConfigError("max-retries cannot be negative")
        if self.mock_faults and self.target != "mock":
            raise ConfigError("mock faults only apply to `--target mock`")
        if self.mock_lineup not in LINEUPS:
            raise ConfigError(f"mock-lineup must be one of {', '.join(LINEUPS)}, not {self.mock_lineup!r}")
        Surface.declared_by(self.operations)  # unknown names are a ConfigError
        self.dialect()  # the thinking style and the extra body
        aliases = self.aliases()  # validates the pairs
        known = load_rules().models
        for alias, model in aliases.items():
            if model not in known:
                raise ConfigError(f"--model-family {alias}={model}: {model} is no model the contract knows "
                                  "(`kimi-conformance rules` lists them)")  # fmt: skip
        for model in self.models:
            if aliases.get(model, model) not in known:
                raise ConfigError(f"--model {model} is no model the contract knows (`kimi-conformance rules` lists "
                                  "them); a target's own id needs --model-family ID=MODEL")  # fmt: skip
            info = known[aliases.get(model, model)]
            if self.is_mock and not in_lineup(info, self.mock_lineup):
                raise ConfigError(f"--model {model} was retired ({info.retired}): the embedded mock serves it with "
                                  "--mock-lineup all")  # fmt: skip

    @property
    def is_mock(self) -> bool:
        return self.target == "mock"

    def aliases(self) -> dict[str, str]:
        """Target model id -> contract model id."""
        pairs = {}
        for item in self.model_family:
            alias, sep, model = item.partition("=")
            if not sep or not alias or not model:
                raise ConfigError(f"--model-family takes ALIAS=MODEL, not {item!r}")
            pairs[alias] = model
        return pairs

    def dialect(self) -> ChatDialect:
        """How chat requests are sent to the target (`--thinking-style`, `--extra-body`)."""
        return ChatDialect(self.thinking_style, parse_extra_body(self.extra_body))

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def merged(self, overrides: dict[str, Any]) -> Settings:
        """These settings with every non-None override applied (names as in the dataclass), each of its type."""
        options = {o.name: o for o in run_options()}
        unknown = set(overrides) - set(options)
        if unknown:
            names = ", ".join(sorted(name.replace("_", "-") for name in unknown))
            raise ConfigError(f"unknown setting(s): {names}; `kimi-conformance run --help` lists them")
        values = {k: _typed(options[k], v) for k, v in overrides.items() if v not in (None, (), [])}
        return replace(self, **values)


def problem_with_percent(value: float) -> str | None:
    """Why `value` is no `--min-schema-accuracy` percentage, or None. A value in (0, 1] reads like a fraction (0.95
    for 95 %) and would gate almost nothing: it is refused with the percentage it probably means."""
    if not 0 <= value <= 100:
        return f"is a percentage from 0 to 100, not {value:g}"
    if 0 < value <= 1:
        meant = f"{100 * value:g}"
        return f"is a percentage from 0 to 100: {value:g} reads like a fraction (write {meant} for {meant} %)"
    return None


_HOST_FORBIDS = set('[]<>"{}|\\^`')


def url_problem(url: str) -> str | None:
    """Why `url` is no http(s) URL a client can use as written, in a few words, or None: the one check of every
    URL the tool is given (the target, the proxy's upstream, a document to diff), so that none reaches httpx or
    urllib only to fail there with a traceback, or to be read as another URL (urllib drops a newline, reads
    `[::1]x:8080` as `[::1]:8080`). Checked: the scheme, a host (an IPv6 address in brackets, and valid), a port
    from 1 to 65535 if any, no blank or control character."""
    if not url.startswith(("http://", "https://")):
        return "it must start with http:// or https://"
    if any(char.isspace() or not char.isprintable() for char in url):
        return "it holds a blank or a control character"
    authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        host, closed, rest = host[1:].partition("]")
        if not closed:
            return "its IPv6 address lacks the closing ]"
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"[{host}] is not an IPv6 address"
        if rest and not rest.startswith(":"):
            return f"{rest!r} follows the IPv6 address, where only :PORT may"
        port = rest[1:]
    else:
        host, _, port = host.partition(":")
        if ":" in port:
            return "a host takes one :PORT (an IPv6 address goes in brackets: http://[::1]:8080/v1)"
        if not host:
            return "it names no host"
        if _HOST_FORBIDS & set(host):
            return f"{host!r} is not a host name"
    if port and not (re.fullmatch(r"[0-9]{1,5}", port) and 1 <= int(port) <= 65535):
        return f"port {port} is not a number from 1 to 65535"
    try:
        urlsplit(url)  # and the standard library's own checks (brackets, NFKC)
    except ValueError as exc:
        return str(exc)
    return None


def _typed(option: RunOption, value: Any) -> Any:
    """`value` as the option's type (a list or tuple for repeatable options), or a one-line ConfigError."""
    name = option.name.replace("_", "-")
    if option.repeatable:
        items = list(value) if isinstance(value, list | tuple) else [value]
        if not all(isinstance(item, str) for item in items):
            raise ConfigError(f"{name} takes strings, not {value!r}")
        return tuple(items)
    numeric = option.kind in (int, float) and isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and (option.kind is float or isinstance(value, int)):
        return option.kind(value)
    if isinstance(value, option.kind) and not (option.kind is not bool and isinstance(value, bool)):
        return value
    kinds = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    raise ConfigError(f"{name} must be {kinds[option.kind]}, not {value!r}")


@functools.cache
def _run_options() -> tuple[RunOption, ...]:
    return tuple(_read_options())


def run_options() -> list[RunOption]:
    """The table of run options, in declaration order, read off `Settings` (once)."""
    return list(_run_options())


def _read_options() -> list[RunOption]:
    hints = get_type_hints(Settings)
    table = []
    for item in fields(Settings):
        details = item.metadata["option"]
        hint = hints[item.name]
        arguments = [a for a in get_args(hint) if a is not type(None)]
        repeatable = get_origin(hint) is tuple
        kind = arguments[0] if repeatable or arguments else hint
        flag = details["flag"] or "--" + item.name.replace("_", "-")
        table.append(
            RunOption(
                name=item.name,
                kind=kind,
                default=item.default,
                help=details["help"],
                flag=flag,
                pytest_flag=details["pytest_flag"] or flag,
                repeatable=repeatable,
                optional=type(None) in get_args(hint),
                metavar=details["metavar"],
                choices=details["choices"],
            )
        )
    return table


def _interpolate(value: Any) -> Any:
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"config refers to ${{{name}}}, which is not set in the environment")
            return os.environ[name]

        return _ENV.sub(lookup, value)
    if isinstance(value, list):
        return [_interpolate(item) for item in value]
    return value


def read_config_file(directory: Path) -> dict[str, Any]:
    """Settings from `kimi-conformance.toml` or pyproject's `[tool.kimi-conformance]` (first found), keys in
    the dataclass spelling (dashes allowed)."""
    for path, section in (
        (directory / "kimi-conformance.toml", ()),
        (directory / "pyproject.toml", ("tool", "kimi-conformance")),
    ):
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        for key in section:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if data:
            values = {key.replace("-", "_"): _interpolate(value) for key, value in data.items()}
            try:
                Settings().merged(values)  # every key known, every value of its type, the whole valid
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
            return values
    return {}
