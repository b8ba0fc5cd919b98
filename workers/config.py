"""The Celery configuration, derived from the typed settings."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from infra.settings import Settings
from tasks.messages import (
    ApplyRetention,
    CheckDrift,
    Escalate,
    ExpireActions,
    ReleaseActions,
    SweepOutbox,
)
from tasks.pipeline import BACKOFF_CAP_SECONDS
from workers.beat_heartbeat import TICK_SECONDS
from workers.queues import declared_queues, routes

# Longest hard time limit of any task (see tasks/*/task.py); tests/unit/test_brokers.py checks
# every registered task against it.
LONGEST_HARD_LIMIT_SECONDS = 150
# Redis has no consumer acknowledgements: a message a worker received stays in its "unacked"
# table until acknowledged, and is handed out again once it is older than the visibility
# timeout. That timeout is the time a killed worker's messages stay invisible, so it is as short
# as it can be without handing a message that is still in good hands to a second worker. The
# longest a healthy worker holds one unacknowledged (late ack) is a retried message: it waits in
# the worker for its countdown (at most the backoff cap), then, if every pool process is busy,
# for one to finish (at most a hard limit), then runs (at most a hard limit). The margin covers
# clock skew between the host that received a message and the one that restores it, and a pool
# process being replaced (model load) meanwhile.
VISIBILITY_MARGIN_SECONDS = 60
VISIBILITY_TIMEOUT_SECONDS = (
    BACKOFF_CAP_SECONDS + 2 * LONGEST_HARD_LIMIT_SECONDS + VISIBILITY_MARGIN_SECONDS
)
# How often a worker looks for expired unacknowledged messages (kombu's default scans every
# 100 s); the return of a killed worker's message is late by at most this much.
RESTORE_SWEEP_SECONDS = 10
# Beat releases scheduled enforcement actions this often: a release lands at most this late.
RELEASE_EVERY_SECONDS = 30

RABBITMQ_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+socket"})


def is_rabbitmq(broker_url: str) -> bool:
    """RabbitMQ for ``amqp://`` URLs, Redis for ``redis://``; any other broker is refused."""
    scheme = urlsplit(broker_url).scheme
    if scheme in RABBITMQ_SCHEMES:
        return True
    if scheme in REDIS_SCHEMES:
        return False
    raise ValueError(f"unsupported broker {scheme!r}: BROKER_URL must be redis:// or amqp://")


def broker_options(settings: Settings) -> dict[str, Any]:
    """What differs between the two brokers; the rest of the configuration is shared."""
    if is_rabbitmq(settings.resolved_broker_url):
        return {
            "broker_transport_options": {
                # Publisher confirms: a publish returns once the broker has the message (for a
                # quorum queue, a majority of its replicas), and raises if it refused it.
                "confirm_publish": True,
            },
            # Quorum queues (workers.queues): Celery sees them and so uses per-consumer
            # prefetch, which they require, and native delayed delivery for countdowns.
            "task_queues": declared_queues(rabbitmq=True),
            "task_default_exchange_type": "topic",
            "worker_detect_quorum_queues": True,
        }
    timeout = settings.redis_visibility_timeout_seconds or VISIBILITY_TIMEOUT_SECONDS
    return {
        # kombu's Redis transport, with a check of every popped item: what is not an envelope
        # becomes a dead letter instead of stopping the worker (workers.envelopes).
        "broker_transport": "workers.envelopes:GuardedTransport",
        "broker_transport_options": {
            "visibility_timeout": timeout,
            # Scan for expired unacknowledged messages on every sweep, every RESTORE_SWEEP
            # seconds (or sooner under a short test timeout); the scan is one ZRANGE.
            "unacked_restore_interval": max(1, min(RESTORE_SWEEP_SECONDS, timeout // 4)),
            "unacked_restore_throttle": 1,
            # Keep a worker's consumption fair across queues it may share on small deployments.
            "queue_order_strategy": "round_robin",
            # Message bodies are JSON text: carry them as text in kombu's envelope rather than
            # base64 (its default, made for binary serializers), which costs the producer and the
            # worker an encoding pass over every batch and makes each copy in Redis a third
            # larger. Each message names its encoding, so base64 messages from other
            # clients are still read.
            "body_encoding": None,
        },
        "task_queues": declared_queues(),
        "task_default_exchange_type": "direct",
    }


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.resolved_broker_url,
        "broker_connection_retry_on_startup": True,
        **broker_options(settings),
        # Results are not used: each stage's effects live in the database.
        "task_ignore_result": True,
        "result_backend": None,
        # JSON only, in both directions; pickle is refused by every consumer.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "event_serializer": "json",
        # At-least-once: acknowledge after the task ran, re-queue if the worker process dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        # Durable messages: written to disk by RabbitMQ (Redis keeps what its AOF keeps).
        "task_default_delivery_mode": "persistent",
        "worker_prefetch_multiplier": 1,
        # Every queue declared (broker_options), none created implicitly.
        "task_routes": routes(),
        "task_default_queue": "maintenance",
        "task_default_exchange": "bulkguard",
        "task_default_routing_key": "maintenance",
        "task_create_missing_queues": False,
        # A default for anything that slips through; every task sets its own tighter limits.
        "task_soft_time_limit": 120,
        "task_time_limit": LONGEST_HARD_LIMIT_SECONDS,
        # Events for Flower.
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_consumer": "workers.consumer:DeadLetteringConsumer",
        "worker_hijack_root_logger": False,
        "worker_max_memory_per_child": 1_500_000,  # KiB: recycle a child that leaks
        # Beat records each pass of its scheduler (workers.beat_heartbeat) and passes at least
        # every TICK_SECONDS, so that `bulkguard status` can tell a live beat from a dead one.
        "beat_scheduler": "workers.beat_heartbeat:HeartbeatScheduler",
        "beat_max_loop_interval": TICK_SECONDS,
        "beat_schedule": {
            "sweep-outbox": {
                "task": SweepOutbox.TASK,
                "schedule": dt.timedelta(seconds=settings.outbox_grace_seconds),
            },
            "escalate-notices": {"task": Escalate.TASK, "schedule": dt.timedelta(hours=1)},
            "check-drift": {"task": CheckDrift.TASK, "schedule": dt.timedelta(hours=1)},
            # Daily: periods are in days, and a run resumes where a killed one stopped.
            "retention": {"task": ApplyRetention.TASK, "schedule": dt.timedelta(hours=24)},
            "expire-actions": {"task": ExpireActions.TASK, "schedule": dt.timedelta(minutes=1)},
            "release-actions": {
                "task": ReleaseActions.TASK,
                "schedule": dt.timedelta(seconds=RELEASE_EVERY_SECONDS),
            },
        },
        "timezone": "UTC",
        "enable_utc": True,
    }
