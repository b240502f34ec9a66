"""`--profile`: how hard a run works. One table for every part of the suite that scales with it."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import Phase


@dataclass(frozen=True, slots=True)
class Examples:
    """How many examples hypothesis draws for one generated test, and in which phases."""

    max_examples: int
    phases: tuple[Phase, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """The examples of each kind of generated test."""

    name: str
    contract: Examples
    """Generated cases per operation and generation mode in the contract suite."""
    rules: Examples
    """Hypothesis examples per sampling rule (and thinking mode) in the rules suite."""
    fidelity: int = 10
    """Tool schemas per model in the tool-call fidelity suite (each sent streamed and not)."""
    coverage: int = 20
    """Cases of schemathesis's coverage phase per operation in the contract suite (boundary values per constraint,
    missing required headers, unsupported methods), taken in turn from each kind so a small number still has every
    kind; the phase alone yields thousands for the chat request."""


_GENERATE = (Phase.explicit, Phase.generate)
PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("quick", Examples(5, _GENERATE), Examples(3, (Phase.generate,)), fidelity=10, coverage=20),
        Profile("standard", Examples(20, _GENERATE), Examples(8, (Phase.generate,)), fidelity=40, coverage=50),
        Profile(
            "thorough",
            Examples(100, (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)),
            Examples(40, (Phase.generate,)),
            fidelity=200,
            coverage=200,
        ),
    )
}
PROFILE_NAMES = tuple(PROFILES)
RULE_EXAMPLES = {name: profile.rules.max_examples for name, profile in PROFILES.items()}
"""Examples per sampling rule, by profile name (a view of `PROFILES`)."""
FIDELITY_SCHEMAS = {name: profile.fidelity for name, profile in PROFILES.items()}
"""Tool schemas per model in the fidelity suite, by profile name (a view of `PROFILES`)."""
