"""Run settings: command-line options over a config file over defaults.

The config file is `kimi-conformance.toml` (top-level keys) or `[tool.kimi-conformance]` in pyproject.toml, in
the directory pytest runs from. `${VAR}` in a string value is replaced by that environment variable, so secrets
stay in the environment; the API key itself is never a setting, only the name of its variable.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kimi_conformance.errors import ConfigError

PROFILES = ("quick", "standard", "thorough")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that changes what a conformance run does."""

    target: str = "mock"
    api_key_env: str = "MOONSHOT_API_KEY"
    models: tuple[str, ...] = ()
    model_family: tuple[str, ...] = ()
    """`ALIAS=MODEL` pairs: the target's id for a model the contract knows."""
    profile: str = "standard"
    checks: tuple[str, ...] = ()
    exclude_checks: tuple[str, ...] = ()
    request_timeout: float = 30.0
    stream_timeout: float = 120.0
    """Seconds a whole response body (a stream above all) may take."""
    stream_idle_timeout: float | None = None
    """Seconds of silence allowed inside a body; default: request_timeout."""
    strict: bool = False
    report_dir: str = "reports"
    mock_faults: tuple[str, ...] = field(default=())
    max_requests: int | None = None
    """Requests the run may send in all (split between xdist workers); None: no limit."""
    max_tokens: int | None = None
    """Tokens (prompt + completion, from usage) the run may spend; None: no limit."""
    rpm: float | None = None
    """Requests per minute the run may send (split between workers); None: as fast as answers come."""
    concurrency: int | None = None
    """Requests in flight at once: each xdist worker sends one at a time, so this caps `-n`."""
    max_retries: int = 3
    """Retries of a 429 (rate limit) answer, waiting `Retry-After` or a jittered backoff; quota 429s never."""
    attempts: int = 1
    """Sends of a request whose only failures are model-behaviour checks (JSON content, tool arguments): pass@k."""
    price_table: str | None = None
    """A TOML price table (USD per 1M tokens) instead of the packaged one."""

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ConfigError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if min(self.request_timeout, self.stream_timeout, self.stream_idle_timeout or 1) <= 0:
            raise ConfigError("request-timeout, stream-timeout and stream-idle-timeout must be positive")
        if self.target != "mock" and not re.match(r"^https?://", self.target):
            raise ConfigError(
                f"target must be `mock` or an http(s) base URL such as https://api.moonshot.ai/v1, not {self.target!r}"
            )
        for name in ("max_requests", "max_tokens", "rpm", "concurrency"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be positive, not {value}")
        if self.attempts < 1:
            raise ConfigError("attempts must be at least 1")
        if self.max_retries < 0:
            raise ConfigError("max-retries cannot be negative")
        if self.mock_faults and self.target != "mock":
            raise ConfigError("mock faults only apply to `--target mock`")
        self.aliases()  # validate the pairs

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

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def merged(self, overrides: dict[str, Any]) -> Settings:
        """These settings with every non-None override applied (names as in the dataclass)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items() if v not in (None, (), [])
        }
        return replace(self, **values)


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
            return {key.replace("-", "_"): _interpolate(value) for key, value in data.items()}
    return {}
