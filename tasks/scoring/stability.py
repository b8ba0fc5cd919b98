"""Drift: how far live traffic has moved from what a model learned on, by the population
stability index (PSI) of its scores and of each signal feature, per detection point.

A model's card keeps a reference per stage: decile cut points of each distribution on its
training data and the share of rows in each bin (plus the share missing). Live values are put
in the same bins; PSI = sum((live - ref) * ln(live / ref)). By the usual reading, under 0.1 the
population is stable, 0.1 to 0.25 it has moved enough to watch, above 0.25 the model is scoring
a population it was not trained on: retrain, or recheck its thresholds with a backtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tasks.accounts.signals import DetectionPoint
from tasks.scoring.features import SIGNAL_FEATURES

PSI_WATCH = 0.1
PSI_ALERT = 0.25
# Shares below this are floored, so an empty bin does not make the index infinite.
FLOOR = 1e-4
# "stage" is constant within a stage: the drift of the other signal features is measured.
MEASURED = SIGNAL_FEATURES[1:]

Level = Literal["ok", "watch", "alert"]


def distribution(values: npt.NDArray[np.floating[Any]]) -> dict[str, Any]:
    """Decile cut points of the finite ``values``, the share of values in each bin, and the
    share missing (NaN: a block the record did not carry)."""
    finite = values[np.isfinite(values)]
    edges: npt.NDArray[np.float64] = (
        np.unique(np.quantile(finite, np.linspace(0.1, 0.9, 9)))
        if len(finite)
        else np.zeros(0, dtype=np.float64)
    )
    counts = _bin_counts(edges, finite)
    total = max(len(values), 1)
    return {
        "edges": [round(float(e), 6) for e in edges],
        "shares": [round(float(c) / total, 6) for c in counts],
        "missing": round((len(values) - len(finite)) / total, 6),
    }


def psi(reference: dict[str, Any], values: npt.NDArray[np.floating[Any]]) -> float:
    """The population stability index of ``values`` against a ``distribution``."""
    if len(values) == 0:
        return 0.0
    edges = np.asarray(reference["edges"], dtype=np.float64)
    expected = np.array([*reference["shares"], reference["missing"]], dtype=np.float64)
    finite = values[np.isfinite(values)]
    actual = np.append(_bin_counts(edges, finite), len(values) - len(finite)) / len(values)
    e, a = np.maximum(expected, FLOOR), np.maximum(actual, FLOOR)
    return round(float(np.sum((a - e) * np.log(a / e))), 5)


def _bin_counts(edges: npt.NDArray[np.float64], finite: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.bincount(np.searchsorted(edges, finite, side="right"), minlength=len(edges) + 1)


def reference(
    signals: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    stages: npt.NDArray[np.int8],
) -> dict[str, Any]:
    """Per stage, the reference distributions of the scores and of each measured signal
    feature (``signals``: rows of ``SIGNAL_FEATURES``), for a model card."""
    out: dict[str, Any] = {}
    for code, point in enumerate(DetectionPoint):
        rows = stages == code
        if not rows.any():
            continue
        out[point.value] = {
            "rows": int(rows.sum()),
            "score": distribution(scores[rows].astype(np.float64)),
            "features": {
                name: distribution(signals[rows, i + 1].astype(np.float64))
                for i, name in enumerate(MEASURED)
            },
        }
    return out


@dataclass(frozen=True)
class Drift:
    records: int
    score_psi: float
    features: dict[str, float]

    @property
    def worst_feature(self) -> tuple[str, float]:
        name = max(self.features, key=lambda n: self.features[n])
        return name, self.features[name]

    @property
    def level(self) -> Level:
        return level(max(self.score_psi, self.worst_feature[1]))


def level(value: float) -> Level:
    return "alert" if value > PSI_ALERT else "watch" if value > PSI_WATCH else "ok"


def measure(
    stage_reference: dict[str, Any],
    signals: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
) -> Drift:
    """Live ``signals`` (rows of ``SIGNAL_FEATURES``) and ``scores`` of one stage against the
    stage's reference."""
    return Drift(
        records=len(scores),
        score_psi=psi(stage_reference["score"], scores.astype(np.float64)),
        features={
            name: psi(stage_reference["features"][name], signals[:, i + 1].astype(np.float64))
            for i, name in enumerate(MEASURED)
        },
    )
