"""Which generation modes the contract suite runs each operation in: positive always, negative wherever there is
a body or a query parameter to break, parameters declared as `$ref`s included (listBatches had none before)."""

from __future__ import annotations

from kimi_conformance.runner.schemathesis_bridge import generation_modes

EXPECTED = {
    "createChatCompletion": ("positive", "negative"),
    "listModels": ("positive",),
    "uploadFile": ("positive", "negative"),
    "listFiles": ("positive",),
    "retrieveFile": ("positive",),
    "deleteFile": ("positive",),
    "retrieveFileContent": ("positive",),
    "estimateTokenCount": ("positive", "negative"),
    "getBalance": ("positive",),
    "createBatch": ("positive", "negative"),
    "listBatches": ("positive", "negative"),
    "retrieveBatch": ("positive",),
    "cancelBatch": ("positive",),
}


def test_each_operation_runs_in_the_modes_its_request_allows() -> None:
    assert generation_modes() == EXPECTED
