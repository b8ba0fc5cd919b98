"""Saying no before the fleet is swamped: a token bucket per client (and per address for bad
keys), kept in Redis so every api process shares it; and backpressure from the scoring queue,
whose oldest message's age and depth tell whether the workers keep up."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from workers.api.errors import ApiError

PREFIX = "bulkguard:api:bucket"

# Refill by the time elapsed since the last take, then take one token if there is one. Done in
# Redis in one step, so concurrent requests of one client in many processes never both take the
# last token. Redis's clock (TIME) is the one clock every process agrees on.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return {taken, tostring(tokens)}
"""


@dataclass(frozen=True)
class TokenBucket:
    """``burst`` requests at once, refilled at ``rate`` a second, per key."""

    client: redis.Redis
    rate: float
    burst: int
    name: str

    def take(self, key: str) -> float:
        """Take a token for ``key``: 0 when granted, else the seconds until one is there."""
        taken, left = self.client.eval(
            _TAKE, 1, f"{PREFIX}:{self.name}:{key}", self.burst, self.rate
        )
        if int(taken):
            return 0.0
        return max((1 - float(left)) / self.rate, 0.001)

    def check(self, key: str, what: str) -> None:
        """:class:`ApiError` 429 with ``Retry-After`` when ``key`` has no token left."""
        wait = self.take(key)
        if wait:
            raise ApiError(
                429,
                f"{what}: more than {self.rate:g} requests a second",
                {"Retry-After": str(math.ceil(wait))},
            )


@dataclass(frozen=True)
class Backlog:
    """What waits in the scoring queue: its depth, and how long its oldest message waited."""

    depth: int
    oldest_seconds: float | None


class Backpressure:
    """Refuses scoring work while the scoring queue is past its limits. The queue is read at
    most once a second per process (``read`` asks the broker, a few commands): a flood of
    requests does not become a flood of broker reads."""

    def __init__(
        self,
        read: Callable[[], Backlog],
        *,
        max_age_seconds: float,
        max_depth: int,
        refresh_seconds: float = 1.0,
    ) -> None:
        self._read = read
        self.max_age_seconds = max_age_seconds
        self.max_depth = max_depth
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._at = -math.inf
        self._backlog = Backlog(0, 0.0)

    def backlog(self) -> Backlog:
        with self._lock:
            if time.monotonic() - self._at >= self.refresh_seconds:
                try:
                    self._backlog = self._read()
                except Exception:  # the broker may be down: the outbox holds work
                    self._backlog = Backlog(0, None)
                self._at = time.monotonic()
            return self._backlog

    def check(self) -> None:
        """:class:`ApiError` 429 with ``Retry-After`` while the scoring queue is too far behind.
        An unreadable queue (the broker down) refuses nothing: the outbox keeps the work."""
        found = self.backlog()
        late = found.oldest_seconds is not None and found.oldest_seconds > self.max_age_seconds
        if late or found.depth > self.max_depth:
            raise ApiError(
                429,
                f"the scoring queue is behind ({found.depth} messages waiting, the oldest "
                f"for {found.oldest_seconds or 0:.0f} s): send again later",
                {"Retry-After": str(max(1, math.ceil(self.max_age_seconds / 4)))},
            )
