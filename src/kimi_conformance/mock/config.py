"""Settings of one mock instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from kimi_conformance.errors import ConfigError
from kimi_conformance.mock.errors import ERROR_ANSWERS
from kimi_conformance.mock.faults import FAULTS
from kimi_conformance.rules import LINEUPS, ModelInfo, in_lineup, load_rules

DEFAULT_API_KEY = "sk-kimi-conformance-mock"
"""The key the mock accepts when no `--api-key` is given."""

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class MockConfig:
    """Everything that changes how the mock behaves; defaults follow the facts."""

    seed: int = 0
    api_keys: frozenset[str] = frozenset({DEFAULT_API_KEY})
    chunk_delay: float = 0.0
    """Seconds between two streamed chunks."""
    latency: float = 0.0
    """Seconds every request waits before it is answered (a slow upstream), holding its concurrency slot."""
    read_timeout: float = 30.0
    """Seconds a request body may stay silent before the mock answers 408 and closes the connection (a client that
    declares more than it sends)."""
    out_of_quota: bool = False
    """Refuse every request 429 `exceeded_current_quota_error`, as for an account out of balance (facts §9)."""
    rpm: int | None = None
    """Requests per minute (all keys together) before 429 `rate_limit_reached_error`; None for no limit."""
    max_concurrency: int | None = None
    """Requests in flight (all keys together) before 429; None for no limit."""
    tpm: int | None = None
    """Tokens per minute (all keys together) a chat request may bring the organisation to before 429
    `rate_limit_reached_error` (TPM); counted at admission as prompt tokens + max_tokens, or the default
    max_tokens when the request sets none (facts §10); None for no limit."""
    tpd: int | None = None
    """Tokens per day, counted as for `tpm` over a sliding 24 hours, before 429 (TPD); None for no limit."""
    error: str | None = None
    """The name of a documented error answer (`errors.ERROR_ANSWERS`: permission-denied, content-filter,
    engine-overloaded, server-error, gateway-timeout) given to the requests of its routes; None for none."""
    error_count: int | None = None
    """How many requests get `error` (the first ones of its routes; later ones are served); None for every one."""
    faults: frozenset[str] = frozenset()
    """Named deviations from the contract (see `faults.py`); empty for the conformant mock."""
    max_file_bytes: int = 100 * MiB
    max_file_count: int = 1000
    max_total_file_bytes: int = 10 * 1024 * MiB
    batch_step_seconds: float = 0.5
    """Time a batch spends in each status on its way to completion."""
    balance: tuple[float, float] = (46.58893, 3.00001)
    """(voucher_balance, cash_balance) reported by GET /v1/users/me/balance."""
    organization: str = "org-mock"
    extra_models: tuple[str, ...] = field(default=())
    lineup: str = "current"
    """The models it serves: `current` (today's lineup, facts §12; retired ids answer 404) or `all` (every model
    the rules table knows, as an older deployment)."""

    def __post_init__(self) -> None:
        unknown = sorted(self.faults - FAULTS.keys())
        if unknown:
            raise ConfigError(f"unknown fault(s): {', '.join(unknown)}; see `kimi-conformance mock --list-faults`")
        if not self.api_keys:
            raise ConfigError("the mock needs at least one accepted API key")
        if self.chunk_delay < 0 or self.batch_step_seconds < 0 or self.latency < 0:
            raise ConfigError("delays cannot be negative")
        if self.lineup not in LINEUPS:
            raise ConfigError(f"lineup must be one of {', '.join(LINEUPS)}, not {self.lineup!r}")
        if not self.read_timeout > 0:
            raise ConfigError("the read timeout must be positive")
        if self.error is not None and self.error not in ERROR_ANSWERS:
            raise ConfigError(f"unknown error answer {self.error!r}; one of {', '.join(ERROR_ANSWERS)}")
        if self.error_count is not None and self.error_count < 0:
            raise ConfigError("the error count cannot be negative")
        if any(limit is not None and limit < 1 for limit in (self.tpm, self.tpd)):
            raise ConfigError("token limits must be at least 1")

    def model(self, model_id: str) -> ModelInfo | None:
        """The model it serves under this id, or None (unknown, or retired from its lineup: a 404)."""
        model = load_rules().model(model_id)
        return model if model is not None and in_lineup(model, self.lineup) else None

    def models(self) -> list[ModelInfo]:
        """Every model it serves, in table order."""
        return [model for model in load_rules().models.values() if in_lineup(model, self.lineup)]

    def has_fault(self, name: str) -> bool:
        """Whether the named deviation is switched on."""
        return name in self.faults
