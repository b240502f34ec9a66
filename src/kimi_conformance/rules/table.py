"""Load `models.toml` into frozen dataclasses, validated against `schema.json`."""

from __future__ import annotations

import enum
import functools
import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from kimi_conformance.errors import ConfigError

SAMPLING_PARAMS = ("temperature", "top_p", "n", "presence_penalty", "frequency_penalty")


class Thinking(enum.Enum):
    """Whether a model reasons before it answers."""

    NEVER = "never"
    ALWAYS = "always"
    DEFAULT_ON = "default-on"


@dataclass(frozen=True, slots=True)
class ParamRule:
    """What one sampling parameter accepts for one family: a range with a default, or a fixed value."""

    name: str
    minimum: float | None = None
    maximum: float | None = None
    default: float | None = None
    fixed: float | None = None
    fixed_thinking: float | None = None
    fixed_non_thinking: float | None = None
    integer: bool = False
    inferred: bool = False

    def fixed_value(self, thinking: bool) -> float | None:
        """The only accepted value in this mode, or None when the parameter takes a range."""
        if self.fixed is not None:
            return self.fixed
        if self.fixed_thinking is not None:
            return self.fixed_thinking if thinking else self.fixed_non_thinking
        return None

    def effective_default(self, thinking: bool) -> float:
        """The value the API uses when the request omits the parameter."""
        fixed = self.fixed_value(thinking)
        if fixed is not None:
            return fixed
        assert self.default is not None
        return self.default


@dataclass(frozen=True, slots=True)
class Family:
    """A group of models sharing request rules."""

    name: str
    source: str
    params: dict[str, ParamRule]
    thinking_fields: tuple[str, ...]
    thinking_disable_forbidden: bool = False


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One model id the API serves."""

    id: str
    family: Family
    context_length: int
    thinking: Thinking
    source: str
    image_in: bool = False
    video_in: bool = False
    batch: bool = False
    inferred: bool = False

    @property
    def supports_reasoning(self) -> bool:
        return self.thinking is not Thinking.NEVER

    def thinks(self, request_thinking: object) -> bool:
        """Whether a request with this `thinking` field value makes the model reason."""
        if self.thinking is Thinking.NEVER:
            return False
        if self.thinking is Thinking.ALWAYS:
            return True
        return not (isinstance(request_thinking, dict) and request_thinking.get("type") == "disabled")


@dataclass(frozen=True, slots=True)
class RulesTable:
    """Every model and family, looked up by id."""

    models: dict[str, ModelInfo]
    families: dict[str, Family] = field(repr=False)

    def model(self, model_id: str) -> ModelInfo | None:
        return self.models.get(model_id)


def _read(name: str) -> str:
    return (resources.files("kimi_conformance.rules") / name).read_text(encoding="utf-8")


@functools.cache
def load_rules() -> RulesTable:
    """Parse and validate the packaged rules table once."""
    raw: dict[str, Any] = tomllib.loads(_read("models.toml"))
    errors = sorted(Draft202012Validator(json.loads(_read("schema.json"))).iter_errors(raw), key=str)
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path)
        raise ConfigError(f"rules table models.toml is invalid at {where or '<root>'}: {errors[0].message}")
    families = {
        name: Family(
            name=name,
            source=spec["source"],
            params={param: ParamRule(name=param, **rule) for param, rule in spec["params"].items()},
            thinking_fields=tuple(spec["thinking_fields"]),
            thinking_disable_forbidden=spec.get("thinking_disable_forbidden", False),
        )
        for name, spec in raw["families"].items()
    }
    models: dict[str, ModelInfo] = {}
    for entry in raw["models"]:
        if entry["family"] not in families:
            raise ConfigError(f"model {entry['id']} names unknown family {entry['family']}")
        if entry["id"] in models:
            raise ConfigError(f"model {entry['id']} is listed twice")
        models[entry["id"]] = ModelInfo(
            **{**entry, "family": families[entry["family"]], "thinking": Thinking(entry["thinking"])}
        )
    return RulesTable(models=models, families=families)
