"""A loaded classifier and the decisions it drives.

The booster is wrapped so that the rest of the code never touches XGBoost directly: prediction
goes through ``inplace_predict`` (no DMatrix copy), and the expensive exact contributions
(``pred_contribs``, hundreds of times the cost of a prediction) are computed only for the rows
that are actioned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xgboost as xgb

from tasks.accounts.signals import DetectionPoint
from tasks.scoring.features import FEATURES

DECISIONS = ("allow", "review", "restrict", "ban")
ACTIONED = frozenset({"review", "restrict", "ban"})
TOP_REASONS = 5


@dataclass(frozen=True)
class StageThresholds:
    """Scores at or above each bound get that decision; the highest bound met wins."""

    review: float
    restrict: float
    ban: float

    def decide(self, scores: npt.NDArray[np.float32]) -> list[str]:
        # Compare in float32, the precision the scores come in, so a bound equal to a score
        # means "at or above" exactly.
        bounds = np.array([self.review, self.restrict, self.ban], dtype=np.float32)
        codes = (
            (scores >= bounds[0]).astype(np.int8)
            + (scores >= bounds[1]).astype(np.int8)
            + (scores >= bounds[2]).astype(np.int8)
        )
        return [DECISIONS[c] for c in codes.tolist()]


@dataclass(frozen=True)
class Scorer:
    version: str
    booster: xgb.Booster
    thresholds: Mapping[DetectionPoint, StageThresholds]

    @classmethod
    def load(cls, version: str, path: Path, card: Mapping[str, Any], threads: int) -> Scorer:
        booster = xgb.Booster()
        booster.load_model(str(path))
        booster.set_param({"nthread": threads})
        if booster.feature_names and tuple(booster.feature_names) != FEATURES:
            raise ValueError(
                f"model {version} was trained on other features than this code builds; "
                "retrain it or run the code version it was trained with"
            )
        thresholds = {
            DetectionPoint(stage): StageThresholds(**bounds)
            for stage, bounds in card["thresholds"].items()
        }
        return cls(version=version, booster=booster, thresholds=thresholds)

    def predict(self, features: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if len(features) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(
            self.booster.inplace_predict(features, validate_features=False), dtype=np.float32
        )

    def decide(self, stage: DetectionPoint, scores: npt.NDArray[np.float32]) -> list[str]:
        return self.thresholds[stage].decide(scores)

    def reasons(self, features: npt.NDArray[np.float32]) -> list[list[dict[str, Any]]]:
        """Top feature contributions (log-odds) per row, largest push toward abuse first."""
        if len(features) == 0:
            return []
        contribs = self.booster.predict(
            xgb.DMatrix(features, feature_names=list(FEATURES)), pred_contribs=True
        )[:, :-1]  # the last column is the bias
        out = []
        for row, values in zip(contribs, features, strict=True):
            top = [i for i in np.argsort(-row)[:TOP_REASONS] if round(float(row[i]), 4) > 0]
            out.append(
                [
                    {
                        "feature": FEATURES[i],
                        "value": None if np.isnan(values[i]) else round(float(values[i]), 4),
                        "contribution": round(float(row[i]), 4),
                    }
                    for i in top
                ]
            )
        return out
