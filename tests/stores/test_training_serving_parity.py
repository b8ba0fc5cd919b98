"""Training rows equal served rows: the dataset replay and the scoring path, through the
in-memory store and through Redis, build the same features from the same records."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import redis

from infra.db.models import utcnow
from tasks.accounts.signals import DetectionPoint, validate_records
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.neighbourhoods.redis_store import RedisNeighbourStore
from tasks.neighbourhoods.rules import NeighbourStore
from tasks.offline.dataset import REPLAY_CHUNK, build_dataset
from tasks.scoring.features import FEATURES, feature_matrix
from tests.records import simulated_at


@pytest.fixture
def redis_store(redis_client: redis.Redis) -> RedisNeighbourStore:
    return RedisNeighbourStore(redis_client)


def _store(kind: str, request: pytest.FixtureRequest) -> NeighbourStore:
    if kind == "memory":
        return MemoryNeighbourStore()
    if kind == "cluster":
        return RedisNeighbourStore(request.getfixturevalue("cluster_client"))
    store: NeighbourStore = request.getfixturevalue("redis_store")
    return store


def _served(
    raw: list[dict[str, Any]], stage: DetectionPoint, store: NeighbourStore
) -> npt.NDArray[np.float32]:
    """Validate at the boundary and build rows batch by batch, as the scoring task does."""
    blocks = []
    for start in range(0, len(raw), REPLAY_CHUNK):
        chunk = raw[start : start + REPLAY_CHUNK]
        valid, positions, rejected = validate_records(stage, chunk, now=utcnow())
        assert rejected == []
        assert positions == list(range(len(chunk)))
        blocks.append(feature_matrix(valid, stage, store))
    return np.vstack(blocks)


@pytest.mark.parametrize("store_kind", ["memory", "redis", "cluster"])
def test_training_rows_equal_served_rows_over_several_batches(
    store_kind: str, request: pytest.FixtureRequest
) -> None:
    # Registration records: several replay chunks share neighbourhoods (SIM-farm blocks, racks),
    # and training records no bans for this stage, so the history is the same on both paths.
    raw = simulated_at(DetectionPoint.REGISTRATION, 2200, seed=11)
    assert len(raw) > 2 * REPLAY_CHUNK
    data = build_dataset(raw, seed=11)
    assert data.accounts == [r["account_id"] for r in raw]
    served = _served(raw, DetectionPoint.REGISTRATION, _store(store_kind, request))
    assert served.shape == data.features.shape
    np.testing.assert_array_equal(served, data.features)  # NaN equals NaN here
    # The neighbourhood part is not trivially zero: bursts and shared blocks were counted.
    regs = data.features[:, FEATURES.index("network_regs_1h")]
    assert regs.max() > 1


@pytest.mark.parametrize("stage", [DetectionPoint.MESSAGING, DetectionPoint.FEEDBACK])
@pytest.mark.parametrize("store_kind", ["memory", "redis", "cluster"])
def test_training_rows_equal_served_rows_in_one_batch(
    stage: DetectionPoint, store_kind: str, request: pytest.FixtureRequest
) -> None:
    # One replay chunk: the bans training records after it cannot reach these rows.
    raw = simulated_at(stage, 300, seed=12)
    assert 0 < len(raw) <= REPLAY_CHUNK
    data = build_dataset(raw, seed=12)
    assert data.accounts == [r["account_id"] for r in raw]
    served = _served(raw, stage, _store(store_kind, request))
    np.testing.assert_array_equal(served, data.features)
    assert not np.isnan(served[:, FEATURES.index("typing_ratio")]).any()
    if stage is DetectionPoint.FEEDBACK:  # reported neighbours were counted on both paths
        assert served[:, FEATURES.index("network_report_rate")].max() > 0
