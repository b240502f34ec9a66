"""The fidelity of a run: classified answers counted per model and mode (streamed or not), the worst examples
kept, in a form that adds up across processes (each xdist worker's tally is written with its part and merged by
the controller: the same numbers and examples as a serial run), and the `--min-schema-accuracy` gate."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kimi_conformance.fidelity.classify import CLASSES, RANK, Answer

MAX_EXAMPLES = 5
"""Worst examples kept per model."""
MODES = ("json", "stream")


@dataclass(slots=True)
class Counts:
    """The answers of one model in one mode."""

    answers: int = 0
    finish_tool_calls: int = 0
    """Answers whose finish_reason is `tool_calls`: K2VV's denominator."""
    valid_tool_calls: int = 0
    """Of those, the valid ones (K2VV's `successful_tool_call_count`)."""
    classes: Counter[str] = field(default_factory=Counter)
    finish_reasons: Counter[str] = field(default_factory=Counter)
    tool_choice: Counter[str] = field(default_factory=Counter)

    def add(self, answer: Answer) -> None:
        self.answers += 1
        self.classes[answer.klass] += 1
        self.finish_reasons[answer.finish_reason or "none"] += 1
        self.tool_choice[answer.tool_choice] += 1
        if answer.schema_valid is not None:
            self.finish_tool_calls += 1
            self.valid_tool_calls += answer.schema_valid

    def absorb(self, other: Counts) -> None:
        self.answers += other.answers
        self.finish_tool_calls += other.finish_tool_calls
        self.valid_tool_calls += other.valid_tool_calls
        self.classes.update(other.classes)
        self.finish_reasons.update(other.finish_reasons)
        self.tool_choice.update(other.tool_choice)

    @property
    def schema_accuracy(self) -> float | None:
        """K2VV's schema_accuracy (valid / finish_reason tool_calls), None when no answer ended in tool_calls."""
        return self.valid_tool_calls / self.finish_tool_calls if self.finish_tool_calls else None

    def as_json(self) -> dict[str, Any]:
        return {
            "answers": self.answers,
            "finish_tool_calls": self.finish_tool_calls,
            "valid_tool_calls": self.valid_tool_calls,
            "schema_accuracy": self.schema_accuracy,
            "classes": {name: self.classes[name] for name in CLASSES},
            "finish_reasons": dict(sorted(self.finish_reasons.items())),
            "tool_choice": dict(sorted(self.tool_choice.items())),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Counts:
        return cls(
            data["answers"],
            data["finish_tool_calls"],
            data["valid_tool_calls"],
            Counter({k: v for k, v in data["classes"].items() if v}),
            Counter(data["finish_reasons"]),
            Counter(data["tool_choice"]),
        )


def _example_key(example: dict[str, Any]) -> tuple[int, str, bool]:
    return RANK[example["class"]], example["test"], example["stream"]


@dataclass(slots=True)
class ModelTally:
    """One model: its counts per mode and its worst answers."""

    modes: dict[str, Counts] = field(default_factory=lambda: {mode: Counts() for mode in MODES})
    examples: list[dict[str, Any]] = field(default_factory=list)

    def total(self) -> Counts:
        total = Counts()
        for counts in self.modes.values():
            total.absorb(counts)
        return total

    def keep(self, examples: list[dict[str, Any]]) -> None:
        """Keep the worst examples: by class, then test id (the same ones whatever order they arrive in)."""
        merged = {(e["test"], e["stream"]): e for e in [*self.examples, *examples]}
        self.examples = sorted(merged.values(), key=_example_key)[:MAX_EXAMPLES]

    def as_json(self) -> dict[str, Any]:
        return {
            **self.total().as_json(),
            "modes": {mode: counts.as_json() for mode, counts in self.modes.items()},
            "worst": list(self.examples),
        }


@dataclass(slots=True)
class FidelityTally:
    """Every classified answer of one process (or of a whole run, once merged), per model id as the target names
    it."""

    models: dict[str, ModelTally] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.models)

    def add(self, model: str, answer: Answer, test: str, case: str) -> None:
        tally = self.models.setdefault(model, ModelTally())
        tally.modes["stream" if answer.stream else "json"].add(answer)
        if answer.klass != "ok":
            example = {
                "class": answer.klass,
                "test": test,
                "case": case,
                "stream": answer.stream,
                "finish_reason": answer.finish_reason,
                "detail": answer.detail,
            }
            tally.keep([example])

    def absorb(self, other: FidelityTally) -> None:
        for model, theirs in other.models.items():
            mine = self.models.setdefault(model, ModelTally())
            for mode, counts in theirs.modes.items():
                mine.modes.setdefault(mode, Counts()).absorb(counts)
            mine.keep(theirs.examples)

    def as_json(self) -> dict[str, Any]:
        """`{"models": {model: {answers, finish_tool_calls, valid_tool_calls, schema_accuracy, classes, ..., modes,
        worst}}}`, models in name order."""
        return {"models": {model: self.models[model].as_json() for model in sorted(self.models)}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FidelityTally:
        tally = cls()
        for model, entry in data.get("models", {}).items():
            tally.models[model] = ModelTally(
                {mode: Counts.from_json(counts) for mode, counts in entry["modes"].items()}, list(entry["worst"])
            )
        return tally


def percent(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.2f} %"


def below_gate(fidelity: dict[str, Any], minimum: float) -> list[str]:
    """The models of a run's fidelity (`FidelityTally.as_json()`) whose schema_accuracy is below `minimum` (a
    percentage), one line each; a model none of whose answers ended in `tool_calls` is below any gate (nothing of
    its calls could be judged valid)."""
    lines = []
    for model, entry in fidelity.get("models", {}).items():
        valid, total = entry["valid_tool_calls"], entry["finish_tool_calls"]
        if not total:
            lines.append(f"{model}: no answer ended with finish_reason tool_calls ({entry['answers']} answers)")
        elif Fraction(valid * 100, total) < Fraction(str(minimum)):
            lines.append(
                f"{model}: schema_accuracy {percent(entry['schema_accuracy'])} ({valid}/{total}) is below {minimum:g} %"
            )
    return lines
