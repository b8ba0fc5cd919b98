"""Each worker publishes the settings it runs with (``workers.published_settings``) once its
consumer is up, and again every ``PUBLISH_SECONDS`` while it consumes; it withdraws them when it
stops.

This runs in the worker's main process, after the pool has forked its children: the settings
there are the ones the children inherited. Each publication opens its own Redis connection and
closes it, so the parent holds none that a child forked later (a recycled pool process) would
inherit. A failed publication is logged, never raised: a Redis outage must not stop a worker
whose broker is elsewhere (RabbitMQ).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import redis
from celery import bootsteps

from infra.settings import get_settings
from tasks.enforcement.policy_file import PolicyFile, policy_path
from workers.published_settings import PUBLISH_SECONDS, publish, settings_in_force, withdraw

log = logging.getLogger(__name__)

# Each call talks to Redis on the worker's event loop: short timeouts keep a dead Redis from
# holding the loop (and its liveness beat, workers.health) for long.
REDIS_TIMEOUT_SECONDS = 2.0


class PublishSettings(bootsteps.StartStopStep):
    """A consumer step: started once the broker connection is up, stopped when it is lost (a
    worker that reconnects for longer than the key's TTL drops out of the list until it is
    consuming again)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        self.started_at = time.time()
        # The worker's own reading of the policy file, with the rules of the children's
        # (workers.published_settings.settings_in_force), apart from their per-process cache.
        self.policy: PolicyFile | None = None
        self.timer_entry: Any = None
        self.failing = False
        super().__init__(parent, **kwargs)

    def start(self, parent: Any) -> None:
        if self.policy is None:
            self.policy = PolicyFile(policy_path(get_settings().policy_file))
        self._publish(parent)
        self.timer_entry = parent.timer.call_repeatedly(PUBLISH_SECONDS, self._publish, (parent,))

    def stop(self, parent: Any) -> None:  # noqa: ARG002 - a bootstep's signature
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def shutdown(self, parent: Any) -> None:
        self.stop(parent)
        try:
            with _client() as client:
                withdraw(client, parent.hostname)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not withdraw this worker's published settings: %s", exc)

    def _publish(self, parent: Any) -> None:
        assert self.policy is not None
        try:
            with _client() as client:
                publish(
                    client,
                    node=parent.hostname,
                    pid=os.getpid(),
                    queues=[queue.name for queue in parent.task_consumer.queues],
                    started_at=self.started_at,
                    settings=settings_in_force(get_settings(), self.policy),
                )
        except (redis.RedisError, OSError) as exc:
            if not self.failing:  # once per outage, not every few seconds
                log.warning("could not publish this worker's settings: %s", exc)
            self.failing = True
        else:
            if self.failing:
                log.info("this worker's settings are published again")
            self.failing = False


def _client() -> redis.Redis:
    return redis.Redis.from_url(
        get_settings().redis_url,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
