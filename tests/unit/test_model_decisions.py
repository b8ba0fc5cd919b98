"""Thresholds, the loaded scorer and its explanations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from infra.db.models import utcnow
from infra.registry import read_card
from tasks.accounts.signals import DetectionPoint, StagedAccount, parse_record
from tasks.offline.dataset import build_dataset
from tasks.offline.simulate_accounts import simulate
from tasks.scoring.features import FEATURES
from tasks.scoring.model import TOP_REASONS, Scorer, StageThresholds


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    """Simulated rows of all three stages (registration rows have NaN messaging features)."""
    return build_dataset(simulate(120, seed=21, stages="all"), seed=21).features


def test_decide_at_and_around_the_bounds() -> None:
    bounds = StageThresholds(review=0.25, restrict=0.5, ban=0.75)
    below = np.nextafter(np.float32(0.25), np.float32(0))
    scores = np.array([0.0, below, 0.25, 0.4999, 0.5, 0.7499, 0.75, 1.0], dtype=np.float32)
    assert bounds.decide(scores) == [
        "allow",
        "allow",
        "review",
        "review",
        "restrict",
        "restrict",
        "ban",
        "ban",
    ]


def test_decide_with_learned_float32_bounds() -> None:
    # Bounds in a card are float32 scores written as float64: a score equal to one meets it.
    bound = float(np.float32(0.9933050274848938))
    bounds = StageThresholds(review=0.05, restrict=0.98, ban=bound)
    scores = np.array([np.float32(bound), np.nextafter(np.float32(bound), np.float32(0))])
    assert bounds.decide(scores) == ["ban", "restrict"]


def test_the_highest_bound_met_wins_when_bands_collapse() -> None:
    bounds = StageThresholds(review=0.6, restrict=0.6, ban=0.6)
    assert bounds.decide(np.array([0.59, 0.6, 0.61], dtype=np.float32)) == ["allow", "ban", "ban"]


def test_decide_empty() -> None:
    assert StageThresholds(0.1, 0.2, 0.3).decide(np.zeros(0, dtype=np.float32)) == []


def test_loaded_scorer_uses_the_card_thresholds(scorer: Scorer, trained_model_dir: Path) -> None:
    card = json.loads((trained_model_dir / "card.json").read_text())
    assert scorer.version == card["version"]
    assert set(scorer.thresholds) == set(DetectionPoint)
    for stage in DetectionPoint:
        expected = card["thresholds"][stage.value]
        got = scorer.thresholds[stage]
        assert (got.review, got.restrict, got.ban) == (
            expected["review"],
            expected["restrict"],
            expected["ban"],
        )
        assert got.review <= got.restrict <= got.ban
    assert scorer.booster.feature_names is not None
    assert tuple(scorer.booster.feature_names) == FEATURES


def test_predict_gives_probabilities(scorer: Scorer, rows: np.ndarray) -> None:
    scores = scorer.predict(rows)
    assert scores.shape == (len(rows),)
    assert scores.dtype == np.float32
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    assert scores.max() > scores.min()  # not a constant model
    assert scorer.predict(rows[:0]).shape == (0,)


def test_decide_uses_the_stage_thresholds(scorer: Scorer) -> None:
    for stage in DetectionPoint:
        t = scorer.thresholds[stage]
        scores = np.array([t.review, t.restrict, t.ban], dtype=np.float32)
        # Where two bounds coincide the higher band wins: a score at a bound gets the highest
        # decision whose bound it meets.
        expected = [
            ["review", "restrict", "ban"][max(i for i, b in enumerate(scores) if b <= x)]
            for x in scores
        ]
        assert scorer.decide(stage, scores) == expected


def test_reasons_are_the_top_positive_contributions(scorer: Scorer, rows: np.ndarray) -> None:
    reasons = scorer.reasons(rows)
    assert len(reasons) == len(rows)
    scores = scorer.predict(rows)
    contribs = scorer.booster.predict(
        xgb.DMatrix(rows, feature_names=list(FEATURES)), pred_contribs=True
    )
    some = 0
    for row, found, score, contrib in zip(rows, reasons, scores, contribs, strict=True):
        assert len(found) <= TOP_REASONS
        values = [r["contribution"] for r in found]
        assert values == sorted(values, reverse=True)
        for reason in found:
            index = FEATURES.index(reason["feature"])
            assert round(float(contrib[index]), 4) > 0  # only pushes toward abuse
            value = row[index]
            assert reason["value"] == (None if np.isnan(value) else round(float(value), 4))
            assert reason["contribution"] == round(float(contrib[index]), 4)
        # Nothing left out pushes harder toward abuse than the weakest reason given.
        named = {r["feature"] for r in found}
        rest = [c for name, c in zip(FEATURES, contrib[:-1], strict=True) if name not in named]
        if len(found) == TOP_REASONS:
            assert max(rest) <= min(values) + 1e-4
        else:
            # Contributions that round to 0.0000 are not reasons.
            assert max(rest, default=0.0) < 5e-5
        # Contributions add up to the log-odds of the score.
        assert float(contrib.sum()) == pytest.approx(float(np.log(score / (1 - score))), abs=1e-3)
        some += bool(found)
    assert some > 0
    assert scorer.reasons(rows[:0]) == []


def test_load_refuses_a_model_trained_on_other_features(
    trained_model_dir: Path, tmp_path: Path
) -> None:
    booster = xgb.Booster()
    booster.load_model(str(trained_model_dir / "model.ubj"))
    booster.feature_names = [f"old_{name}" for name in FEATURES]
    path = tmp_path / "model.ubj"
    booster.save_model(str(path))
    card = read_card(trained_model_dir)
    with pytest.raises(ValueError, match="trained on other features"):
        Scorer.load("old", path, card, threads=1)


def test_simulated_records_are_valid_staged_accounts() -> None:
    records = list(simulate(50, seed=5, stages="mixed"))
    assert records
    for raw in records:
        parse_record(raw, StagedAccount, now=utcnow())
