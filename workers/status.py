"""``bulkguard status``: what an operator checks first, read from the broker, the database and
what the workers and beat publish in Redis.

Workers are asked once, by one broadcast (``inspect active_queues``) with a short timeout: this
is a command a person runs, not a probe run every few seconds by every container. The settings
shown are those the workers published (``workers.published_settings``), never this command's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from celery import Celery
from kombu.common import ignore_errors
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import (
    DeadLetter,
    Delivery,
    EnforcementAction,
    LegalNotice,
    OutboxMessage,
    utcnow,
)
from infra.redis_client import refused_by_broker
from infra.registry import serving_versions
from tasks.enforcement.breaker import open_reason
from workers.beat_heartbeat import STALE_SECONDS, BeatTick, last_tick
from workers.published_settings import WorkerReport, agreed, disagreements, published
from workers.queue_age import QueueAges, queue_keys
from workers.queues import QUEUES


def queue_depths(app: Celery) -> dict[str, int]:
    """Messages waiting in each queue (not counting those a worker holds)."""
    with app.connection_for_read() as conn:
        if conn.transport.driver_type == "redis":
            with redis.Redis.from_url(app.conf.broker_url) as client:
                depths = {}
                for queue in QUEUES:
                    keys = queue_keys(client, queue)
                    depths[queue] = sum(int(client.llen(key)) for key in keys)
                return depths
        depths = {}
        for queue in QUEUES:
            channel: Any = conn.channel()
            try:
                depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
            except conn.channel_errors:
                depths[queue] = 0  # not declared yet: nothing waits in it
            finally:
                ignore_errors(conn, channel.close)
        return depths


def workers_online(app: Celery, timeout: float = 1.0) -> dict[str, list[str]] | None:
    """The workers that answered, by the queue they consume; None when the broker refuses
    remote control to this user (only the operators' may send it: infra/redis/users.acl)."""
    try:
        answers = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as exc:
        if refused_by_broker(exc):
            return None
        raise
    online: dict[str, list[str]] = {queue: [] for queue in QUEUES}
    for worker, queues in sorted(answers.items()):
        for queue in queues:
            online.setdefault(queue["name"], []).append(worker)
    return online


def published_online(reports: list[WorkerReport]) -> dict[str, list[str]]:
    """The workers that published their settings, by the queue they consume."""
    online: dict[str, list[str]] = {queue: [] for queue in QUEUES}
    for report in sorted(reports, key=lambda r: r.node):
        for queue in report.queues:
            online.setdefault(queue, []).append(report.node)
    return online


def database_status(session: Session, now: dt.datetime) -> dict[str, Any]:
    """Models, breaker, dead letters, outbox, reviews, deliveries and notices."""
    serving = serving_versions(session)
    readers = serving_versions(session, "evidence")
    breaker_reason = open_reason(session)

    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def age(column: Any, *where: Any) -> float | None:
        oldest = session.scalar(select(func.min(column)).where(*where))
        return round((now - oldest).total_seconds(), 1) if oldest is not None else None

    pending_review = (EnforcementAction.action == "review", EnforcementAction.status == "pending")
    unfinished = (OutboxMessage.completed_at.is_(None),)
    return {
        # The account model's roles (what scoring serves), and every stage's serving models:
        # the scoring stage's account model and the evidence stage's claim reader.
        "models": {role: row.version for role, row in sorted(serving.items())},
        "models_by_stage": {
            stage: {role: row.version for role, row in sorted(rows.items())}
            for stage, rows in (("scoring", serving), ("evidence", readers))
        },
        "breaker": {"open": breaker_reason is not None, "reason": breaker_reason},
        "dead_letters": {
            "total": count(DeadLetter),
            "last_24h": count(DeadLetter, DeadLetter.created_at >= now - dt.timedelta(days=1)),
        },
        "outbox": {
            "unpublished": count(OutboxMessage, OutboxMessage.published_at.is_(None)),
            "unfinished": count(OutboxMessage, *unfinished),
            "oldest_unfinished_seconds": age(OutboxMessage.created_at, *unfinished),
        },
        "reviews": {
            "pending": count(EnforcementAction, *pending_review),
            "oldest_seconds": age(EnforcementAction.created_at, *pending_review),
        },
        "deliveries": {
            row.status: row.n
            for row in session.execute(
                select(Delivery.status, func.count().label("n")).group_by(Delivery.status)
            )
        },
        "notices_awaiting_approval": count(LegalNotice, LegalNotice.status == "pending_review"),
    }


def worker_settings(
    now: float, reports: list[WorkerReport], online: dict[str, list[str]]
) -> dict[str, Any]:
    """By queue: the settings its workers share, those they do not, each worker's publication,
    and the workers that answered but published nothing (no Redis, or an older release)."""
    by_queue = {}
    for queue in sorted({*QUEUES, *(q for r in reports for q in r.queues)}):
        mine = [r for r in reports if queue in r.queues]
        by_queue[queue] = {
            "settings": agreed(mine),
            "disagreements": disagreements(mine),
            "workers": [
                {
                    "node": r.node,
                    "pid": r.pid,
                    "started_at": _iso(r.started_at),
                    "last_seen_seconds": round(max(now - r.last_seen, 0.0), 1),
                    "settings": r.settings,
                }
                for r in mine
            ],
            "not_reported": sorted(set(online.get(queue, ())) - {r.node for r in mine}),
        }
    return by_queue


def beat_status(now: float, tick: BeatTick | None) -> dict[str, Any]:
    """Alive while its last pass is recent; otherwise when it was last seen, if ever."""
    if tick is None:
        return {"alive": False, "last_tick": None, "seconds_ago": None, "host": None, "pid": None}
    ago = round(max(now - tick.last_tick, 0.0), 1)
    return {
        "alive": ago <= STALE_SECONDS,
        "last_tick": _iso(tick.last_tick),
        "seconds_ago": ago,
        "host": tick.host,
        "pid": tick.pid,
    }


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def collect(app: Celery, session: Session, client: redis.Redis) -> dict[str, Any]:
    """Everything ``bulkguard status`` shows; ``client`` is the Redis the workers publish to."""
    now = utcnow()
    asked = workers_online(app)
    redis_time, reports = published(client)
    # Without remote control, the workers are those whose settings are published and not yet
    # expired: each publishes them while it consumes (workers.settings_heartbeat).
    online = asked if asked is not None else published_online(reports)
    return {
        "at": now.isoformat(timespec="seconds"),
        "queues": queue_depths(app),
        # Without memory between runs: the age of messages sent with the header only.
        "oldest_message_seconds": QueueAges().read(app),
        "workers": online,
        "workers_from": "remote control" if asked is not None else "published settings",
        "worker_settings": worker_settings(redis_time, reports, online),
        # Across queues: a deployment whose services run with different settings.
        "disagreements": disagreements(reports),
        "beat": beat_status(*last_tick(client)),
        **database_status(session, now),
    }
