"""The model rules table: which models exist and what each accepts (data in `models.toml`)."""

from __future__ import annotations

from kimi_conformance.rules.table import Family, ModelInfo, ParamRule, Rule, RulesTable, Thinking, load_rules

__all__ = ["Family", "ModelInfo", "ParamRule", "Rule", "RulesTable", "Thinking", "load_rules"]
