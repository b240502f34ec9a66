"""The model rules table: which models exist and what each accepts (data in `models.toml`)."""

from __future__ import annotations

from kimi_conformance.rules.table import (
    FIRM_TAGS,
    LINEUPS,
    Family,
    ModelInfo,
    ParamRule,
    Rule,
    RulesTable,
    Strength,
    Thinking,
    in_lineup,
    load_rules,
)

__all__ = [
    "FIRM_TAGS",
    "LINEUPS",
    "Family",
    "ModelInfo",
    "ParamRule",
    "Rule",
    "RulesTable",
    "Strength",
    "Thinking",
    "in_lineup",
    "load_rules",
]
