"""Score thresholds that keep a precision promise, and what a band does on held-out rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# An automatic ban must be right at least this often; restriction and review are softer bands.
PRECISION_TARGETS = {"ban": 0.995, "restrict": 0.97, "review": 0.80}


def threshold_for_precision(
    labels: npt.NDArray[np.int8], scores: npt.NDArray[np.float32], target: float
) -> float:
    """The lowest score whose band above it reaches ``target`` precision with confidence.

    Precision measured on a few hundred validation rows is noisy, so the band must clear the
    target by the lower one-sided 95% Wilson bound, not by its point estimate: a threshold that
    merely hits 99.5% on validation lands below it on new data about half the time.
    """
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    tp = np.cumsum(labels[order] == 1)
    n = np.arange(1, len(order) + 1)
    # Only cut between distinct scores: all rows with the same score share a decision.
    last_of_score = np.append(sorted_scores[1:] != sorted_scores[:-1], True)
    lower = wilson_lower_bound(tp, n)
    meets = np.nonzero(last_of_score & (lower >= target))[0]
    if len(meets) == 0:
        return 1.0
    return float(sorted_scores[meets[-1]])


def wilson_lower_bound(
    successes: npt.NDArray[np.int64], trials: npt.NDArray[np.int64], z: float = 1.645
) -> npt.NDArray[np.float64]:
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    margin = z * np.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return np.asarray((centre - margin) / (1 + z2 / trials), dtype=np.float64)


def band_metrics(
    labels: npt.NDArray[np.int8], scores: npt.NDArray[np.float32], threshold: float
) -> dict[str, float]:
    flagged = scores >= threshold
    tp = int((flagged & (labels == 1)).sum())
    fp = int((flagged & (labels == 0)).sum())
    positives = int((labels == 1).sum())
    negatives = int((labels == 0).sum())
    return {
        "threshold": round(threshold, 6),
        "precision": round(tp / (tp + fp), 5) if tp + fp else 1.0,
        "recall": round(tp / positives, 5) if positives else 0.0,
        "false_positive_rate": round(fp / negatives, 6) if negatives else 0.0,
        "flagged": int(flagged.sum()),
    }


@dataclass(frozen=True)
class ReviewBudget:
    """What people can review, and what ordinary people may be put through.

    ``share``: at most this share of a stage's scored accounts a day lands in the review band
    (the cases people decide). ``traffic_per_day``: the traffic level the card states daily
    volumes at. Two caps per benign population, where the data names populations (simulated
    training; labelled history is held to the budget alone):

    - ``casual_cap`` and ``lookalike_cap``: at most these shares of casual users and of any
      benign look-alike population (heavy users, small businesses, community admins, people
      announcing a new number, announcers, election volunteers) are restricted or banned, the
      actions that cut an account off its people;
    - ``casual_review_cap`` and ``lookalike_review_cap``: at most these shares reach review or
      worse. A case in review costs the account nothing (it keeps its standing until a person
      decides) but puts its traffic before a reviewer, so it is capped too, more loosely.
    """

    share: float = 0.01
    traffic_per_day: int = 1_000_000
    casual_cap: float = 0.005
    lookalike_cap: float = 0.02
    casual_review_cap: float = 0.01
    lookalike_review_cap: float = 0.05
    # A population with fewer validation rows than this at a stage cannot be measured to a cap.
    min_population_rows: int = 100

    def cap(self, population: str) -> float:
        """The most of ``population`` that may be restricted or banned."""
        return self.casual_cap if population == "casual" else self.lookalike_cap

    def review_cap(self, population: str) -> float:
        """The most of ``population`` that may reach review or worse."""
        return self.casual_review_cap if population == "casual" else self.lookalike_review_cap


def threshold_for_share(
    scores: npt.NDArray[np.float32], share: float, *, confident: bool = False
) -> float:
    """The lowest score at which at most ``share`` of ``scores`` are at or above it (ties
    share a decision, so the cut is between distinct scores). ``confident``: the share's upper
    one-sided 95% Wilson bound must stay within ``share``, so that a cap met on a validation
    sample holds on new data too, as the precision targets do."""
    if len(scores) == 0:
        return 0.0
    ordered = np.sort(scores)[::-1]
    allowed = int(np.floor(share * len(ordered)))
    if confident and allowed > 0:
        counts = np.arange(allowed + 1, dtype=np.int64)
        n = np.full_like(counts, len(ordered))
        upper = 1 - wilson_lower_bound(n - counts, n)
        allowed = int(counts[upper <= share].max(initial=0))
    if allowed >= len(ordered):
        return float(ordered[-1])
    # Everything strictly above the (allowed+1)-th highest score fits the share.
    return float(np.nextafter(ordered[allowed], np.float32(np.inf)))


def choose_bands(
    labels: npt.NDArray[np.int8],
    scores: npt.NDArray[np.float32],
    populations: npt.NDArray[np.str_],
    benign_populations: frozenset[str],
    budget: ReviewBudget,
) -> tuple[dict[str, float], list[str]]:
    """One stage's thresholds from its validation rows: the precision targets first; then, for
    every benign population with enough rows, the restrict band raised until the population's
    share restricted or banned is within its cap and the review band raised until its share at
    review or worse is within its review cap; the review band under the budget; and a band that
    adds no recall over the band above it closed (its threshold set to that band's). Returns the
    thresholds and why each moved."""
    bounds = {
        band: threshold_for_precision(labels, scores, target)
        for band, target in PRECISION_TARGETS.items()
    }
    bounds["restrict"] = max(bounds["restrict"], bounds["review"])
    bounds["ban"] = max(bounds["ban"], bounds["restrict"])
    notes: list[str] = []
    for name in sorted(benign_populations):
        rows = scores[populations == name]
        if len(rows) < budget.min_population_rows:
            continue
        for band, cap in (("restrict", budget.cap(name)), ("review", budget.review_cap(name))):
            capped = threshold_for_share(rows, cap, confident=True)
            if capped > bounds[band]:
                notes.append(f"{band} raised to {capped:.4f}: {name} {band} cap {cap:.1%}")
                bounds[band] = capped
    bounds["restrict"] = max(bounds["restrict"], bounds["review"])
    bounds["ban"] = max(bounds["ban"], bounds["restrict"])
    within_budget = _review_within_budget(scores, bounds["restrict"], budget.share)
    if within_budget > bounds["review"]:
        bounds["review"] = within_budget
        notes.append(f"review raised to {bounds['review']:.4f}: budget {budget.share:.1%}")
    for band, above in (("restrict", "ban"), ("review", "restrict")):
        if bounds[band] < bounds[above] and _recall(labels, scores, bounds[band]) <= _recall(
            labels, scores, bounds[above]
        ):
            notes.append(f"{band} closed: no recall over {above}")
            bounds[band] = bounds[above]
    return bounds, notes


def _review_within_budget(scores: npt.NDArray[np.float32], restrict: float, share: float) -> float:
    """The lowest review threshold whose band (up to ``restrict``) holds at most ``share`` of
    all ``scores`` by the upper one-sided 95% Wilson bound: like the caps, a budget met on the
    validation sample must hold on new traffic, where the band's share varies."""
    below = np.sort(scores[scores < restrict])[::-1]
    n = len(scores)
    counts = np.arange(min(len(below), int(np.floor(share * n))) + 1, dtype=np.int64)
    upper = 1 - wilson_lower_bound(n - counts, np.full_like(counts, n))
    allowed = int(counts[upper <= share].max(initial=0))
    if allowed >= len(below):
        return float(below[-1]) if len(below) else restrict
    # Everything strictly above the (allowed+1)-th highest score below restrict fits.
    return float(np.nextafter(below[allowed], np.float32(np.inf)))


def _recall(labels: npt.NDArray[np.int8], scores: npt.NDArray[np.float32], bound: float) -> float:
    positives = int((labels == 1).sum())
    return int(((scores >= bound) & (labels == 1)).sum()) / positives if positives else 0.0


def band_volumes(
    scores: npt.NDArray[np.float32], bounds: dict[str, float], traffic_per_day: int
) -> dict[str, dict[str, float]]:
    """Each band's share of a stage's accounts (bands exclusive: a banned account is not also
    counted as restricted) and the expected count a day at ``traffic_per_day``."""
    edges = (
        ("ban", bounds["ban"], np.inf),
        ("restrict", bounds["restrict"], bounds["ban"]),
        ("review", bounds["review"], bounds["restrict"]),
    )
    out = {}
    for band, low, high in edges:
        share = float(((scores >= low) & (scores < high)).mean()) if len(scores) else 0.0
        out[band] = {"share": round(share, 6), "per_day": round(share * traffic_per_day)}
    return out
