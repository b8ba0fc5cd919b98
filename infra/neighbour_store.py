"""Neighbourhood counters in Redis, shared by every scoring worker.

Distinct accounts are counted with HyperLogLogs (PFADD/PFCOUNT): adding the same account twice
changes nothing, so a redelivered batch does not inflate a rate, and each key costs at most 12 KB
however many accounts it sees. Every key expires after a quiet period, which is what makes the
rates "recent" and bounds the footprint by the number of active neighbourhoods.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import redis

from tasks.scoring.neighbours import (
    KINDS,
    NEIGHBOUR_FEATURES,
    hour_bucket,
    neighbourhoods,
    rates,
    registration_hours,
)
from tasks.scoring.signals import AccountSignals

PREFIX = "bulkguard:nb"
RECENT_SECONDS = 30 * 24 * 3600
# Registration-hour buckets must outlive the messaging and feedback stages that look back at them.
BURST_SECONDS = 8 * 24 * 3600


def _key(kind: str, key: str, metric: str) -> str:
    return f"{PREFIX}:{kind}:{key}:{metric}"


class RedisNeighbourStore:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def observe(self, records: Sequence[AccountSignals]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for record in records:
            registered = hour_bucket(record.registration.registered_at)
            reported = record.feedback is not None and record.feedback.reports > 0
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                self._add(pipe, _key(kind, key, "acc"), record.account_id, RECENT_SECONDS)
                if reported:
                    self._add(pipe, _key(kind, key, "rep"), record.account_id, RECENT_SECONDS)
                if kind != "block":
                    self._add(
                        pipe, _key(kind, key, f"reg:{registered}"), record.account_id, BURST_SECONDS
                    )
        pipe.execute()

    def record_bans(self, records: Sequence[AccountSignals]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for record in records:
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                self._add(pipe, _key(kind, key, "ban"), record.account_id, RECENT_SECONDS)
        pipe.execute()

    def lookup(self, records: Sequence[AccountSignals]) -> npt.NDArray[np.float32]:
        # Many records share a neighbourhood: ask Redis once per distinct key.
        rate_keys: dict[tuple[str, str], int] = {}
        burst_keys: dict[tuple[str, str, int], int] = {}
        pipe = self._redis.pipeline(transaction=False)
        queued = 0
        for record in records:
            hours = registration_hours(record)
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                if (kind, key) not in rate_keys:
                    rate_keys[(kind, key)] = queued
                    for metric in ("acc", "ban", "rep"):
                        pipe.pfcount(_key(kind, key, metric))
                    queued += 3
                if kind != "block" and (kind, key, hours[1]) not in burst_keys:
                    burst_keys[(kind, key, hours[1])] = queued
                    pipe.pfcount(*(_key(kind, key, f"reg:{h}") for h in hours))
                    queued += 1
        counts: list[int] = pipe.execute() if queued else []
        out = np.zeros((len(records), len(NEIGHBOUR_FEATURES)), dtype=np.float32)
        for row, record in enumerate(records):
            values: list[float] = []
            hours = registration_hours(record)
            bursts: list[float] = []
            for kind, key in zip(KINDS, neighbourhoods(record), strict=True):
                at = rate_keys[(kind, key)]
                values.extend(rates(counts[at], counts[at + 1], counts[at + 2]))
                if kind != "block":
                    bursts.append(float(counts[burst_keys[(kind, key, hours[1])]]))
            out[row] = values + bursts
        return out

    @staticmethod
    def _add(pipe: redis.client.Pipeline, key: str, member: str, ttl: int) -> None:
        pipe.pfadd(key, member)
        pipe.expire(key, ttl)
