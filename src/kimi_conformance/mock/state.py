"""Everything one mock instance remembers between requests."""

from __future__ import annotations

from kimi_conformance.mock.batches import BatchStore, LineRunner
from kimi_conformance.mock.cache import PromptCache
from kimi_conformance.mock.config import MockConfig
from kimi_conformance.mock.files import FileStore
from kimi_conformance.mock.ratelimit import RateLimiter


class MockState:
    """Files, batches, the prompt cache and the rate limiter of one app."""

    def __init__(self, config: MockConfig, run_line: LineRunner) -> None:
        self.config = config
        self.files = FileStore(config)
        self.batches = BatchStore(self.files, run_line, config.batch_step_seconds, config.faults)
        self.cache = PromptCache()
        self.limiter = RateLimiter(config.organization, config.rpm, config.max_concurrency, config.tpm, config.tpd)
        self.errors_answered = 0
        """Requests answered with `config.error` so far (it stops at `config.error_count`)."""

    async def close(self) -> None:
        await self.batches.close()
        self.files.close()
