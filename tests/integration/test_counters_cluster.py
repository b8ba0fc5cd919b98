"""Real workers keeping the neighbourhood counters on a real three-primary Redis Cluster, apart
from the broker's Redis."""

from __future__ import annotations

import pytest

from infra.redis_client import get_redis
from tasks.neighbourhoods import redis_store
from tasks.offline.simulate_accounts import simulate
from tests.redis_cluster import LocalRedisCluster

QUEUES = {"scoring": 2, "enforcement": 1, "evidence": 1, "legal": 1, "maintenance": 1}


# Where the counters live does not depend on the database: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_workers_keep_the_counters_on_the_cluster(
    start, active_model, redis_cluster: LocalRedisCluster
):
    workers = start(QUEUES, extra_env={"BULKGUARD_COUNTERS_REDIS_URL": redis_cluster.url})
    records = list(simulate(900, seed=31, stages="all"))
    for stage in ("registration", "messaging", "feedback"):
        batch = [r for r in records if r["stage"] == stage]
        for first in range(0, len(batch), 300):
            workers.app.send_task(
                "scoring.score_accounts",
                kwargs={"stage": stage, "accounts": batch[first : first + 300]},
            )
    counts = workers.drain([r["account_id"] for r in records], active_model)
    assert counts["scored"] == len({r["account_id"] for r in records})
    assert counts["dead_letters"] == 0, workers.logs()
    assert counts["banned"] > 0

    pattern = f"{redis_store.PREFIX}:*"
    try:
        per_node = [
            {k.decode() for k in redis_cluster.node(port).scan_iter(pattern, count=1000)}
            for port in redis_cluster.ports
        ]
        # Registrations, reports and the bans enforcement recorded, on every primary.
        for keys in per_node:
            assert any(k.endswith("}:acc") for k in keys)
            assert any(k.endswith("}:ban") for k in keys)
            assert any(":{regs:" in k for k in keys)
        # None on the broker's Redis.
        assert not any(get_redis().scan_iter(pattern, count=1000))
    finally:
        for port in redis_cluster.ports:
            node = redis_cluster.node(port)
            for key in node.scan_iter(pattern, count=1000):
                node.delete(key)
