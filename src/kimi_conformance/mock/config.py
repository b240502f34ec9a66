"""Settings of one mock instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from kimi_conformance.errors import ConfigError
from kimi_conformance.mock.faults import FAULTS

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
    """Seconds every request waits before it is answered (a slow upstream)."""
    read_timeout: float = 30.0
    """Seconds a request body may stay silent before the mock answers 408 and closes the connection (a client that
    declares more than it sends)."""
    out_of_quota: bool = False
    """Refuse every request 429 `exceeded_current_quota_error`, as for an account out of balance (facts §9)."""
    rpm: int | None = None
    """Requests per minute (all keys together) before 429 `rate_limit_reached_error`; None for no limit."""
    max_concurrency: int | None = None
    """Requests in flight (all keys together) before 429; None for no limit."""
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

    def __post_init__(self) -> None:
        unknown = sorted(self.faults - FAULTS.keys())
        if unknown:
            raise ConfigError(f"unknown fault(s): {', '.join(unknown)}; see `kimi-conformance mock --list-faults`")
        if not self.api_keys:
            raise ConfigError("the mock needs at least one accepted API key")
        if self.chunk_delay < 0 or self.batch_step_seconds < 0 or self.latency < 0:
            raise ConfigError("delays cannot be negative")
        if not self.read_timeout > 0:
            raise ConfigError("the read timeout must be positive")

    def has_fault(self, name: str) -> bool:
        """Whether the named deviation is switched on."""
        return name in self.faults
