"""Whether the Redis broker may have lost what it held since bulkguard last looked.

A Redis restarted without persistence (or from an AOF that missed its last second, or a replica
promoted before it had everything) has forgotten messages it had accepted. The outbox would send
its unfinished follow-ups again only after their redelivery wait (15 minutes by default), which
is meant for a consumer that is merely slow. This module tells the two apart: a key bulkguard
keeps in the broker holds the ``run_id`` of the server it was written on. The key gone means the
data is gone (started empty, flushed, replaced); another ``run_id`` means the server restarted
since, and may have lost its last writes. Either way every unfinished follow-up is published
again at once (``maintenance.sweep_outbox``), and only then is the present run remembered, so a
sweep that fails half-way leaves the loss to be seen again.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import redis

KEY = "bulkguard:broker-memory"
# kombu's schemes for a Redis server redis-py can open by URL.
_REDIS_URL_SCHEMES = frozenset({"redis", "rediss"})
_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Observation:
    """The broker's present run, and the run bulkguard last remembered (None: no key)."""

    run_id: str
    remembered: str | None

    @property
    def loss(self) -> str | None:
        """Why the broker may have lost messages since the run remembered; None if it kept
        them."""
        if self.remembered is None:
            return (
                "the broker holds no memory key: it was started empty, flushed or replaced "
                "(or this is its first use)"
            )
        if self.remembered != self.run_id:
            return "the broker restarted since it was last seen (its run_id changed)"
        return None


@dataclass(frozen=True)
class BrokerMemory:
    """The memory key on the broker at ``url``; each call opens and closes its own connection
    (a sweep every half minute, a beat pass every ten seconds)."""

    url: str

    @classmethod
    def of(cls, broker_url: str) -> BrokerMemory | None:
        """The broker's memory when the broker is Redis; None otherwise: RabbitMQ keeps what it
        accepted in durable, replicated queues, and has no such loss to detect."""
        return cls(broker_url) if urlsplit(broker_url).scheme in _REDIS_URL_SCHEMES else None

    def observe(self) -> Observation:
        with self._client() as client:
            run_id = str(client.info("server")["run_id"])
            remembered = client.get(KEY)
        return Observation(run_id, remembered.decode() if remembered is not None else None)

    def remember(self, observation: Observation) -> None:
        """Record the run observed: if the server restarted again meanwhile, the next
        observation still sees a run_id other than its own."""
        with self._client() as client:
            client.set(KEY, observation.run_id)

    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(
            self.url, socket_timeout=_TIMEOUT_SECONDS, socket_connect_timeout=_TIMEOUT_SECONDS
        )
