"""Learning from labelled history: the file format, training on it, and registering a model
trained elsewhere. No service is needed: the files are real, the models are trained here."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import xgboost as xgb

from tasks.offline.backtest import BANDS, backtest, disagreements
from tasks.offline.labelled import LabelledFileError, parse_lines, read_labelled
from tasks.offline.register_model import ModelFileError, register_file, validated_booster
from tasks.offline.simulate_accounts import simulate
from tasks.offline.training import TrainingConfig, train_on_file
from tasks.scoring.features import FEATURES
from tasks.scoring.model import Scorer, StageThresholds
from tests.records import record

SMALL = TrainingConfig(trees=30, depth=4, seed=5)


def labelled_lines(accounts: int, seed: int, **extra: Any) -> list[dict[str, Any]]:
    """Simulated history as a platform would export it: records with their stage and label."""
    out = []
    for raw in simulate(accounts, seed, stages="all"):
        truth = raw.pop("truth")
        out.append({**raw, "label": truth["label"], "label_source": "review", **extra})
    return out


def write(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def test_a_labelled_file_is_read_with_each_bad_line_named(tmp_path: Path) -> None:
    good = {**record("a1", observed_at=None), "stage": "registration", "label": 1}
    later = {**record("a2"), "stage": "registration", "label": False, "weight": 2.5}
    later["observed_at"] = "2020-01-11T00:00:00+00:00"
    path = tmp_path / "history.jsonl"
    lines = [
        later,
        good,
        b"{oops",
        {**good, "label": "yes"},
        {**good, "weight": 0},
        {**good, "label": 2},
    ]
    path.write_bytes(
        b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines)
    )

    found = read_labelled(path)

    assert [r.account_id for r in found.records] == ["a1", "a2"]  # in time order
    assert [r.label for r in found.records] == [True, False]
    assert [(e.line, e.reason.split(":")[0]) for e in found.errors] == [
        (3, "not JSON"),
        (4, "label"),
        (5, "weight"),
        (6, "label"),
    ]
    assert found.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    described = found.describe()
    assert described["rows"] == 2
    assert described["rejected_lines"] == 4
    assert described["weighted"] is True
    assert described["label_sources"] == {"other": 2}


def test_files_that_cannot_teach_are_refused(tmp_path: Path) -> None:
    one_class = [{**record(f"a{i}"), "stage": "registration", "label": 0} for i in range(3)]
    with pytest.raises(LabelledFileError, match="every record is labelled benign"):
        read_labelled(write(tmp_path / "benign.jsonl", one_class))
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"{oops\n")
    with pytest.raises(LabelledFileError, match="no valid labelled record; line 1: not JSON"):
        read_labelled(junk)
    scalar = write(tmp_path / "scalar.jsonl", ["not a record"])
    with pytest.raises(
        LabelledFileError, match=r"line 1: \(record\): Expected `object`, got `str`"
    ):
        read_labelled(scalar)
    assert parse_lines([b"", b"  "]).records == []


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("history")
    return write(root / "history.jsonl", labelled_lines(6000, seed=31))


def test_training_on_labelled_history_writes_a_card_naming_the_file(
    history: Path, tmp_path: Path
) -> None:
    labelled = read_labelled(history)
    model_dir = train_on_file(labelled, SMALL, tmp_path)

    card = json.loads((model_dir / "card.json").read_text())
    data = card["data"]
    assert data["source"] == "labelled file"
    assert data["sha256"] == hashlib.sha256(history.read_bytes()).hexdigest()
    assert data["rows"] == len(labelled.records)
    assert data["label_sources"] == {"review": len(labelled.records)}
    assert data["period"]["first"] <= data["period"]["last"]
    assert set(card["thresholds"]) == {"registration", "messaging", "feedback"}
    assert card["metrics"]["roc_auc"] > 0.9
    assert card["metrics"]["populations"] == {}  # real history has no simulator populations
    assert "labelled rows" in (model_dir / "card.md").read_text()
    assert validated_booster(model_dir / "model.ubj").feature_names == list(FEATURES)


def test_a_detection_point_without_labels_decides_nothing(history: Path, tmp_path: Path) -> None:
    lines = [json.loads(line) for line in history.read_bytes().splitlines()]
    no_feedback = write(tmp_path / "nf.jsonl", [x for x in lines if x["stage"] != "feedback"])
    model_dir = train_on_file(read_labelled(no_feedback), SMALL, tmp_path / "models")
    card = json.loads((model_dir / "card.json").read_text())
    assert card["thresholds"]["feedback"] == {"ban": 1.0, "restrict": 1.0, "review": 1.0}
    assert "every band closed" in card["metrics"]["stages"]["feedback"]["note"]


def booster(features: list[str] | None, objective: str = "binary:logistic") -> xgb.Booster:
    rng = np.random.default_rng(0)
    width = len(features) if features else len(FEATURES)
    x = rng.random((200, width), dtype=np.float32)
    y = (x[:, 0] > 0.5).astype(np.float32)
    matrix = xgb.DMatrix(x, label=y, feature_names=features)
    return xgb.train({"objective": objective, "max_depth": 2}, matrix, num_boost_round=3)


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        (lambda: booster([*FEATURES[1:], FEATURES[0]]), f"feature 0 is '{FEATURES[1]}'"),
        (lambda: booster(list(FEATURES[:-1])), "features against"),
        (lambda: booster(list(FEATURES), objective="reg:squarederror"), "objective"),
    ],
)
def test_a_model_the_workers_could_not_serve_is_refused(
    tmp_path: Path, model: Any, problem: str
) -> None:
    path = tmp_path / "model.ubj"
    model().save_model(str(path))
    with pytest.raises(ModelFileError, match=problem):
        validated_booster(path)


def test_garbage_and_unnamed_models(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ubj"
    junk.write_bytes(b"\x00not a model")
    with pytest.raises(ModelFileError, match="not an XGBoost model"):
        validated_booster(junk)
    unnamed = tmp_path / "unnamed.json"
    booster(None).save_model(str(unnamed))
    assert validated_booster(unnamed).feature_names == list(FEATURES)


def test_a_model_trained_elsewhere_is_carded_on_labelled_history(
    history: Path, trained_model_dir: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "their-model.json"
    xgb.Booster(model_file=str(trained_model_dir / "model.ubj")).save_model(str(elsewhere))
    model_dir = register_file(elsewhere, read_labelled(history), tmp_path / "models")
    card = json.loads((model_dir / "card.json").read_text())
    assert card["data"]["model_file"] == "their-model.json"
    assert card["data"]["model_file_sha256"] == hashlib.sha256(elsewhere.read_bytes()).hexdigest()
    assert card["training"] == {"trained": "elsewhere"}
    assert card["metrics"]["roc_auc"] > 0.9
    assert (model_dir / "model.ubj").exists()


def test_a_backtest_reports_nested_bands_and_where_two_versions_disagree(
    history: Path, scorer: Scorer
) -> None:
    records = read_labelled(history).records[:3000]
    result = backtest(records, scorer)
    for stage, figures in result.stages.items():
        total = figures["all"]
        flagged = [figures[band]["flagged"] for band in BANDS]
        assert flagged == sorted(flagged, reverse=True), stage  # review ⊇ restrict ⊇ ban
        recalls = [figures[band]["recall"] for band in BANDS]
        assert recalls == sorted(recalls, reverse=True), stage
        assert figures["review"]["share"] == round(flagged[0] / total["records"], 6)
    messaging = [
        (d, r.label)
        for d, r in zip(result.decisions, records, strict=True)
        if r.stage.value == "messaging"
    ]
    banned = [label for d, label in messaging if d == "ban"]
    assert result.stages["messaging"]["ban"]["precision"] == round(sum(banned) / len(banned), 5)

    strict = dataclasses.replace(
        scorer,
        version="strict",
        thresholds={s: StageThresholds(0.9, 0.99, 0.999) for s in scorer.thresholds},
    )
    compared = disagreements(records, result, backtest(records, strict))
    assert compared["differ"] > 0
    assert sum(p["records"] for p in compared["pairs"]) == compared["differ"]
    assert compared["differ"] == sum(
        a != b for a, b in zip(result.decisions, backtest(records, strict).decisions, strict=True)
    )


def test_a_band_that_flags_nothing_has_no_precision(history: Path, scorer: Scorer) -> None:
    records = read_labelled(history).records[:1000]
    closed = dataclasses.replace(
        scorer,
        version="closed",
        thresholds={s: StageThresholds(1.5, 1.5, 1.5) for s in scorer.thresholds},
    )
    result = backtest(records, closed)
    for figures in result.stages.values():
        for band in BANDS:
            assert figures[band]["flagged"] == 0
            assert figures[band]["precision"] is None  # not 1.0: it claimed nothing
            assert figures[band]["recall"] == 0.0
