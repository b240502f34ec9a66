"""kimi-conformance: the contract and conformance suite for the Moonshot AI / Kimi Open Platform API."""

from __future__ import annotations

from kimi_conformance.errors import ConfigError, ContractError, KimiConformanceError

__version__ = "0.1.0"

__all__ = ["ConfigError", "ContractError", "KimiConformanceError", "__version__"]
