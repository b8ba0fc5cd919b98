"""Train the classifier on simulated traffic and write it with its model card.

The training rows are built by replaying the simulated records in time order through the same
``feature_matrix`` the workers use, with an in-memory neighbourhood store standing in for Redis,
so that what the model learns from is what it will be served.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xgboost as xgb
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from tasks.scoring.features import FEATURES, feature_matrix
from tasks.scoring.neighbours import MemoryNeighbourStore
from tasks.scoring.signals import Stage, StagedAccount
from tasks.scoring.simulator import POPULATION_BY_NAME, simulate

# An automatic ban must be right at least this often; restriction and review are softer bands.
PRECISION_TARGETS = {"ban": 0.995, "restrict": 0.97, "review": 0.80}
REPLAY_CHUNK = 500
# Share of abusive accounts the previous enforcement caught, which is what neighbourhood ban
# rates are made of: the history the model learns from was never perfect.
HISTORICAL_RECALL = 0.8


@dataclass(frozen=True)
class TrainingConfig:
    accounts: int = 40_000
    seed: int = 1
    label_noise: float = 0.01
    drift: float = 0.0
    trees: int = 300
    depth: int = 6
    learning_rate: float = 0.1
    threads: int = 2


@dataclass
class Dataset:
    features: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int8]
    true_labels: npt.NDArray[np.int8]  # before label noise, for honest evaluation
    stages: npt.NDArray[np.int8]
    populations: list[str]
    accounts: list[str]


def build_dataset(records: Iterable[dict[str, Any]], seed: int) -> Dataset:
    """Replay records in time order through the serving feature path."""
    store = MemoryNeighbourStore()
    rng = np.random.default_rng([seed, 3])
    blocks: list[npt.NDArray[np.float32]] = []
    labels: list[int] = []
    true_labels: list[int] = []
    stages: list[int] = []
    populations: list[str] = []
    accounts: list[str] = []
    chunk: list[StagedAccount] = []
    truths: list[dict[str, Any]] = []

    def flush() -> None:
        # One feature_matrix call per stage, as one scoring batch carries one stage.
        for stage in Stage:
            idx = [i for i, r in enumerate(chunk) if r.stage is stage]
            if not idx:
                continue
            group = [chunk[i] for i in idx]
            blocks.append(feature_matrix(group, stage, store))
            for i in idx:
                truth = truths[i]
                labels.append(int(truth["label"]))
                population = truth["population"]
                true_labels.append(int(POPULATION_BY_NAME[population].abusive))
                stages.append(list(Stage).index(stage))
                populations.append(population)
                accounts.append(chunk[i].account_id)
            caught = [
                r
                for r, i in zip(group, idx, strict=True)
                if stage is not Stage.REGISTRATION
                and POPULATION_BY_NAME[truths[i]["population"]].abusive
                and rng.random() < HISTORICAL_RECALL
            ]
            store.record_bans(caught)
        chunk.clear()
        truths.clear()

    for raw in records:
        chunk.append(StagedAccount.model_validate(raw))
        truths.append(raw["truth"])
        if len(chunk) >= REPLAY_CHUNK:
            flush()
    flush()
    return Dataset(
        features=np.vstack(blocks),
        labels=np.array(labels, dtype=np.int8),
        true_labels=np.array(true_labels, dtype=np.int8),
        stages=np.array(stages, dtype=np.int8),
        populations=populations,
        accounts=accounts,
    )


def split_by_account(accounts: Sequence[str]) -> npt.NDArray[np.int8]:
    """0 train, 1 validation, 2 test; by account, so no account's stages straddle the split."""

    def bucket(account: str) -> int:
        h = int(hashlib.blake2b(account.encode(), digest_size=2).hexdigest(), 16) % 10
        return 0 if h < 6 else (1 if h < 8 else 2)

    return np.array([bucket(a) for a in accounts], dtype=np.int8)


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


