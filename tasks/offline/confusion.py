"""Where a model's decisions land, by simulated population and by the habit or evasion tactic
that makes an account hard: the table of the errors that remain."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from tasks.accounts.signals import DetectionPoint
from tasks.scoring.model import DECISIONS, StageThresholds

ALL = "all"


def confusion_table(
    scores: npt.NDArray[np.float32],
    stages: npt.NDArray[np.int8],
    populations: list[str | None],
    tactics: list[tuple[str, ...]],
    *,
    abusive: dict[str, bool],
    thresholds: dict[str, dict[str, float]],
) -> list[dict[str, Any]]:
    """Per stage and population (a row for all its rows, then one per tactic; a row with
    several tactics counts under each): how many rows each decision took, at the stage's
    thresholds.
    For an abusive population ``allow`` is the missed; for a benign one every other column is
    a false positive."""
    points = list(DetectionPoint)
    decided = np.empty(len(scores), dtype=object)
    for code, point in enumerate(points):
        rows = np.nonzero(stages == code)[0]
        if len(rows):
            bounds = StageThresholds(**thresholds[point.value])
            decided[rows] = bounds.decide(scores[rows])
    counts: dict[tuple[str, str, str], dict[str, int]] = {}
    for code, population, named, decision in zip(
        stages.tolist(), populations, tactics, decided, strict=True
    ):
        if population is None:
            continue
        for tactic in (ALL, *named):
            key = (points[code].value, population, tactic)
            cell = counts.setdefault(key, dict.fromkeys(DECISIONS, 0))
            cell[decision] += 1
    table = []
    for (stage, population, tactic), cell in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        n = sum(cell.values())
        wrong = cell["allow"] if abusive[population] else n - cell["allow"]
        table.append(
            {
                "stage": stage,
                "population": population,
                "tactic": tactic,
                "abusive": abusive[population],
                "rows": n,
                **cell,
                "error_rate": round(wrong / n, 5),
            }
        )
    return table


def _order(key: tuple[str, str, str]) -> tuple[int, str, int, str]:
    stage, population, tactic = key
    return (_STAGE_ORDER[stage], population, 0 if tactic == ALL else 1, tactic)


_STAGE_ORDER = {point.value: i for i, point in enumerate(DetectionPoint)}
