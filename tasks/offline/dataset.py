"""Training rows: simulated records replayed in time order through the serving feature path.

The rows are built by the same ``feature_matrix`` the workers use, with an in-memory
neighbourhood store standing in for Redis, so that what the model learns from is what it will be
served. Earlier enforcement is replayed too: a share of the abusers are banned as they are seen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tasks.accounts.signals import DetectionPoint, StagedAccount, parse_record
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.offline.labelled import LabelledRecord
from tasks.offline.simulate_accounts import POPULATION_BY_NAME
from tasks.scoring.features import feature_matrix

REPLAY_CHUNK = 500
# Share of abusive accounts the previous enforcement caught, which is what neighbourhood ban
# rates are made of: the history the model learns from was never perfect.
HISTORICAL_RECALL = 0.8


@dataclass
class Dataset:
    features: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int8]
    true_labels: npt.NDArray[np.int8]  # before label noise, for honest evaluation
    weights: npt.NDArray[np.float32]
    stages: npt.NDArray[np.int8]
    populations: list[str | None]  # known for simulated rows only
    accounts: list[str]
    # The simulator's named habits and evasion tactics of each row (empty for real history).
    tactics: list[tuple[str, ...]]


@dataclass(frozen=True)
class Row:
    """One record to learn from: what training is told (``label``), what evaluation measures
    (``true_label``: the same for real history, the simulator's truth before noise), and how much
    the row counts."""

    record: StagedAccount
    label: int
    true_label: int
    population: str | None = None
    weight: float = 1.0
    tactics: tuple[str, ...] = ()


def replay(rows: Iterable[Row], caught: Callable[[Row], bool]) -> Dataset:
    """Replay ``rows`` in the given (time) order through the serving feature path; the rows
    ``caught`` says earlier enforcement banned are counted in their neighbourhoods after their
    batch, as the workers count bans after they commit."""
    store = MemoryNeighbourStore()
    blocks: list[npt.NDArray[np.float32]] = []
    kept: list[Row] = []
    chunk: list[Row] = []

    def flush() -> None:
        # One feature_matrix call per stage, as one scoring batch carries one stage.
        for stage in DetectionPoint:
            group = [row for row in chunk if row.record.stage is stage]
            if not group:
                continue
            blocks.append(feature_matrix([row.record for row in group], stage, store))
            kept.extend(group)
            store.record_bans([row.record for row in group if caught(row)])
        chunk.clear()

    for row in rows:
        chunk.append(row)
        if len(chunk) >= REPLAY_CHUNK:
            flush()
    flush()
    return Dataset(
        features=np.vstack(blocks),
        labels=np.array([r.label for r in kept], dtype=np.int8),
        true_labels=np.array([r.true_label for r in kept], dtype=np.int8),
        weights=np.array([r.weight for r in kept], dtype=np.float32),
        stages=np.array([list(DetectionPoint).index(r.record.stage) for r in kept], dtype=np.int8),
        populations=[r.population for r in kept],
        accounts=[r.record.account_id for r in kept],
        tactics=[r.tactics for r in kept],
    )


def build_dataset(records: Iterable[dict[str, Any]], seed: int) -> Dataset:
    """Simulated records (each with its ``truth``), replayed in time order. Earlier enforcement
    caught a share of the abusers past registration: what neighbourhood ban rates are made of."""
    rng = np.random.default_rng([seed, 3])
    now = dt.datetime.now(dt.UTC)  # records observed later than they are read are refused

    def rows() -> Iterator[Row]:
        for raw in records:
            population = raw["truth"]["population"]
            yield Row(
                parse_record(raw, StagedAccount, now=now),
                label=int(raw["truth"]["label"]),
                true_label=int(POPULATION_BY_NAME[population].abusive),
                population=population,
                tactics=tuple(raw["truth"].get("tactics", ())),
            )

    return replay(
        rows(),
        lambda row: (
            row.record.stage is not DetectionPoint.REGISTRATION
            and bool(row.true_label)
            and rng.random() < HISTORICAL_RECALL
        ),
    )


def labelled_dataset(records: Iterable[LabelledRecord]) -> Dataset:
    """Real history, in time order. The accounts labelled abusive past registration are the
    bans the platform made: replayed into the neighbourhoods as the workers would have."""
    return replay(
        (Row(r, label=int(r.label), true_label=int(r.label), weight=r.weight) for r in records),
        lambda row: row.record.stage is not DetectionPoint.REGISTRATION and row.label == 1,
    )


def split_by_account(accounts: Sequence[str]) -> npt.NDArray[np.int8]:
    """0 train, 1 validation, 2 test; by account, so no account's stages straddle the split."""

    def bucket(account: str) -> int:
        h = int(hashlib.blake2b(account.encode(), digest_size=2).hexdigest(), 16) % 10
        return 0 if h < 6 else (1 if h < 8 else 2)

    return np.array([bucket(a) for a in accounts], dtype=np.int8)
