"""Errors of the tool itself (not of the target under test).

Our exception hierarchy:

* KimiConformanceError
  + ContractError   -- the OpenAPI contract is missing, unreadable or lacks a pointer we need
  + ConfigError     -- the tool was configured wrongly (bad option, bad rules table, bad fault name)

A finding about a target is data, never one of these: these mean our own setup is wrong.
"""

from __future__ import annotations


class KimiConformanceError(Exception):
    """Base class of every error raised by kimi-conformance itself."""


class ContractError(KimiConformanceError):
    """The OpenAPI contract cannot be loaded or does not contain what the tool needs."""


class ConfigError(KimiConformanceError):
    """The tool was given an invalid setting (option, rules table, fault name)."""
