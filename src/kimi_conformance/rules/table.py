"""Load `models.toml` into frozen dataclasses, validated against `schema.json`."""

from __future__ import annotations

import enum
import functools
import json
import re
import tomllib
from collections.abc import Callable
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
    inferred_rules: tuple[str, ...] = ()
    """Prefixes of rule ids whose application to this model rests on inference or observation, [I] or [O] ("*" for
    every rule): their findings on this model are warnings."""
    retired: str | None = None
    """When the API stopped serving it (facts §12); None for a model of the current lineup."""

    def infers(self, rule_id: str) -> bool:
        """Whether applying the rule `rule_id` to this model rests on inference."""
        return any(prefix == "*" or rule_id.startswith(prefix) for prefix in self.inferred_rules)

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


LINEUPS = ("current", "all")
"""What a Kimi deployment serves: today's models (facts §12), or every model the table knows (an older one)."""


def in_lineup(model: ModelInfo, lineup: str) -> bool:
    """Whether a deployment with this lineup serves `model`."""
    return lineup == "all" or model.retired is None


FIRM_TAGS = frozenset({"D", "S", "KVV"})
"""Source tags an error finding may rest on; [O] and [I] give warnings. The checks' registry derives its own set
from this one (adding `standard`, for the checks that rest on a standard)."""


@dataclass(frozen=True, slots=True)
class Strength:
    """How hard a rule's finding on one model is: an error, or a warning and why."""

    warning: bool
    reason: str = ""

    @property
    def label(self) -> str:
        return "warning" if self.warning else "error"


_SELECTORS: dict[str, Callable[[ModelInfo], bool]] = {
    "all": lambda model: True,
    "several-choices": lambda model: (model.family.params["n"].maximum or 1) > 1,
    "thinking": lambda model: model.supports_reasoning,
    "thinking-locked": lambda model: model.family.thinking_disable_forbidden,
    "thinking-object": lambda model: bool(model.family.thinking_fields),
    "thinking-effort": lambda model: "effort" in model.family.thinking_fields,
    "k3": lambda model: model.family.name == "kimi-k3",
    "image": lambda model: model.image_in,
    "video": lambda model: model.video_in,
    "vision": lambda model: model.image_in or model.video_in,
    "no-image": lambda model: not model.image_in,
    "no-video": lambda model: not model.video_in,
}
"""What each `applies` value of a rule selects."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One request rule: what it constrains, for which models, the fact it rests on, and the API's error message."""

    id: str
    title: str
    applies: str
    fact: str
    tags: tuple[str, ...]
    message: str
    inferred: bool = False
    """Rests on inference [I]: findings are warnings, never errors."""
    after_schema: bool = False
    """Needs a request already valid against the contract (e.g. counts prompt tokens)."""
    family: str | None = None
    """For a sampling rule, the family whose parameter it constrains."""
    param: ParamRule | None = None
    firm_for: str | None = None
    """The models its firm fact speaks of (a selector, as `applies`); on the others it applies by analogy, so its
    findings there are warnings. None: every model it applies to."""
    contested: str | None = None
    """The facts contradict each other on it: both sides, named. Its findings are warnings (on `contested_on`)."""
    contested_on: str | None = None
    """The models the contest is about; None for every model the rule applies to."""

    @property
    def source(self) -> str:
        """`facts §3.3 [S][D]`: where the rule comes from."""
        return self.fact + " " + "".join(f"[{tag}]" for tag in self.tags)

    def applies_to(self, model: ModelInfo) -> bool:
        if self.family is not None:
            return model.family.name == self.family
        return _SELECTORS[self.applies](model)

    def strength(self, model: ModelInfo) -> Strength:
        """An error only where the rule rests on a firm fact ([D], [S], [KVV]) about this model that no other fact
        contradicts; a warning, with the reason, everywhere else."""
        if self.contested is not None and (self.contested_on is None or _SELECTORS[self.contested_on](model)):
            return Strength(True, f"contested: {self.contested}")
        if self.inferred:
            return Strength(True, f"rests on inference ({self.source}): the facts do not state it")
        if not FIRM_TAGS & set(self.tags):
            return Strength(True, f"rests on {self.source} only: no [D], [S] or [KVV] fact")
        if model.infers(self.id):
            return Strength(True, f"its application to {model.id} rests on {model.source}")
        if self.firm_for is not None and not _SELECTORS[self.firm_for](model):
            return Strength(True, f"{self.source} speaks of {self.firm_for} models; applied to {model.id} by analogy")
        return Strength(False)


@dataclass(frozen=True, slots=True)
class RulesTable:
    """Every model, family and request rule, looked up by id."""

    models: dict[str, ModelInfo]
    families: dict[str, Family] = field(repr=False)
    rules: dict[str, Rule] = field(repr=False, default_factory=dict)

    def model(self, model_id: str) -> ModelInfo | None:
        return self.models.get(model_id)

    def rule(self, rule_id: str) -> Rule | None:
        return self.rules.get(rule_id)

    def rules_for(self, model: ModelInfo) -> list[Rule]:
        """The rules that constrain requests to `model`, in table order (sampling rules first)."""
        return [rule for rule in self.rules.values() if rule.applies_to(model)]


_TAG = re.compile(r"\[(D|S|KVV|O|I)\b")


def _sampling_rules(families: dict[str, Family], messages: dict[str, str]) -> list[Rule]:
    """One rule per family and sampling parameter, citing the family's source."""
    rules = []
    for family in families.values():
        tags = tuple(tag for tag in dict.fromkeys(_TAG.findall(family.source)) if tag != "I")
        for name, param in family.params.items():
            kind = "fixed" if param.minimum is None else "range"
            if kind == "fixed":
                values = [v for v in (param.fixed, param.fixed_thinking, param.fixed_non_thinking) if v is not None]
                title = f"{name} is fixed at {' or '.join(f'{v:g}' for v in sorted(values, reverse=True))}"
                if param.fixed_thinking is not None:
                    title += " (thinking / non-thinking)"
            else:
                title = f"{name} in [{param.minimum:g}, {param.maximum:g}], default {param.default:g}"
            rules.append(
                Rule(
                    id=f"sampling.{family.name}.{name}",
                    title=title,
                    applies="all",
                    fact=family.source.split(" [", 1)[0],
                    tags=tags + (("I",) if param.inferred and "I" not in tags else ()),
                    message=messages[f"{kind}_message"],
                    inferred=param.inferred,
                    family=family.name,
                    param=param,
                )
            )
    return rules


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
            **{
                **entry,
                "family": families[entry["family"]],
                "thinking": Thinking(entry["thinking"]),
                "inferred_rules": tuple(entry.get("inferred_rules", ())),
            }
        )
    rules: dict[str, Rule] = {}
    for rule in _sampling_rules(families, raw["sampling"]) + [
        Rule(**{**entry, "tags": tuple(entry["tags"])}) for entry in raw["rules"]
    ]:
        if rule.id in rules:
            raise ConfigError(f"rule {rule.id} is listed twice")
        rules[rule.id] = rule
    return RulesTable(models=models, families=families, rules=rules)
