"""Whether a candidate account model may take over from the active one.

Both models score the same held-out data (the simulator at a seed no training run uses, or a
labelled history file the operator names), and per detection point the candidate must:

- not lose more than ``roc_auc_drop`` of ROC-AUC against the active model;
- keep every open band at its precision target (nested, as the targets are set: a band and the
  bands above it), unless its precision is below the target only by chance: the band misses when
  even the upper one-sided 95% Wilson bound of its precision is under the target;
- keep each benign population's share restricted or worse, and its share sent to review or
  worse, under the caps its card was certified for, by the same reading (the lower bound of the
  share above the cap); only where the data names populations;
- score the traffic much as the active model does: the population stability index of its scores
  against the active model's, on the same records, at most ``score_psi``.

A model's own card was measured on its own test split; comparing two cards from different data
says little, so the figures here are always both models on one set of records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

from tasks.accounts.signals import DetectionPoint
from tasks.offline.dataset import Dataset, build_dataset, labelled_dataset
from tasks.offline.labelled import LabelledRecord
from tasks.offline.simulate_accounts import POPULATION_BY_NAME, simulate
from tasks.offline.thresholds import PRECISION_TARGETS, ReviewBudget, wilson_lower_bound
from tasks.scoring import stability
from tasks.scoring.model import Scorer

# The held-out world: a seed no documented training run uses, large enough that the ban band of
# every stage holds some hundreds of abusers.
GATE_SEED = 20_191_207
GATE_ACCOUNTS = 8_000
BENIGN = frozenset(name for name, p in POPULATION_BY_NAME.items() if not p.abusive)


@dataclass(frozen=True)
class Tolerances:
    """How much worse than the active model a candidate may be."""

    roc_auc_drop: float = 0.01
    score_psi: float = stability.PSI_ALERT


@dataclass(frozen=True)
class HeldOut:
    """Records both models score: features, true labels, stages, populations where known."""

    data: Dataset
    description: str


@dataclass(frozen=True)
class Check:
    stage: str
    what: str
    candidate: float | None
    active: float | None
    bar: str
    passed: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "what": self.what,
            "candidate": self.candidate,
            "active": self.active,
            "bar": self.bar,
            "passed": self.passed,
        }


@dataclass
class GateReport:
    candidate: str
    active: str | None
    held_out: str
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        """What the audit record keeps: the data, the verdict and the checks that failed."""
        return {
            "candidate": self.candidate,
            "active": self.active,
            "held_out": self.held_out,
            "passed": self.passed,
            "failed": [c.as_json() for c in self.failed],
        }


def card_budget(card: Mapping[str, Any]) -> ReviewBudget | None:
    """The caps a model was certified under, as its card states them; None for a model whose
    thresholds were set on labelled history, which names no populations and so promised none."""
    if card.get("data", {}).get("source") == "labelled file":
        return None
    stated = card.get("review_budget") or {}
    known = {f.name for f in fields(ReviewBudget)}
    return ReviewBudget(**{k: v for k, v in stated.items() if k in known})


def simulated_held_out(accounts: int = GATE_ACCOUNTS, seed: int = GATE_SEED) -> HeldOut:
    """The simulator's world at its defaults, at a seed apart from training's."""
    data = build_dataset(simulate(accounts, seed, stages="all"), seed)
    return HeldOut(data, f"{accounts} simulated accounts (seed {seed}), true labels")


def labelled_held_out(records: Sequence[LabelledRecord], name: str) -> HeldOut:
    """A labelled history file, replayed as training replays it."""
    return HeldOut(labelled_dataset(records), f"{len(records)} labelled records from {name}")


def compare(
    candidate: Scorer,
    active: Scorer | None,
    held_out: HeldOut,
    *,
    budget: ReviewBudget | None,
    tolerances: Tolerances | None = None,
) -> GateReport:
    """Every check, per detection point, of ``candidate`` (beside ``active``, if any); the
    benign caps of ``budget`` where the data names populations (none without a budget)."""
    tolerances = tolerances or Tolerances()
    data = held_out.data
    report = GateReport(candidate.version, active.version if active else None, held_out.description)
    ours = candidate.predict(data.features)
    theirs = active.predict(data.features) if active else None
    pops = np.array([p or "" for p in data.populations])
    for code, stage in enumerate(DetectionPoint):
        rows = np.nonzero(data.stages == code)[0]
        labels = data.true_labels[rows]
        if len(np.unique(labels)) < 2:
            continue  # nothing to tell apart at this stage in this data
        mine = ours[rows]
        other = theirs[rows] if theirs is not None else None
        report.checks.append(_roc_auc(stage.value, labels, mine, other, tolerances))
        report.checks += _precisions(stage.value, labels, mine, candidate, stage)
        if budget is not None:
            bounds = candidate.thresholds[stage]
            for what, flagged, cap_of in (
                ("restricted or worse", mine >= bounds.restrict, budget.cap),
                ("review or worse", mine >= bounds.review, budget.review_cap),
            ):
                report.checks += _caps(
                    stage.value,
                    what,
                    flagged,
                    pops[rows],
                    cap_of,
                    min_rows=budget.min_population_rows,
                )
        if other is not None:
            drift = stability.psi(stability.distribution(other), mine)
            report.checks.append(
                Check(
                    stage.value,
                    "score PSI against active",
                    drift,
                    None,
                    f"<= {tolerances.score_psi}",
                    drift <= tolerances.score_psi,
                )
            )
    return report


def _roc_auc(
    stage: str,
    labels: npt.NDArray[np.int8],
    mine: npt.NDArray[np.float32],
    other: npt.NDArray[np.float32] | None,
    tolerances: Tolerances,
) -> Check:
    ours = round(float(roc_auc_score(labels, mine)), 5)
    if other is None:
        return Check(stage, "ROC-AUC", ours, None, "no active model", True)
    theirs = round(float(roc_auc_score(labels, other)), 5)
    bar = round(theirs - tolerances.roc_auc_drop, 5)
    return Check(stage, "ROC-AUC", ours, theirs, f">= {bar}", ours >= bar)


def _precisions(
    stage: str,
    labels: npt.NDArray[np.int8],
    mine: npt.NDArray[np.float32],
    candidate: Scorer,
    point: DetectionPoint,
) -> list[Check]:
    bounds = candidate.thresholds[point]
    checks = []
    for band, target in PRECISION_TARGETS.items():
        flagged = mine >= np.float32(getattr(bounds, band))
        n = int(flagged.sum())
        if n == 0:
            continue  # a closed band (or one nothing reaches) promises nothing
        tp = int((flagged & (labels == 1)).sum())
        upper = _upper_bound(n - tp, n)
        checks.append(
            Check(
                stage,
                f"{band} precision ({n} flagged)",
                round(tp / n, 5),
                None,
                f">= {target} (upper 95% bound {upper:.4f})",
                upper >= target,
            )
        )
    return checks


def _caps(
    stage: str,
    what: str,
    flagged: npt.NDArray[np.bool_],
    populations: npt.NDArray[np.str_],
    cap_of: Callable[[str], float],
    *,
    min_rows: int,
) -> list[Check]:
    checks = []
    for name in sorted(BENIGN):
        mask = populations == name
        n = int(mask.sum())
        if n < min_rows:
            continue
        hits = int((flagged & mask).sum())
        lower = float(wilson_lower_bound(np.array([hits]), np.array([n]))[0])
        cap = cap_of(name)
        checks.append(
            Check(
                stage,
                f"{name} {what} ({n} rows)",
                round(hits / n, 5),
                None,
                f"<= {cap} (lower 95% bound {lower:.4f})",
                lower <= cap,
            )
        )
    return checks


def _upper_bound(misses: int, trials: int) -> float:
    """The upper one-sided 95% Wilson bound of a success rate with ``misses`` failures."""
    return 1.0 - float(wilson_lower_bound(np.array([misses]), np.array([trials]))[0])
