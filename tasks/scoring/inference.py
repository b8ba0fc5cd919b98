"""Scoring one batch: validation, features, prediction, decisions and reasons.

Used unchanged by the ``scoring.score_accounts`` task and by ``bulkguard score`` (offline
backtests), so a file scored offline is decided exactly as the workers would decide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.scoring.features import feature_matrix
from tasks.scoring.laps import Lap, no_lap
from tasks.scoring.model import ACTIONED, Scorer


@dataclass
class ModelDecisions:
    version: str
    shadow: bool
    scores: npt.NDArray[np.float32]
    decisions: list[str]
    # Reasons per record index, only for actioned records of the acting model.
    reasons: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class ScoredBatch:
    point: DetectionPoint
    records: list[AccountSignals]
    features: npt.NDArray[np.float32]
    results: list[ModelDecisions]

    @property
    def acting(self) -> ModelDecisions:
        return self.results[0]


def score_records(
    stage: DetectionPoint,
    records: Sequence[AccountSignals],
    active: Scorer,
    shadow: Scorer | None,
    neighbours: NeighbourStore,
    *,
    explain: bool,
    lap: Lap = no_lap,
) -> ScoredBatch:
    """Score a batch; with ``explain``, also compute the reasons of actioned records (offline
    tools do; the workers leave that to enforcement, off the scoring path)."""
    features = feature_matrix(records, stage, neighbours, lap)
    results = [_decide(active, stage, features, shadow=False, explain=explain)]
    if shadow is not None:
        # A shadow model scores the same rows; its decisions are stored, never acted on.
        results.append(_decide(shadow, stage, features, shadow=True, explain=False))
    lap("predict_and_decide")
    return ScoredBatch(point=stage, records=list(records), features=features, results=results)


def _decide(
    scorer: Scorer,
    stage: DetectionPoint,
    features: npt.NDArray[np.float32],
    *,
    shadow: bool,
    explain: bool,
) -> ModelDecisions:
    scores = scorer.predict(features)
    decisions = scorer.decide(stage, scores)
    out = ModelDecisions(scorer.version, shadow, scores, decisions)
    if explain:
        actioned = [i for i, d in enumerate(decisions) if d in ACTIONED]
        if actioned:
            out.reasons = dict(zip(actioned, scorer.reasons(features[actioned]), strict=True))
    return out
