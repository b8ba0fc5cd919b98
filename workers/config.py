"""The Celery configuration, derived from the typed settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from infra.settings import Settings
from tasks.messages import Escalate, SweepOutbox
from workers.queues import declared_queues, routes

# Longest hard time limit of any task (see tasks/*/task.py); the broker's visibility timeout must
# exceed it, or Redis hands a still-running task to a second worker.
LONGEST_HARD_LIMIT_SECONDS = 150
VISIBILITY_TIMEOUT_SECONDS = 3600


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.redis_url,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            # Keep a worker's consumption fair across queues it may share on small deployments.
            "queue_order_strategy": "round_robin",
            # Message bodies are JSON text: carry them as text in kombu's envelope rather than
            # base64 (its default, made for binary serializers), which costs the producer and the
            # worker an encoding pass over every batch and makes each copy in Redis a third
            # larger. Each message names its encoding, so base64 messages from other
            # clients are still read.
            "body_encoding": None,
        },
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
        "worker_prefetch_multiplier": 1,
        # Every queue declared, none created implicitly.
        "task_queues": declared_queues(),
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
        "beat_schedule": {
            "sweep-outbox": {
                "task": SweepOutbox.TASK,
                "schedule": dt.timedelta(seconds=settings.outbox_grace_seconds),
            },
            "escalate-notices": {"task": Escalate.TASK, "schedule": dt.timedelta(hours=1)},
        },
        "timezone": "UTC",
        "enable_utc": True,
    }
