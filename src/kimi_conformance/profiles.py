"""`--profile`: how hard a run works. One table for every part of the suite that scales with it."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import Phase


@dataclass(frozen=True, slots=True)
class Profile:
    """How many examples hypothesis draws, and in which phases, for each kind of generated test."""

    name: str
    contract_examples: int
    """Generated cases per operation and generation mode in the contract suite."""
    contract_phases: tuple[Phase, ...]
    rule_examples: int
    """Hypothesis examples per sampling rule (and thinking mode) in the rules suite."""


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("quick", 5, (Phase.explicit, Phase.generate), 3),
        Profile("standard", 20, (Phase.explicit, Phase.generate), 8),
        Profile("thorough", 100, (Phase.explicit, Phase.reuse, Phase.generate, Phase.target), 40),
    )
}
PROFILE_NAMES = tuple(PROFILES)