def train(config: TrainingConfig, out_root: Path) -> Path:
    """Simulate, train, evaluate, and write a versioned model directory; return its path."""
    records = simulate(
        config.accounts,
        config.seed,
        stages="all",
        label_noise=config.label_noise,
        drift=config.drift,
    )
    data = build_dataset(records, config.seed)
    split = split_by_account(data.accounts)
    train_idx, valid_idx, test_idx = (np.nonzero(split == k)[0] for k in range(3))

    params = {
        "objective": "binary:logistic",
        "eval_metric": ["aucpr", "logloss"],
        "tree_method": "hist",
        "max_depth": config.depth,
        "eta": config.learning_rate,
        "subsample": 0.9,
        "colsample_bytree": 0.9,
        "min_child_weight": 2.0,
        "nthread": config.threads,
        "seed": config.seed,
    }
    dtrain = xgb.DMatrix(
        data.features[train_idx], label=data.labels[train_idx], feature_names=list(FEATURES)
    )
    dvalid = xgb.DMatrix(
        data.features[valid_idx], label=data.labels[valid_idx], feature_names=list(FEATURES)
    )
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=config.trees,
        evals=[(dvalid, "validation")],
        verbose_eval=False,
    )

    scores = booster.inplace_predict(data.features, validate_features=False).astype(np.float32)
    thresholds: dict[str, dict[str, float]] = {}
    stage_metrics: dict[str, Any] = {}
    for code, stage in enumerate(Stage):
        v = valid_idx[data.stages[valid_idx] == code]
        t = test_idx[data.stages[test_idx] == code]
        # The model learns from noisy labels (appeals overturn some bans, some abuse is never
        # reported), but thresholds are set on an audited validation sample whose labels were
        # checked by hand: a 99.5% precision promise cannot be measured against noisy labels.
        bounds = {
            band: threshold_for_precision(data.true_labels[v], scores[v], target)
            for band, target in PRECISION_TARGETS.items()
        }
        bounds["restrict"] = max(bounds["restrict"], bounds["review"])
        bounds["ban"] = max(bounds["ban"], bounds["restrict"])
        thresholds[stage.value] = bounds
        stage_metrics[stage.value] = {
            "rows": len(t),
            "roc_auc": round(float(roc_auc_score(data.true_labels[t], scores[t])), 5),
            "pr_auc": round(float(average_precision_score(data.true_labels[t], scores[t])), 5),
            "bands": {
                band: band_metrics(data.true_labels[t], scores[t], bound)
                for band, bound in bounds.items()
            },
        }

    populations = _population_rates(data, scores, test_idx, thresholds)
    version = _version(booster)
    out = out_root / version
    out.mkdir(parents=True, exist_ok=True)
    booster.save_model(str(out / "model.ubj"))
    test_scores = scores[test_idx]
    card = {
        "version": version,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": {
            "simulator_seed": config.seed,
            "accounts": config.accounts,
            "rows": len(data.labels),
            "label_noise": config.label_noise,
            "drift": config.drift,
            "split": "60/20/20 by account",
            "test_rows": len(test_idx),
        },
        "training": {
            "trees": config.trees,
            "max_depth": config.depth,
            "learning_rate": config.learning_rate,
        },
        "features": list(FEATURES),
        "precision_targets": PRECISION_TARGETS,
        "thresholds": thresholds,
        "metrics": {
            "roc_auc": round(float(roc_auc_score(data.true_labels[test_idx], test_scores)), 5),
            "pr_auc": round(
                float(average_precision_score(data.true_labels[test_idx], test_scores)), 5
            ),
            "stages": stage_metrics,
            "populations": populations,
        },
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    (out / "card.md").write_text(render_card_markdown(card))
    _plots(out, data.true_labels[test_idx], test_scores)
    return out


