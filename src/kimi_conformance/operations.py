"""The operations a target offers, in groups: what `--operations` names, what the operations probe discovers, what
every suite test that exercises an operation is skipped by when its group is not offered.

Kimi vendors serve subsets of the API: many serve `GET /models` and chat completions only, and answer 404 for the
files, batches, balance and token-count routes. A group is the unit a target offers or does not (a vendor serves
all of the file operations or none), and each of the contract's operationIds is in exactly one group
(`tests/runner/test_vendor_surface.py` holds the table to the contract).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kimi_conformance.errors import ConfigError

GROUPS: dict[str, tuple[str, ...]] = {
    "models": ("listModels",),
    "chat": ("createChatCompletion",),
    "estimate": ("estimateTokenCount",),
    "files": ("uploadFile", "listFiles", "retrieveFile", "deleteFile", "retrieveFileContent"),
    "batches": ("createBatch", "listBatches", "retrieveBatch", "cancelBatch"),
    "balance": ("getBalance",),
}
"""Group name -> the contract's operationIds in it, in the order reports list the groups."""

SETS: dict[str, tuple[str, ...]] = {
    "chat-only": ("models", "chat"),
    "moonshot-full": tuple(GROUPS),
}
"""Named sets of groups: what a chat-only vendor serves, and everything Moonshot's own API serves."""

MODEL_OPERATIONS = frozenset({"createChatCompletion", "estimateTokenCount"})
"""Operations whose request body names a model: sent only to the run's models (after `--model-family`)."""

_BY_OPERATION = {operation: group for group, operations in GROUPS.items() for operation in operations}


def group_of(operation_id: str) -> str | None:
    """The group of one of the contract's operationIds (None for an operation of no group)."""
    return _BY_OPERATION.get(operation_id)


def groups_of(names: Iterable[str]) -> tuple[str, ...]:
    """Group names, set names or operationIds as the groups they name, each once, in GROUPS order; an unknown
    name is a ConfigError listing the known ones."""
    chosen: set[str] = set()
    for name in names:
        if name in GROUPS:
            chosen.add(name)
        elif name in SETS:
            chosen.update(SETS[name])
        elif name in _BY_OPERATION:
            chosen.add(_BY_OPERATION[name])
        else:
            raise ConfigError(
                f"--operations: unknown name {name!r}; groups: {', '.join(GROUPS)}; sets: {', '.join(SETS)}"
            )
    return tuple(group for group in GROUPS if group in chosen)


def split_names(values: Iterable[str]) -> tuple[str, ...]:
    """`--operations` values, comma-separated or repeated, as single names (blanks dropped)."""
    return tuple(name.strip() for value in values for name in value.split(",") if name.strip())


def parse_operations(values: Iterable[str]) -> tuple[str, ...] | None:
    """The groups `--operations` names (group or set names, comma-separated or repeated), or None when it names
    none: then the run discovers what the target offers. Operation ids are not taken here: a user names groups."""
    names = split_names(values)
    if not names:
        return None
    unknown = [name for name in names if name not in GROUPS and name not in SETS]
    if unknown:
        raise ConfigError(
            f"--operations: unknown name {unknown[0]!r}; groups: {', '.join(GROUPS)}; sets: {', '.join(SETS)}"
        )
    return groups_of(names)


@dataclass(frozen=True, slots=True)
class Surface:
    """The operation groups a run exercises, and why each other group is not: left out by `--operations`, or
    answered 404/405 by the target's operations probe. A suite test that needs a group the surface does not
    offer is skipped with that reason; a group named in `--operations` is always exercised (a 404 there is the
    target's failure)."""

    not_offered: Mapping[str, str] = field(default_factory=dict)
    """Group -> why it is not exercised: `--operations chat-only`, or `GET /files answered 404`."""
    declared: bool = False
    """True when `--operations` named the groups (nothing was probed)."""

    @classmethod
    def declared_by(cls, values: Iterable[str]) -> Surface:
        """What `--operations` says (everything when it names nothing: discovery may narrow it later)."""
        values = tuple(values)
        groups = parse_operations(values)
        if groups is None:
            return cls()
        given = f"--operations {','.join(split_names(values))}"
        return cls({group: given for group in GROUPS if group not in groups}, declared=True)

    def without(self, answers: Mapping[str, str]) -> Surface:
        """This surface less the groups the operations probe found missing (group -> the probe's answer)."""
        return Surface({**self.not_offered, **answers}, self.declared)

    def serves(self, group: str) -> bool:
        return group not in self.not_offered

    def why_not(self, names: Iterable[str]) -> str | None:
        """Why a test needing these groups (or operationIds) cannot run here, or None when all are offered."""
        for group in groups_of(names):
            if group in self.not_offered:
                return f"{group}: not offered ({self.not_offered[group]})"
        return None

    @property
    def exercised(self) -> tuple[str, ...]:
        return tuple(group for group in GROUPS if group not in self.not_offered)

    def line(self) -> str:
        """`2 exercised (models, chat); not offered: files (GET /files answered 404), ...` for the reports."""
        exercised = self.exercised
        line = f"{len(exercised)} exercised ({', '.join(exercised) or 'none'})"
        missing = [f"{group} ({self.not_offered[group]})" for group in GROUPS if group in self.not_offered]
        return line + (f"; not offered: {', '.join(missing)}" if missing else "")

    def as_json(self) -> dict[str, Any]:
        """`exercised` and `not_offered` (group names, as `models` in the reports), and each missing one's reason."""
        missing = [group for group in GROUPS if group in self.not_offered]
        return {
            "exercised": list(self.exercised),
            "not_offered": missing,
            "reasons": {group: self.not_offered[group] for group in missing},
            "declared": self.declared,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Surface:
        reasons = data.get("reasons") or {}
        missing = {str(group): str(reasons.get(group, "")) for group in data.get("not_offered") or ()}
        return cls(missing, bool(data.get("declared")))
