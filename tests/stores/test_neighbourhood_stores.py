"""Neighbourhood stores, the in-memory one (training) and the Redis one (serving), held to the
same rules on the same records."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import redis
from msgspec.structs import replace

from tasks.accounts.signals import AccountSignals, DetectionPoint
from tasks.neighbourhoods import redis_store
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.neighbourhoods.redis_store import (
    BURST_TTL_SECONDS,
    RECENT_TTL_SECONDS,
    REDELIVERY_SECONDS,
    RedisNeighbourStore,
)
from tasks.neighbourhoods.rules import (
    BURST_WINDOW_SECONDS,
    NEIGHBOUR_FEATURES,
    RECENT_SECONDS,
    NeighbourStore,
)
from tests.records import T0, feedback_block, messaging_block, parse, record

THIRD = 1.0 / 3.0


@pytest.fixture(params=["memory", "redis", "cluster"])
def store(request: pytest.FixtureRequest) -> NeighbourStore:
    """The same rules held by memory (training), one Redis and a three-node Redis Cluster."""
    if request.param == "memory":
        return MemoryNeighbourStore()
    if request.param == "cluster":
        return RedisNeighbourStore(request.getfixturevalue("cluster_client"))
    return RedisNeighbourStore(request.getfixturevalue("redis_client"))


def neighbourhood_records() -> list[AccountSignals]:
    """T0 is 12:00 UTC: a1 and a2 register in the 12:00 hour, a3 in the 11:00 hour, a4 at 09:00."""
    raw = [
        record("a1", phone="+421905123001", network_id="n1", device_id="d1", registered_at=T0),
        record(
            "a2",
            phone="+421905123002",
            network_id="n1",
            device_id="d2",
            registered_at=T0 + dt.timedelta(minutes=10),
            feedback=feedback_block(reports=2),
        ),
        record(
            "a3",
            phone="+421905999003",
            network_id="n1",
            device_id="d2",
            registered_at=T0 - dt.timedelta(minutes=30),
            feedback=feedback_block(reports=0),
        ),
        record(
            "a4",
            phone="+421905123004",
            network_id="n2",
            device_id="d3",
            registered_at=T0 - dt.timedelta(hours=3),
        ),
    ]
    return parse(raw, DetectionPoint.REGISTRATION)


EXPECTED = np.array(
    [
        # block ban, block rep, network ban, network rep, device ban, device rep, net regs, dev regs
        [THIRD, THIRD, THIRD, THIRD, 0.0, 0.0, 3.0, 1.0],  # a1: banned itself, device seen once
        [THIRD, THIRD, THIRD, THIRD, 0.0, 0.5, 3.0, 2.0],  # a2: reported itself
        [0.0, 0.0, THIRD, THIRD, 0.0, 0.5, 1.0, 1.0],  # a3: alone in its block; earlier hour
        [THIRD, THIRD, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],  # a4: shares only the block
    ],
    dtype=np.float32,
)


def test_lookup_rows(store: NeighbourStore) -> None:
    recs = neighbourhood_records()
    store.observe(recs, DetectionPoint.REGISTRATION)
    store.record_bans(recs[:1])
    rows = store.lookup(recs)
    assert rows.shape == (4, len(NEIGHBOUR_FEATURES))
    assert rows.dtype == np.float32
    np.testing.assert_allclose(rows, EXPECTED, rtol=1e-6)


def test_lookup_of_nothing(store: NeighbourStore) -> None:
    assert store.lookup([]).shape == (0, len(NEIGHBOUR_FEATURES))


def test_unseen_accounts_have_zero_rows(store: NeighbourStore) -> None:
    rows = store.lookup(neighbourhood_records())
    np.testing.assert_array_equal(rows, np.zeros((4, len(NEIGHBOUR_FEATURES)), np.float32))


def test_observing_again_changes_nothing(store: NeighbourStore) -> None:
    recs = neighbourhood_records()
    store.observe(recs, DetectionPoint.REGISTRATION)
    store.record_bans(recs[:1])
    store.observe(recs, DetectionPoint.REGISTRATION)  # a redelivered batch
    store.record_bans(recs[:1])
    # The same account seen again at a later stage is still one account.
    (later,) = parse(
        [
            record(
                "a2",
                phone="+421905123002",
                network_id="n1",
                device_id="d2",
                registered_at=T0 + dt.timedelta(minutes=10),
                observed_at=T0 + dt.timedelta(days=2),
                feedback=feedback_block(reports=5),
            )
        ],
        DetectionPoint.FEEDBACK,
    )
    store.observe([later], DetectionPoint.FEEDBACK)
    np.testing.assert_allclose(store.lookup(recs), EXPECTED, rtol=1e-6)


def test_redis_and_memory_stores_agree_step_by_step(redis_client: redis.Redis) -> None:
    memory = MemoryNeighbourStore()
    served = RedisNeighbourStore(redis_client)
    recs = neighbourhood_records()
    steps = [
        ("observe", recs[:2]),
        ("bans", recs[1:2]),
        ("observe", recs[2:]),
        ("observe", recs[:1]),
        ("bans", recs[3:]),
        ("bans", recs[1:2]),
    ]
    for action, batch in steps:
        for s in (memory, served):
            if action == "observe":
                s.observe(batch, DetectionPoint.REGISTRATION)
            else:
                s.record_bans(batch)
        np.testing.assert_array_equal(served.lookup(recs), memory.lookup(recs))
    # a2 (reported and banned) and a4 (banned) make the rates non-trivial by now.
    assert memory.lookup(recs)[3, 0] == pytest.approx(2 / 3)


def test_redis_keys_expire(redis_client: redis.Redis) -> None:
    recs = neighbourhood_records()
    served = RedisNeighbourStore(redis_client)
    served.observe(recs, DetectionPoint.REGISTRATION)
    served.record_bans(recs[:1])
    prefix = redis_store.PREFIX
    keys = {k.decode() for k in redis_client.scan_iter(f"{prefix}:*")}
    hour = int(T0.timestamp()) // 3600
    # Every key names its neighbourhood or counter as its hash tag (one slot on a cluster).
    assert {
        f"{prefix}:{{block:+421905123}}:acc",
        f"{prefix}:{{block:+421905123}}:ban",
        f"{prefix}:{{block:+421905123}}:n",
        f"{prefix}:{{device:d2}}:rep",
        f"{prefix}:{{regs:network:{hour}:n1}}",
        f"{prefix}:{{regs:network:{hour}:n1}}:seen",
    } <= keys
    for key in keys:
        if key.endswith(":seen"):
            limit = REDELIVERY_SECONDS
        elif ":{regs:" in key:
            limit = BURST_TTL_SECONDS
        else:
            assert key.rsplit(":", 1)[1] in {"acc", "ban", "rep", "n"}, key
            limit = RECENT_TTL_SECONDS
        assert 0 < redis_client.ttl(key) <= limit, key


def test_messaging_stage_only_reads(redis_client: redis.Redis) -> None:
    # The bulk of the traffic: scoring a messaging batch writes nothing unless a record carries
    # reports, so its cost is the reads.
    recs = parse(
        [record(a, messaging=messaging_block()) for a in ("m1", "m2")], DetectionPoint.MESSAGING
    )
    RedisNeighbourStore(redis_client).observe_and_lookup(recs, DetectionPoint.MESSAGING)
    assert list(redis_client.scan_iter(f"{redis_store.PREFIX}:*")) == []


def test_rates_of_a_neighbourhood_cool_down_with_its_window(redis_client: redis.Redis) -> None:
    served = RedisNeighbourStore(redis_client)
    recs = neighbourhood_records()
    served.observe(recs, DetectionPoint.REGISTRATION)
    served.record_bans(recs[:1])
    assert served.lookup(recs)[0, 0] == pytest.approx(THIRD)
    # As if the ban were older than the window: the neighbourhood is no longer hot.
    redis_client.setrange(f"{redis_store.PREFIX}:{{block:+421905123}}:n", 40, "0000000001")
    assert served.lookup(recs)[0, 0] == 0.0


def _seen_later(recs: list[AccountSignals], after: dt.timedelta) -> list[AccountSignals]:
    """The same accounts observed again at the messaging stage, ``after`` their registration."""
    return [replace(r, observed_at=r.registration.registered_at + after) for r in recs]


def test_bursts_are_known_within_their_window_only(store: NeighbourStore) -> None:
    recs = neighbourhood_records()
    store.observe(recs, DetectionPoint.REGISTRATION)
    burst = NEIGHBOUR_FEATURES.index("network_regs_1h")
    window = dt.timedelta(seconds=BURST_WINDOW_SECONDS)
    inside = store.lookup(_seen_later(recs, window - dt.timedelta(minutes=1)))
    np.testing.assert_array_equal(inside[:, burst], EXPECTED[:, burst])
    # Redis still holds the counters (they outlive the window), but nothing is known past it:
    # training, which keeps them forever, must see the same missing values.
    outside = store.lookup(_seen_later(recs, window))
    assert np.isnan(outside[:, burst : burst + 2]).all()


def test_rates_count_while_the_last_ban_is_recent_to_the_record(store: NeighbourStore) -> None:
    recs = neighbourhood_records()
    store.observe(recs, DetectionPoint.REGISTRATION)
    store.record_bans(recs[:1])  # observed at T0 + 1 minute
    rate = NEIGHBOUR_FEATURES.index("block_ban_rate")
    recent = dt.timedelta(seconds=RECENT_SECONDS)
    assert store.lookup(_seen_later(recs[:1], recent - dt.timedelta(hours=1)))[0, rate] == (
        pytest.approx(THIRD)
    )
    assert store.lookup(_seen_later(recs[:1], recent + dt.timedelta(hours=1)))[0, rate] == 0.0
    # A ban observed earlier, recorded later (batches land in any order), does not cool it.
    earlier = T0 - dt.timedelta(days=20)
    registration = replace(recs[3].registration, registered_at=earlier - dt.timedelta(days=1))
    old = [replace(recs[3], observed_at=earlier, registration=registration)]
    store.record_bans(old)
    assert store.lookup(_seen_later(recs[:1], recent - dt.timedelta(hours=1)))[0, rate] == (
        pytest.approx(2 / 3)
    )


def test_a_neighbourhood_known_only_through_bans(store: NeighbourStore) -> None:
    # Accounts registered before bulkguard saw them: banned, never counted as registered. In
    # Redis only the ban field of the neighbourhood's counts key is ever written.
    recs = neighbourhood_records()[:2]  # one block, one network
    store.record_bans(recs)
    rows = store.lookup(recs)
    assert rows[0, NEIGHBOUR_FEATURES.index("block_ban_rate")] == 1.0
    assert rows[0, NEIGHBOUR_FEATURES.index("block_report_rate")] == 0.0


def test_large_neighbourhoods_go_to_redis_in_slices(redis_client: redis.Redis) -> None:
    # Lua's unpack() takes a few thousand values at most: 2,500 registrations on one network in
    # one batch must still all be counted.
    recs = parse(
        [record(f"s{i}", phone=f"+4219051{i:05d}", network_id="busy") for i in range(2500)],
        DetectionPoint.REGISTRATION,
    )
    served = RedisNeighbourStore(redis_client)
    rows = served.observe_and_lookup(recs, DetectionPoint.REGISTRATION)
    assert rows[0, NEIGHBOUR_FEATURES.index("network_regs_1h")] == 2500  # counters: exact
    served.record_bans(recs[:25])
    rate = served.lookup(recs[:1])[0, NEIGHBOUR_FEATURES.index("network_ban_rate")]
    # Its accounts are a HyperLogLog: an estimate, within 2% at this size.
    assert rate == pytest.approx(25 / 2500, rel=0.02)


def test_registration_batches_survive_redis_forgetting_the_script(
    redis_client: redis.Redis,
) -> None:
    # The script is sent by its hash; after a Redis restart or SCRIPT FLUSH it is loaded again
    # and the batch still counts exactly once.
    recs = neighbourhood_records()
    served = RedisNeighbourStore(redis_client)
    redis_client.script_flush()
    rows = served.observe_and_lookup(recs, DetectionPoint.REGISTRATION)
    expected = MemoryNeighbourStore().observe_and_lookup(recs, DetectionPoint.REGISTRATION)
    np.testing.assert_array_equal(rows, expected)
    assert rows[:, NEIGHBOUR_FEATURES.index("network_regs_1h")].max() > 0


def test_a_ban_lifted_on_appeal_leaves_the_rates(store: NeighbourStore) -> None:
    recs = neighbourhood_records()
    store.observe(recs, DetectionPoint.REGISTRATION)
    store.record_bans(recs[:1])
    store.forget_bans(recs[:1])
    unbanned = EXPECTED.copy()
    unbanned[:, [0, 2, 4]] = 0.0  # a1's ban was the only one
    np.testing.assert_allclose(store.lookup(recs), unbanned, rtol=1e-6)


def test_lifts_never_outlive_the_bans_they_lift(redis_client: redis.Redis) -> None:
    store = RedisNeighbourStore(redis_client)
    recs = neighbourhood_records()
    store.observe(recs, DetectionPoint.REGISTRATION)
    # A lift of a ban the store no longer knows (its sketch expired) lifts nothing.
    store.forget_bans(recs[:1])
    store.record_bans(recs[:1])
    np.testing.assert_allclose(store.lookup(recs), EXPECTED, rtol=1e-6)
    # A lift recorded, then the bans expire and a new one comes: the old lift is gone with them.
    store.forget_bans(recs[:1])
    for key in redis_client.scan_iter(match=f"{redis_store.PREFIX}:*}}:ban"):
        redis_client.delete(key)
    store.record_bans(recs[:1])
    np.testing.assert_allclose(store.lookup(recs), EXPECTED, rtol=1e-6)
