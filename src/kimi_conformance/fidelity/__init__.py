"""Tool-call fidelity, measured as Moonshot's K2 Vendor Verifier measures it (verifiers §1): a corpus of MFJS tool
schemas (`corpus`: the hand-written ones of `handwritten` and those hypothesis draws in `generated`, each held to
`mfjs`), each answer classified (`classify`), counted per model into K2VV's `schema_accuracy` and the count per
class (`tally`), and the `--min-schema-accuracy` gate."""

from __future__ import annotations

from kimi_conformance.fidelity.classify import CLASSES, Answer, classify
from kimi_conformance.fidelity.corpus import ToolCase, corpus
from kimi_conformance.fidelity.generated import tool_schemas
from kimi_conformance.fidelity.handwritten import DECOY, REALISTIC
from kimi_conformance.fidelity.mfjs import mfjs_problems
from kimi_conformance.fidelity.tally import FidelityTally, below_gate, percent

__all__ = [
    "CLASSES",
    "DECOY",
    "REALISTIC",
    "Answer",
    "FidelityTally",
    "ToolCase",
    "below_gate",
    "classify",
    "corpus",
    "mfjs_problems",
    "percent",
    "tool_schemas",
]
