"""The neighbourhood counters on a real three-primary Redis Cluster: the keys spread across its
nodes, a simulated history reads back exactly as on one Redis, and scoring goes on while an
operator moves slots or a node forgets its scripts."""

from __future__ import annotations

import uuid

import numpy as np
import numpy.typing as npt
import pytest
import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from infra.redis_client import get_counters_redis, reset_redis
from infra.settings import get_settings
from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.neighbourhoods import redis_store
from tasks.neighbourhoods.redis_store import RedisNeighbourStore
from tasks.neighbourhoods.rules import NEIGHBOUR_FEATURES
from tests.records import T0, parse, record, simulated_at
from tests.redis_cluster import LocalRedisCluster

ACCOUNTS = 3000


@pytest.fixture
def one_redis(redis_client: redis.Redis) -> RedisNeighbourStore:
    """The reference: the same store on one Redis."""
    return RedisNeighbourStore(redis_client)


def history() -> dict[DetectionPoint, list[AccountSignals]]:
    return {point: parse(simulated_at(point, ACCOUNTS, seed=23), point) for point in DetectionPoint}


def play(store: RedisNeighbourStore, records: dict[DetectionPoint, list[AccountSignals]]) -> None:
    """Registrations in batches, every fifth account banned, one ban in ten of those lifted on
    appeal, reports from the feedback stage."""
    registered = records[DetectionPoint.REGISTRATION]
    for start in range(0, len(registered), 500):
        store.observe_and_lookup(registered[start : start + 500], DetectionPoint.REGISTRATION)
    banned = registered[::5]
    store.record_bans(banned)
    store.forget_bans(banned[::10])
    store.observe(records[DetectionPoint.FEEDBACK], DetectionPoint.FEEDBACK)


def played_on_both(
    cluster_client: RedisCluster, one_redis: RedisNeighbourStore
) -> tuple[RedisNeighbourStore, dict[DetectionPoint, list[AccountSignals]]]:
    """The same history played on the cluster and on one Redis: the cluster's store, and the
    history's records."""
    records = history()
    on_cluster = RedisNeighbourStore(cluster_client)
    for store in (on_cluster, one_redis):
        play(store, records)
    return on_cluster, records


def rows(
    store: RedisNeighbourStore, records: dict[DetectionPoint, list[AccountSignals]]
) -> npt.NDArray[np.float32]:
    return np.vstack([store.lookup(batch) for batch in records.values()])


def test_a_history_reads_the_same_on_the_cluster_as_on_one_redis(
    cluster_client: RedisCluster,
    one_redis: RedisNeighbourStore,
    redis_cluster: LocalRedisCluster,
) -> None:
    on_cluster, records = played_on_both(cluster_client, one_redis)
    clustered = rows(on_cluster, records)
    np.testing.assert_array_equal(clustered, rows(one_redis, records))
    # Not trivially equal: rates and bursts were found.
    for feature in ("block_ban_rate", "network_report_rate", "network_regs_1h"):
        assert np.nanmax(clustered[:, NEIGHBOUR_FEATURES.index(feature)]) > 0, feature
    # Every primary holds a share of the keys, each in a slot it serves.
    per_node = [
        list(redis_cluster.node(port).scan_iter(f"{redis_store.PREFIX}:*", count=1000))
        for port in redis_cluster.ports
    ]
    total = sum(len(keys) for keys in per_node)
    assert all(len(keys) > total / 6 for keys in per_node), [len(k) for k in per_node]


