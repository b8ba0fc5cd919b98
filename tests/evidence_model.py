"""A small evidence model for the tests: trained once per process on part of the bundled corpus
(one writer's pages and the evaluation set), in a few seconds, as ``bulkguard evidence train``
trains on all of it."""

from __future__ import annotations

from functools import cache

from tasks.evidence.reading.claim_model import ClaimModel
from tasks.offline.evidence_documents import LabelledDocument, bundled_files
from tasks.offline.evidence_training import TrainingSettings, prepare, train


def small_set() -> list[LabelledDocument]:
    files = [f for f in bundled_files() if f.name.startswith(("wa-", "evidence-eval"))]
    return [d for f in files for d in f.documents]


@cache
def small_model() -> ClaimModel:
    model, _ = train(prepare(small_set()), TrainingSettings())
    return model
