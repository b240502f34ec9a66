"""KVV's stream-spec (verifiers §5, known second-hand: [O]): what of it our checks hold, and the checks it adds.

`cases.py` maps every case §5 lists, in its order, to the codes that hold it (or to none, saying why):
`KVV_STREAM_SPEC`, which docs/checks.md shows as a table. `checks.py` registers the checks §5 adds
(CHNK015-CHNK024), each a warning: where §5 repeats a [D] or [S] fact, an existing check holds it as an error.
"""

from __future__ import annotations

from kimi_conformance.checks.stream_spec import checks  # noqa: F401  (registration)
from kimi_conformance.checks.stream_spec.cases import KVV_STREAM_SPEC, SpecCase

__all__ = ["KVV_STREAM_SPEC", "SpecCase"]
