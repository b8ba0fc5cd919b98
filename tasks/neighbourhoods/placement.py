"""Where the neighbourhood counters live: one Redis, or the primaries of a Redis Cluster.

A batch's counter work is one script call of writes plus a list of keys to read. On one Redis
both go in a single pipelined round trip, the reads as a plain MGET (a Lua loop cost Redis
three to four times the CPU for the same 7,000 keys, timed once by hand). On a cluster, every
key carries a hash tag (one neighbourhood's or one counter's keys share a slot), the writes and
reads are split by the primary that owns each tag's slot, and each primary gets one script call
that writes its part and reads its keys: a plain MGET cannot span slots, and one command per key
would cost the client far more than the script costs Redis. The calls go to the primaries one
after another, each on that node's own connection.

A script without a shebang line may touch keys of any slot its node serves (Redis 7 keeps that
behaviour of earlier versions for such scripts; the ``allow-cross-slot-keys`` flag that says so
explicitly needs Redis 7, and the embedded Redis is 6.2). While a slot is being moved, or after
the client's map of slots went stale, a node refuses keys it no longer serves; every write of the
script is idempotent (sketch adds, set-gated counters, maxima), so the batch is re-split on a
fresh map and sent again, and if the cluster still moves slots the error is a transient one that
the task retries. Redirections are never followed (see ``_run_once``), and the script touches a
registration counter before the set of accounts it counted, so that a half-moved slot refuses
the pair before either is written.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Protocol

import orjson
import redis
from redis.cluster import ClusterNode, RedisCluster

# Attempts on a fresh slot map, a moment apart (0.05 s doubling: ~0.75 s in all), before a
# cluster that is moving slots counts as unavailable.
CLUSTER_ATTEMPTS = 5
# The node's answers while a batch's slots move: redirections (never followed, see below), a
# cluster without a primary for a slot, and a script touching a key its node does not serve.
_SLOTS_MOVING = (
    redis.exceptions.MovedError,
    redis.exceptions.AskError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.SlotNotCoveredError,
)
_NON_LOCAL = "attempted to access a non local key"


class SlotsMoving(redis.ConnectionError):
    """The cluster moved a batch's slots between reading the slot map and running the batch, on
    every attempt; a transient error (a subclass of ``redis.ConnectionError``, so tasks retry)."""


class Placement(Protocol):
    def run(
        self,
        script: str,
        sha: str,
        args: Sequence[Any],
        writes: Sequence[tuple[str, Any]],
        reads: Sequence[str],
    ) -> list[bytes | None]:
        """Run ``script`` (its SHA-1 ``sha``) with ``args`` and the JSON list of the ``writes``
        entries, each given with a key whose slot is the entry's, then read ``reads``: their
        values in the same order. ``args`` are the script's first arguments; the fourth it gets
        says how it reads (``none`` or ``get``), then the entries, then any keys to read."""
        ...


class OneRedis:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def run(
        self,
        script: str,
        sha: str,
        args: Sequence[Any],
        writes: Sequence[tuple[str, Any]],
        reads: Sequence[str],
    ) -> list[bytes | None]:
        def send() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            if writes:
                # EVALSHA itself: redis-py's pipelined scripts cost a SCRIPT EXISTS round trip
                # each time, a tenth of a single-account registration's neighbourhood step.
                pipe.evalsha(sha, 0, *args, "none", _entries(writes))
            if reads:
                pipe.mget(reads)
            return pipe.execute()

        try:
            replies = send()
        except redis.exceptions.NoScriptError:
            # Redis restarted or flushed its scripts; the script did not run, and the reads
            # after it are harmless to repeat.
            self._client.script_load(script)
            replies = send()
        return list(replies[-1]) if reads else []


class ClusterPrimaries:
    def __init__(self, client: RedisCluster) -> None:
        self._client = client

    def run(
        self,
        script: str,
        sha: str,
        args: Sequence[Any],
        writes: Sequence[tuple[str, Any]],
        reads: Sequence[str],
    ) -> list[bytes | None]:
        for attempt in range(CLUSTER_ATTEMPTS):
            try:
                return self._run_once(sha, args, writes, reads)
            except redis.exceptions.NoScriptError:
                # A node that never saw the script (new, restarted or flushed): load it on every
                # primary; nothing of the node's part ran.
                self._client.script_load(script)
                continue
            except _SLOTS_MOVING:
                pass
            except redis.exceptions.ResponseError as exc:
                if _NON_LOCAL not in str(exc):
                    raise
            if attempt == CLUSTER_ATTEMPTS - 1:
                break  # no wait and no new map for an attempt that will not be made
            # A key its node no longer serves, or one of a slot being moved right now: wait a
            # little for the move, read the slot map again and send the batch again.
            time.sleep(0.05 * 2**attempt)
            self._client.nodes_manager.initialize()
        raise SlotsMoving(
            f"the counters' Redis Cluster kept moving slots over {CLUSTER_ATTEMPTS} attempts"
        )

    def _run_once(
        self,
        sha: str,
        args: Sequence[Any],
        writes: Sequence[tuple[str, Any]],
        reads: Sequence[str],
    ) -> list[bytes | None]:
        node_writes: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        node_reads: dict[str, list[int]] = defaultdict(list)
        nodes: dict[str, ClusterNode] = {}
        for key, entry in writes:
            node_writes[self._node(key, nodes)].append((key, entry))
        for i, key in enumerate(reads):
            node_reads[self._node(key, nodes)].append(i)
        values: list[bytes | None] = [None] * len(reads)
        for name, node in nodes.items():
            mine, wanted = node_writes.get(name, []), node_reads.get(name, [])
            # The first key routes the call to the node; the script itself does not use KEYS.
            route = mine[0][0] if mine else reads[wanted[0]]
            # On the node's own connection, which never follows a redirection: following ASK
            # during a slot's move would run the whole part on the importing node and create
            # there the keys not yet moved, which the move then cannot place.
            reply = self._client.get_redis_connection(node).evalsha(
                sha, 1, route, *args, "get", _entries(mine), *(reads[i] for i in wanted)
            )
            for i, value in zip(wanted, reply, strict=True):
                values[i] = value
        return values

    def _node(self, key: str, nodes: dict[str, ClusterNode]) -> str:
        slot = self._client.keyslot(key)  # type: ignore[no-untyped-call]  # redis-py: untyped
        node = self._client.nodes_manager.get_node_from_slot(slot)
        nodes.setdefault(node.name, node)
        return node.name


def _entries(writes: Sequence[tuple[str, Any]]) -> bytes:
    return orjson.dumps([entry for _, entry in writes])