def test_scoring_goes_on_while_slots_move(
    cluster_client: RedisCluster,
    one_redis: RedisNeighbourStore,
    redis_cluster: LocalRedisCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on_cluster, records = played_on_both(cluster_client, one_redis)
    before = rows(on_cluster, records)
    # An operator moves a third of the first node's slots, keys included, to the second; the
    # client still holds the old map, so its first calls reach nodes that no longer serve them.
    first, second, _ = redis_cluster.ports
    redis_cluster.move_slots(first, second, 1800)
    try:
        assert cluster_client.nodes_manager.get_node_from_slot(0).port == first  # stale map
        refreshed: list[bool] = []
        refresh = cluster_client.nodes_manager.initialize

        def counted_refresh() -> None:
            refreshed.append(True)
            refresh()

        monkeypatch.setattr(cluster_client.nodes_manager, "initialize", counted_refresh)
        np.testing.assert_array_equal(rows(on_cluster, records), before)
        assert refreshed  # the stale map was found out and read again
        assert cluster_client.nodes_manager.get_node_from_slot(0).port == second
        # Writes after the move land where the keys now live.
        later = records[DetectionPoint.REGISTRATION][1::7]
        for store in (on_cluster, one_redis):
            store.record_bans(later)
        np.testing.assert_array_equal(rows(on_cluster, records), rows(one_redis, records))
    finally:
        redis_cluster.move_slots(second, first, 1800)  # the session's cluster as it was


def test_nodes_that_forgot_the_script_get_it_again(
    cluster_client: RedisCluster, one_redis: RedisNeighbourStore, redis_cluster: LocalRedisCluster
) -> None:
    for port in redis_cluster.ports:
        redis_cluster.node(port).script_flush()
    on_cluster, records = played_on_both(cluster_client, one_redis)
    np.testing.assert_array_equal(rows(on_cluster, records), rows(one_redis, records))


def test_workers_find_the_cluster_from_any_node(
    redis_cluster: LocalRedisCluster, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    for url, kind in (
        (f"redis://127.0.0.1:{redis_cluster.ports[-1]}/0", RedisCluster),
        (redis_url, redis.Redis),
        ("", redis.Redis),
    ):
        monkeypatch.setenv("BULKGUARD_COUNTERS_REDIS_URL", url)
        get_settings.cache_clear()
        reset_redis()
        assert type(get_counters_redis()) is kind, url
    get_settings.cache_clear()
    reset_redis()


def test_a_cluster_that_keeps_moving_slots_is_a_transient_error(
    cluster_client: RedisCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every attempt finds keys its node does not serve: the batch fails with an error that
    # tasks retry (a redis ConnectionError), after re-reading the slot map each time.
    from tasks.neighbourhoods import placement

    refreshed: list[str] = []
    monkeypatch.setattr(
        cluster_client.nodes_manager, "initialize", lambda: refreshed.append(uuid.uuid4().hex)
    )

    def refuse(*_args: object, **_kwargs: object) -> list[bytes | None]:
        raise redis.exceptions.ResponseError(
            "Script attempted to access a non local key in a cluster node"
        )

    monkeypatch.setattr(placement.ClusterPrimaries, "_run_once", refuse)
    records = history()[DetectionPoint.MESSAGING][:10]
    with pytest.raises(redis.ConnectionError, match="kept moving slots"):
        RedisNeighbourStore(cluster_client).lookup(records)
    # A new map before each attempt after the first; none after the last.
    assert len(refreshed) == placement.CLUSTER_ATTEMPTS - 1


def test_a_half_moved_slot_neither_splits_nor_double_counts_a_counter(
    cluster_client: RedisCluster, redis_cluster: LocalRedisCluster
) -> None:
    # An operator's move takes a slot's keys one at a time. Caught halfway, with a counter's
    # set of counted accounts already on the new node and the counter still on the old one, a
    # registration must be refused whole (and retried by its task), never split between them.
    def registration(account: str) -> list[AccountSignals]:
        raw = [record(account, phone=f"+4219051{account[-2:]}000", network_id="net-move")]
        return parse(raw, DetectionPoint.REGISTRATION)

    store = RedisNeighbourStore(cluster_client)
    store.observe(registration("acc-01"), DetectionPoint.REGISTRATION)
    counter = redis_store._counter("network", int(T0.timestamp()) // 3600, "net-move")
    slot = key_slot(counter.encode())
    ports = {port: redis_cluster.node(port) for port in redis_cluster.ports}
    source = redis_cluster.owner(counter)
    target = next(p for p in ports if p != source)
    ids = {port: redis_cluster.node_id(port) for port in ports}
    command = redis_cluster.command
    command(target, "CLUSTER SETSLOT", slot, "IMPORTING", ids[source])
    command(source, "CLUSTER SETSLOT", slot, "MIGRATING", ids[target])
    migrate = ("MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS")

    def keys_in_slot(port: int) -> list[str]:
        found = command(port, "CLUSTER GETKEYSINSLOT", slot, 100)
        return [k if isinstance(k, str) else k.decode() for k in found]

    def finish_move() -> None:
        if rest := keys_in_slot(source):
            command(source, *migrate, *rest)
        for port in ports:
            command(port, "CLUSTER SETSLOT", slot, "NODE", ids[target])

    try:
        command(source, *migrate, f"{counter}:seen")
        with pytest.raises(redis.ConnectionError, match="kept moving slots"):
            store.observe(registration("acc-02"), DetectionPoint.REGISTRATION)
        # Nothing was made on the new node beside the key that moved.
        assert keys_in_slot(target) == [f"{counter}:seen"]
    finally:
        finish_move()
    # The move complete, the task's retry counts the second account once.
    store.observe(registration("acc-02"), DetectionPoint.REGISTRATION)
    store.observe(registration("acc-02"), DetectionPoint.REGISTRATION)  # redelivered
    assert ports[target].get(counter) == b"2"
    assert ports[target].smembers(f"{counter}:seen") == {b"acc-01", b"acc-02"}
