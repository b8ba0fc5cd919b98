"""Bands sized to people: precision targets, then benign populations' caps and the review
budget, and no band that adds nothing; and a simulator hard enough that recall falls short."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from infra.registry import read_card
from tasks.accounts.signals import DetectionPoint
from tasks.enforcement.policy import Candidate, plan, signals_of
from tasks.enforcement.policy import parse as parse_policy
from tasks.enforcement.policy_file import DEFAULT_POLICY
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.offline.thresholds import (
    ReviewBudget,
    band_volumes,
    choose_bands,
    threshold_for_share,
)
from tasks.offline.training import TrainingConfig
from tasks.scoring.inference import score_records
from tasks.scoring.model import Scorer
from tests.records import T0, messaging_block, parse, record, simulated_at

SHIPPED = parse_policy(DEFAULT_POLICY.read_text(), "shipped")
OPEN = ReviewBudget(
    share=1.0, casual_cap=1.0, lookalike_cap=1.0, casual_review_cap=1.0, lookalike_review_cap=1.0
)


def population(
    rng: np.random.Generator, name: str, n: int, label: int, *, low: float, high: float
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32], npt.NDArray[np.str_]]:
    return (
        np.full(n, label, dtype=np.int8),
        rng.uniform(low, high, n).astype(np.float32),
        np.full(n, name),
    )


def stage(*parts: tuple[npt.NDArray[np.int8], npt.NDArray[np.float32], npt.NDArray[np.str_]]):
    labels, scores, names = zip(*parts, strict=True)
    return np.concatenate(labels), np.concatenate(scores), np.concatenate(names)


def test_share_thresholds_leave_at_most_that_share_above() -> None:
    scores = np.array([0.1, 0.2, 0.2, 0.3, 0.9], dtype=np.float32)
    for share in (0.0, 0.2, 0.4, 0.6, 1.0):
        cut = threshold_for_share(scores, share)
        assert (scores >= cut).mean() <= share + 1e-9
    assert threshold_for_share(scores, 0.2) <= 0.9 < threshold_for_share(scores, 0.0)


def test_a_benign_population_over_its_caps_raises_the_restrict_and_review_bands() -> None:
    rng = np.random.default_rng(1)
    labels, scores, names = stage(
        population(rng, "casual", 5000, 0, low=0.0, high=0.3),
        population(rng, "small_business", 1000, 0, low=0.1, high=0.7),  # look-alikes score higher
        population(rng, "bulk_marketer", 3000, 1, low=0.4, high=1.0),
    )
    benign = frozenset({"casual", "small_business"})
    precision_only, _ = choose_bands(labels, scores, names, benign, OPEN)
    budgeted, notes = choose_bands(labels, scores, names, benign, ReviewBudget(share=1.0))

    def reached(bounds: dict[str, float], band: str, name: str) -> float:
        return float((scores[names == name] >= bounds[band]).mean())

    assert reached(precision_only, "restrict", "small_business") > 0.02
    assert reached(precision_only, "review", "small_business") > 0.05
    # Acted on (restricted or banned): within the cap; seen by a person: within the review cap.
    assert reached(budgeted, "restrict", "small_business") <= 0.02
    assert reached(budgeted, "review", "small_business") <= 0.05
    assert reached(budgeted, "restrict", "casual") <= 0.005
    assert reached(budgeted, "review", "casual") <= 0.01
    assert any("small_business restrict cap" in n for n in notes)
    assert any("small_business review cap" in n for n in notes)
    # Review by a person is capped more loosely than an action: the review band stays open.
    assert budgeted["review"] < budgeted["restrict"] <= budgeted["ban"]


def test_the_review_band_holds_at_most_the_budget() -> None:
    rng = np.random.default_rng(2)
    labels, scores, names = stage(
        population(rng, "casual", 8000, 0, low=0.0, high=0.5),
        population(rng, "bulk_marketer", 2000, 1, low=0.3, high=1.0),
    )
    bounds, notes = choose_bands(
        labels,
        scores,
        names,
        frozenset({"casual"}),
        ReviewBudget(share=0.01, casual_cap=1.0, casual_review_cap=1.0),
    )
    in_review = (scores >= bounds["review"]) & (scores < bounds["restrict"])
    assert in_review.mean() <= 0.01
    assert any("budget" in n for n in notes)


def test_a_band_that_adds_no_recall_is_closed() -> None:
    rng = np.random.default_rng(3)
    # Every abuser scores above every benign account: the softer bands catch nobody new.
    labels, scores, names = stage(
        population(rng, "casual", 5000, 0, low=0.0, high=0.4),
        population(rng, "bulk_marketer", 3000, 1, low=0.9, high=1.0),
    )
    bounds, notes = choose_bands(labels, scores, names, frozenset({"casual"}), OPEN)
    assert bounds["review"] == bounds["restrict"] == bounds["ban"] < 1.0
    assert "restrict closed: no recall over ban" in notes
    volumes = band_volumes(scores, bounds, 1_000_000)
    assert volumes["review"]["per_day"] == volumes["restrict"]["per_day"] == 0
    # The ban band reaches as low as precision allows: every abuser and a few benign accounts.
    assert volumes["ban"]["share"] == pytest.approx(3000 / 8000, abs=0.002)


def test_small_populations_are_not_held_to_a_cap_they_cannot_measure() -> None:
    rng = np.random.default_rng(4)
    labels, scores, names = stage(
        population(rng, "casual", 5000, 0, low=0.0, high=0.3),
        population(rng, "community_admin", 20, 0, low=0.5, high=0.7),
        population(rng, "bulk_marketer", 800, 1, low=0.4, high=1.0),
    )
    _, notes = choose_bands(
        labels, scores, names, frozenset({"casual", "community_admin"}), ReviewBudget(share=1.0)
    )
    assert not any("community_admin" in n for n in notes)


@pytest.fixture(scope="module")
def default_model(cached_training: Callable[[TrainingConfig], Path]) -> Path:
    """The default procedure on the default simulator (fewer trees, same data size)."""
    return cached_training(TrainingConfig(accounts=40_000, seed=5, trees=60, depth=5))


def test_the_default_card_certifies_precision_without_perfect_recall(default_model: Path) -> None:
    """Abuse evades enough that the messaging ban band misses some at certified precision; no
    benign population is acted on or reaches review beyond its caps (caps are set on validation
    with a confidence margin, measured here on test); and people have cases to review at
    messaging and feedback."""
    card = read_card(default_model)
    stages = card["metrics"]["stages"]
    ban = stages["messaging"]["bands"]["ban"]
    assert ban["precision"] >= 0.99
    assert ban["recall"] < 1.0
    # Separable, but not solved: registration sees less than messaging.
    assert 0.95 <= stages["messaging"]["roc_auc"] <= 0.995
    assert stages["registration"]["roc_auc"] < stages["messaging"]["roc_auc"]
    for stage in ("messaging", "feedback"):
        bounds = card["thresholds"][stage]
        assert bounds["review"] < bounds["restrict"], (stage, bounds)
        assert 0 < stages[stage]["volumes"]["review"]["share"] <= ReviewBudget().share
    for name, p in card["metrics"]["populations"].items():
        if not p["abusive"]:
            assert p["restricted_or_worse"] <= p["cap"], (name, p)
            assert p["review_or_worse"] <= p["review_cap"], (name, p)
    assert card["review_budget"]["share"] == ReviewBudget().share
    assert set(card["metrics"]["stages"]["messaging"]["volumes"]) == {"ban", "restrict", "review"}


@pytest.mark.parametrize("stage", list(DetectionPoint))
def test_the_shipped_policy_sends_people_no_more_than_the_budget(
    default_model: Path, stage: DetectionPoint
) -> None:
    """The policy may route cases of other bands to review: with the review band's own cases,
    they stay within the budget's share of the stage's accounts, on accounts the model never
    saw."""
    card = read_card(default_model)
    scorer = Scorer.load(card["version"], default_model / "model.ubj", card, threads=1)
    records = parse(simulated_at(stage, 6000, seed=23), stage)
    batch = score_records(stage, records, scorer, None, MemoryNeighbourStore(), explain=False)
    candidates = [
        Candidate(i, r.account_id, stage, band, "active", signals_of(r), 0)
        for i, (r, band) in enumerate(zip(records, batch.acting.decisions, strict=True))
    ]
    planned = plan(SHIPPED, candidates, "enforce")
    reviews = [p for p in planned if p.action == "review"]
    assert len(reviews) <= ReviewBudget().share * len(records), Counter(p.rule for p in reviews)


# One abuser-like value on one signal of an ordinary, established account that writes to its
# contacts, who answer: a habit, not abuse.
ONE_SIGNAL: dict[str, dict[str, Any]] = {
    "voice notes only": {"typing_ratio": 0.0},
    "a scheduled reminder": {"send_interval_cv": 0.05},
    "one greeting pasted to all": {"identical_content_ratio": 0.95},
    "messages to shops": {"non_contact_ratio": 0.85},
    "an album forwarded": {"peak_msgs_15s": 90, "msgs_last_hour": 120},
    "a busy day": {"msgs_last_day": 900, "unique_recipients_day": 60},
}


@pytest.mark.parametrize("habit", sorted(ONE_SIGNAL))
def test_an_ordinary_account_is_not_sent_to_review_by_one_signal(
    default_model: Path, habit: str
) -> None:
    card = read_card(default_model)
    scorer = Scorer.load(card["version"], default_model / "model.ubj", card, threads=1)
    raw = record(
        f"ordinary-{habit}",
        registered_at=T0 - dt.timedelta(days=600),
        observed_at=T0,
        messaging=messaging_block(**ONE_SIGNAL[habit]),
    )
    stage = DetectionPoint.MESSAGING
    batch = score_records(
        stage, parse([raw], stage), scorer, None, MemoryNeighbourStore(), explain=False
    )
    decision, score = batch.acting.decisions[0], float(batch.acting.scores[0])
    assert decision == "allow", f"{habit}: {decision} at {score:.4f}"
