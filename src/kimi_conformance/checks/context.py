"""What checks know besides the exchange: the rules table, the model aliases of the target, strictness."""

from __future__ import annotations

from dataclasses import dataclass, field

from kimi_conformance.rules import ModelInfo, RulesTable, load_rules


@dataclass(frozen=True, slots=True)
class CheckContext:
    """Shared, read-only inputs of every check in a run."""

    rules: RulesTable = field(default_factory=load_rules)
    aliases: dict[str, str] = field(default_factory=dict)
    """Target model id -> contract model id, for targets whose ids differ (`--model-family`)."""

    def model(self, target_model: object) -> ModelInfo | None:
        """The contract's model for a model id as the target names it."""
        if not isinstance(target_model, str):
            return None
        return self.rules.model(self.aliases.get(target_model, target_model))
