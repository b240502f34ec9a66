"""The tokenizer's word-by-word count is the count of its pattern's matches over the whole text, for any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_conformance.tokenizer import _PIECE, count_text, prefix_with_tokens

mixed = st.text(st.characters(codec="utf-8") | st.sampled_from(list(" \t\n\x1c\x1f\u00a0\u3000_.,é中")), max_size=80)


@settings(max_examples=500, deadline=None)
@given(text=mixed)
def test_the_count_is_the_patterns_matches(text: str) -> None:
    assert count_text(text) == len(_PIECE.findall(text))


@settings(max_examples=200, deadline=None)
@given(text=mixed, tokens=st.integers(0, 40))
def test_a_prefix_holds_at_most_its_tokens(text: str, tokens: int) -> None:
    prefix = prefix_with_tokens(text, tokens)
    assert text.startswith(prefix) and count_text(prefix) <= tokens


def test_words_of_letters_count_one_per_four_characters() -> None:
    assert [count_text(t) for t in ("", "  ", "abcd", "abcde", "Hello, Kimi!", "snake_case x1")] == [0, 0, 1, 2, 5, 4]
