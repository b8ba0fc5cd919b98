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
    """Per population (a row for all its rows, then one per tactic; a row with several tactics
    counts under each): how many rows each decision took, at each row's stage's thresholds.
    For an abusive population ``allow`` is the missed; for a benign one every other column is
    a false positive."""
    points = list(DetectionPoint)
    decided = np.empty(len(scores), dtype=object)
    for code, point in enumerate(points):
        rows = np.nonzero(stages == code)[0]
        if len(rows):
            bounds = StageThresholds(**thresholds[point.value])
            decided[rows] = bounds.decide(scores[rows])
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for population, named, decision in zip(populations, tactics, decided, strict=True):
        if population is None:
            continue
        for tactic in (ALL, *named):
            cell = counts.setdefault((population, tactic), dict.fromkeys(DECISIONS, 0))
            cell[decision] += 1
    table = []
    for (population, tactic), cell in sorted(counts.items(), key=lambda kv: _order(kv[0])):
        n = sum(cell.values())
        wrong = cell["allow"] if abusive[population] else n - cell["allow"]
        table.append(
            {
                "population": population,
                "tactic": tactic,
                "abusive": abusive[population],
                "rows": n,
                **cell,
                "error_rate": round(wrong / n, 5),
            }
        )
    return table


def _order(key: tuple[str, str]) -> tuple[str, int, str]:
    population, tactic = key
    return (population, 0 if tactic == ALL else 1, tactic)
