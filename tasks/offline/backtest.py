"""Backtests: a model version scored on labelled history, band by band, and two versions
compared on the same records.

The records go through ``score_in_order``, the offline path that shares the workers' scoring
code. A band flags a record when its decision is that band or a stronger one, as the bands nest:
what the ban band catches, the review band catches too. A band that flags nothing has no
precision (None, printed "n/a"): it made no claim to be right about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tasks.offline.labelled import LabelledRecord
from tasks.offline.score_file import score_in_order
from tasks.scoring.model import DECISIONS, Scorer

BANDS = ("review", "restrict", "ban")


@dataclass
class Backtest:
    version: str
    # stage -> band -> figures (precision None where the band flagged nothing)
    stages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    decisions: list[str] = field(default_factory=list)  # per record, in record order

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "stages": self.stages}


def backtest(records: Sequence[LabelledRecord], scorer: Scorer) -> Backtest:
    """Precision, recall and volume of each band at each detection point on ``records``."""
    results = list(score_in_order(records, scorer, explain=False))
    found = Backtest(scorer.version, decisions=[r["decision"] for r in results])
    by_stage: dict[str, list[tuple[int, bool]]] = {}
    for record, result in zip(records, results, strict=True):
        by_stage.setdefault(result["stage"], []).append(
            (DECISIONS.index(result["decision"]), bool(record.label))
        )
    for stage, rows in sorted(by_stage.items()):
        positives = sum(label for _, label in rows)
        figures: dict[str, dict[str, Any]] = {}
        for band in BANDS:
            level = DECISIONS.index(band)
            flagged = [label for decided, label in rows if decided >= level]
            caught = sum(flagged)
            figures[band] = {
                "flagged": len(flagged),
                "share": round(len(flagged) / len(rows), 6),
                "precision": round(caught / len(flagged), 5) if flagged else None,
                "recall": round(caught / positives, 5) if positives else 0.0,
            }
        figures["all"] = {"records": len(rows), "abusive": positives}
        found.stages[stage] = figures
    return found


def disagreements(
    records: Sequence[LabelledRecord], first: Backtest, second: Backtest, limit: int = 50
) -> dict[str, Any]:
    """Where two versions decided the same records differently: counts by pair, and a sample."""
    pairs: dict[tuple[str, str], int] = {}
    sample: list[dict[str, Any]] = []
    for record, a, b in zip(records, first.decisions, second.decisions, strict=True):
        if a == b:
            continue
        pairs[(a, b)] = pairs.get((a, b), 0) + 1
        if len(sample) < limit:
            sample.append(
                {
                    "account_id": record.account_id,
                    "stage": record.stage.value,
                    "label": record.label,
                    first.version: a,
                    second.version: b,
                }
            )
    return {
        "records": len(records),
        "differ": sum(pairs.values()),
        "pairs": [
            {first.version: a, second.version: b, "records": n}
            for (a, b), n in sorted(pairs.items())
        ],
        "sample": sample,
    }
