"""Beat says in Redis that it is alive, after every pass of its scheduler.

When beat is down nothing fails: delayed actions are simply never released, the outbox never
swept, restrictions never lifted. So ``bulkguard status`` says whether beat ticks, from one key
beat writes after each pass, at least every ``TICK_SECONDS`` (``workers.config`` caps beat's
sleep to that). The key has no TTL: a beat that stopped is reported with the time it was last
seen, not as one that never ran. Redis, its clock and the reasons are those of
``workers.published_settings``; one connection per pass, opened and closed, and a failed write is
logged, never raised: a Redis outage must not stop beat from sending to a RabbitMQ broker.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

import redis
from celery.beat import PersistentScheduler

from infra.settings import get_settings
from workers.broker_watch import BrokerWatch
from workers.published_settings import redis_now

log = logging.getLogger(__name__)

TICK_SECONDS = 10
# Beat is alive while its last pass is at most this old: several passes, so that one slow pass
# (a broker that is slow to take a task) does not report it dead.
STALE_SECONDS = 60.0
KEY = "bulkguard:beat"
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class BeatTick:
    """Beat's last pass. ``started_at`` is beat's host's clock; ``last_tick`` is Redis's."""

    host: str
    pid: int
    started_at: float
    last_tick: float


def record_tick(client: redis.Redis, *, host: str, pid: int, started_at: float) -> None:
    tick = BeatTick(host, pid, started_at, redis_now(client))
    client.set(KEY, json.dumps(asdict(tick)))


def last_tick(client: redis.Redis) -> tuple[float, BeatTick | None]:
    """Redis's time now, and beat's last pass (None: beat never ran against this Redis)."""
    now = redis_now(client)
    found = client.get(KEY)
    return now, BeatTick(**json.loads(found)) if found is not None else None


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler (the schedule kept in a file), recording each pass and
    looking at the broker's memory on each (``workers.broker_watch``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started_at = time.time()
        self.failing = False
        # Each pass also looks for a broker that lost its memory (workers.broker_watch).
        self.broker_watch = BrokerWatch(self.app, get_settings().resolved_broker_url)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        self.broker_watch()
        try:
            with redis.Redis.from_url(
                get_settings().redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            ) as client:
                record_tick(
                    client, host=socket.gethostname(), pid=os.getpid(), started_at=self.started_at
                )
        except (redis.RedisError, OSError) as exc:
            if not self.failing:  # once per outage, not every pass
                log.warning("could not record beat's heartbeat: %s", exc)
            self.failing = True
        else:
            self.failing = False
        return interval
