"""Registering a model trained elsewhere: checked against what the workers serve, and carded on
the platform's labelled history before it can be activated."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import xgboost as xgb

from tasks.offline.dataset import labelled_dataset, split_by_account
from tasks.offline.labelled import LabelledFile
from tasks.offline.training import write_model
from tasks.scoring.features import FEATURES

OBJECTIVE = "binary:logistic"


class ModelFileError(ValueError):
    """A model file the workers could not serve, with the reason."""


def validated_booster(path: Path) -> xgb.Booster:
    """The model at ``path`` if it takes this code's features in this order, predicts the
    probability of abuse, and answers a smoke prediction; else :class:`ModelFileError`."""
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
    except xgb.core.XGBoostError as exc:
        raise ModelFileError(f"{path.name}: not an XGBoost model ({_first_line(exc)})") from exc
    names = booster.feature_names
    if names is None:
        if booster.num_features() != len(FEATURES):
            raise ModelFileError(
                f"{path.name}: takes {booster.num_features()} features; the workers build "
                f"{len(FEATURES)} ({', '.join(FEATURES[:3])}, ...)"
            )
        booster.feature_names = list(FEATURES)
    elif tuple(names) != FEATURES:
        at = next(
            (i for i, (a, b) in enumerate(zip(names, FEATURES, strict=False)) if a != b),
            min(len(names), len(FEATURES)),
        )
        theirs = names[at] if at < len(names) else "(none)"
        ours = FEATURES[at] if at < len(FEATURES) else "(none)"
        raise ModelFileError(
            f"{path.name}: feature {at} is {theirs!r}, the workers build {ours!r} there "
            f"({len(names)} features against {len(FEATURES)})"
        )
    objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    if objective != OBJECTIVE:
        raise ModelFileError(
            f"{path.name}: objective {objective!r}; the workers read scores as probabilities "
            f"of abuse, which {OBJECTIVE!r} gives"
        )
    smoke = np.vstack(
        [np.full(len(FEATURES), np.nan, dtype=np.float32), np.zeros(len(FEATURES), np.float32)]
    )
    predicted = booster.inplace_predict(smoke, validate_features=False)
    if not np.all(np.isfinite(predicted)) or np.any((predicted < 0) | (predicted > 1)):
        raise ModelFileError(f"{path.name}: a smoke prediction gave {predicted.tolist()}")
    return booster


def register_file(path: Path, labelled: LabelledFile, out_root: Path) -> Path:
    """Card the model at ``path`` on ``labelled`` (thresholds on 80% of its accounts, measured
    on the other 20%) and write it as a new version under ``out_root``."""
    booster = validated_booster(path)
    data = labelled_dataset(labelled.records)
    held_out = split_by_account(data.accounts) == 2
    valid_idx, test_idx = np.nonzero(~held_out)[0], np.nonzero(held_out)[0]
    return write_model(
        booster,
        data,
        valid_idx=valid_idx,
        test_idx=test_idx,
        described={
            **labelled.describe(),
            "split": "80/20 by account (thresholds/test): the model was trained elsewhere",
            "model_file": path.name,
            "model_file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        },
        training={"trained": "elsewhere"},
        out_root=out_root,
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