def _population_rates(
    data: Dataset,
    scores: npt.NDArray[np.float32],
    test_idx: npt.NDArray[np.intp],
    thresholds: dict[str, dict[str, float]],
) -> dict[str, dict[str, Any]]:
    """Share of each population's test rows at or above its stage's ban and review bounds:
    the false-positive rate of a benign population, the recall of an abusive one."""
    out: dict[str, dict[str, Any]] = {}
    pops = np.array(data.populations)
    stage_names = [s.value for s in Stage]
    for name, population in POPULATION_BY_NAME.items():
        rows = test_idx[pops[test_idx] == name]
        if len(rows) == 0:
            continue
        ban = np.array([thresholds[stage_names[s]]["ban"] for s in data.stages[rows]])
        review = np.array([thresholds[stage_names[s]]["review"] for s in data.stages[rows]])
        out[name] = {
            "rows": len(rows),
            "abusive": population.abusive,
            "hard": population.hard,
            "banned": round(float((scores[rows] >= ban).mean()), 6),
            "review_or_worse": round(float((scores[rows] >= review).mean()), 6),
        }
    return out


def _version(booster: xgb.Booster) -> str:
    raw = booster.save_raw(raw_format="ubj")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"xgb-{stamp}-{hashlib.sha256(raw).hexdigest()[:8]}"


def render_card_markdown(card: dict[str, Any]) -> str:
    m = card["metrics"]
    lines = [
        f"# Model card: {card['version']}",
        "",
        f"Trained {card['created_at']} on {card['data']['rows']} simulated rows "
        f"({card['data']['accounts']} accounts x 3 detection points, simulator seed "
        f"{card['data']['simulator_seed']}, label noise {card['data']['label_noise']}, "
        f"drift {card['data']['drift']}); split {card['data']['split']}.",
        "",
        f"Held-out test: ROC-AUC **{m['roc_auc']}**, PR-AUC **{m['pr_auc']}** "
        f"({card['data']['test_rows']} rows, true labels).",
        "",
        "## Thresholds and held-out performance per detection point",
        "",
        "Thresholds are chosen on the validation split for the precision targets "
        f"{card['precision_targets']}.",
        "",
        "| stage | band | threshold | precision | recall | FPR | flagged |",
        "|---|---|---|---|---|---|---|",
    ]
    for stage, sm in m["stages"].items():
        for band, bm in sm["bands"].items():
            lines.append(
                f"| {stage} | {band} | {bm['threshold']} | {bm['precision']} | "
                f"{bm['recall']} | {bm['false_positive_rate']} | {bm['flagged']} |"
            )
    lines += [
        "",
        "## Per population (test split)",
        "",
        "For a benign population the shares are false-positive rates; for an abusive one, recall.",
        "",
        "| population | kind | rows | banned | review or worse |",
        "|---|---|---|---|---|",
    ]
    for name, p in m["populations"].items():
        kind = "abusive" if p["abusive"] else ("benign, hard look-alike" if p["hard"] else "benign")
        lines.append(f"| {name} | {kind} | {p['rows']} | {p['banned']} | {p['review_or_worse']} |")
    lines += [
        "",
        "## Features",
        "",
        ", ".join(f"`{f}`" for f in card["features"]),
        "",
        "Plots: `pr_curve.png`, `score_histogram.png`.",
        "",
    ]
    return "\n".join(lines)


def _plots(out: Path, labels: npt.NDArray[np.int8], scores: npt.NDArray[np.float32]) -> None:
    import matplotlib  # noqa: PLC0415 - plotting is only needed when a model is trained

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    precision, recall, _ = precision_recall_curve(labels, scores)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.plot(recall, precision)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall, held-out test split")
    ax.set_ylim(0.5, 1.01)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "pr_curve.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4.5))
    bins = [i / 50 for i in range(51)]
    ax.hist(scores[labels == 0], bins=bins, alpha=0.6, label="benign", log=True)
    ax.hist(scores[labels == 1], bins=bins, alpha=0.6, label="abusive", log=True)
    ax.set_xlabel("score")
    ax.set_ylabel("rows (log)")
    ax.set_title("Score histogram by class, held-out test split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "score_histogram.png", dpi=110)
    plt.close(fig)
