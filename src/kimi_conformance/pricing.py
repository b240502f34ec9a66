"""Estimated cost of what a run spent: a price table per model (USD per 1M tokens), packaged or the user's own."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from kimi_conformance.errors import ConfigError

MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1M tokens: prompt tokens served from the cache, other prompt tokens, completion tokens."""

    input_cache_hit: float
    input_cache_miss: float
    output: float
    source: str = ""

    def cost(self, prompt_tokens: int, cached_tokens: int, completion_tokens: int) -> float:
        cached = min(cached_tokens, prompt_tokens)
        return (
            cached * self.input_cache_hit + (prompt_tokens - cached) * self.input_cache_miss
        ) / MILLION + completion_tokens * self.output / MILLION


def load_prices(path: str | Path | None = None) -> dict[str, Price]:
    """Model id -> price, from `path` or the packaged `prices.toml`."""
    try:
        text = (
            Path(path).read_text(encoding="utf-8")
            if path is not None
            else (resources.files("kimi_conformance") / "prices.toml").read_text(encoding="utf-8")
        )
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"price table {path}: {exc}") from exc
    prices: dict[str, Price] = {}
    for name, entry in raw.get("models", {}).items():
        try:
            price = Price(
                float(entry["input_cache_hit"]),
                float(entry["input_cache_miss"]),
                float(entry["output"]),
                str(entry.get("source", "")),
            )
            ids = entry["ids"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"price table entry {name!r} needs ids and three prices: {exc}") from exc
        for model_id in ids:
            prices[str(model_id)] = price
    return prices


def priced_aliases(prices: dict[str, Price], aliases: dict[str, str]) -> dict[str, Price]:
    """`prices` with each `--model-family` alias (the target's id) priced as the model it names, unless the table
    prices the alias itself: a vendor's `moonshotai/Kimi-K2.6` costs what `kimi-k2.6` does in the table."""
    return {**{alias: prices[model] for alias, model in aliases.items() if model in prices}, **prices}
