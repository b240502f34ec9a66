"""The mock's text comes from `random.Random` draws made the way `choice` and `randint` make them: the same seed
gives the same text as `rng.choice(_VOCABULARY)` and `rng.randint(6, 12)` gave, and leaves the generator in the same
state (so everything drawn after it is the same too)."""

from __future__ import annotations

import random

from kimi_conformance.mock.generation import _VOCABULARY, _sentences


def sentences_as_written_first(rng: random.Random, words: int) -> str:
    out: list[str] = []
    sentence: list[str] = []
    for _ in range(words):
        sentence.append(rng.choice(_VOCABULARY))
        if len(sentence) >= rng.randint(6, 12):
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


def test_the_same_seed_gives_the_same_text_and_leaves_the_same_state() -> None:
    for seed in range(300):
        words = seed % 45
        ours, theirs = random.Random(f"0:{seed}:digest"), random.Random(f"0:{seed}:digest")
        assert _sentences(ours, words) == sentences_as_written_first(theirs, words)
        assert ours.getstate() == theirs.getstate()
