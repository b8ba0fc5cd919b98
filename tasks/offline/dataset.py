"""Training rows: simulated records replayed in time order through the serving feature path.

The rows are built by the same ``feature_matrix`` the workers use, with an in-memory
neighbourhood store standing in for Redis, so that what the model learns from is what it will be
served. Earlier enforcement is replayed too: a share of the abusers are banned as they are seen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tasks.offline.simulate_accounts import POPULATION_BY_NAME
from tasks.scoring.features import feature_matrix
from tasks.scoring.neighbourhoods.memory import MemoryNeighbourStore
from tasks.scoring.signals import DetectionPoint, StagedAccount

REPLAY_CHUNK = 500
# Share of abusive accounts the previous enforcement caught, which is what neighbourhood ban
# rates are made of: the history the model learns from was never perfect.
HISTORICAL_RECALL = 0.8


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
        for stage in DetectionPoint:
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
                stages.append(list(DetectionPoint).index(stage))
                populations.append(population)
                accounts.append(chunk[i].account_id)
            caught = [
                r
                for r, i in zip(group, idx, strict=True)
                if stage is not DetectionPoint.REGISTRATION
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
