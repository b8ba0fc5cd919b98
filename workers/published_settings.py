"""The settings each worker runs with, as it published them: what is published, written, read
and compared, for ``bulkguard status`` and ``bulkguard breaker status``.

A command reads its own environment, which need not be the workers': an operator's shell or a
one-off container can carry other values, and a worker restarted with new ones runs beside
workers still on the old. What a worker enforces is what it read, so it says so itself
(``workers.settings_heartbeat``), and the commands show that.

Kept in Redis, not in a table: these are heartbeats, not records. A key per worker with a TTL
vanishes with a worker that died without a word, where a row would stay until something swept
it; rewriting it every few seconds costs Redis nothing and the database a row version per worker
per beat; and no schema migration is needed. The Redis is ``REDIS_URL``'s, which every process
has, the broker being RabbitMQ or not. An index (a sorted set by last publication) lists the
workers, so that reading never scans the keyspace, which the neighbourhood counters may fill.
Ages are measured on Redis's own clock (``TIME``), so hosts whose clocks differ agree on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, cast

import redis

from infra.settings import Settings
from tasks.enforcement.policy import PolicyError
from tasks.enforcement.policy_file import PolicyFile

# A worker publishes every PUBLISH_SECONDS; its key lives TTL_SECONDS, several publications, so
# that one slow tick of a busy worker's loop does not make it vanish.
PUBLISH_SECONDS = 10.0
TTL_SECONDS = 45
INDEX = "bulkguard:workers"
KEY_PREFIX = "bulkguard:worker:"

Setting = str | int | float | None


@dataclass(frozen=True)
class WorkerReport:
    """One worker's publication. ``started_at`` is the worker host's clock; ``last_seen`` is
    Redis's."""

    node: str
    pid: int
    queues: tuple[str, ...]
    started_at: float
    last_seen: float
    settings: dict[str, Setting]


def settings_in_force(settings: Settings, policy: PolicyFile) -> dict[str, Setting]:
    """What a worker decides and acts by, named as in ``infra.settings`` (the environment
    variable is ``BULKGUARD_`` and the name in capitals); the enforcement policy as the worker's
    own reading of its file accepted it. No secrets."""
    try:
        policy_version: str | None = policy.current().version
        policy_error = None
    except PolicyError as exc:
        policy_version, policy_error = None, str(exc)
    return {
        "enforcement_mode": settings.enforcement_mode,
        "breaker_window_minutes": settings.breaker_window_minutes,
        "breaker_baseline_hours": settings.breaker_baseline_hours,
        "breaker_multiple": settings.breaker_multiple,
        "breaker_min_bans": settings.breaker_min_bans,
        "release_delay_min_seconds": settings.release_delay_min_seconds,
        "release_delay_max_seconds": settings.release_delay_max_seconds,
        # As configured (None: the shipped policy), not resolved: install paths differ by host
        # while the file is the same, which the digest tells.
        "policy_file": str(settings.policy_file) if settings.policy_file else None,
        "enforcement_policy_version": policy_version,
        "enforcement_policy_sha256": policy.sha256,
        "enforcement_policy_error": policy_error,
        "legal_policy_version": settings.policy_version,
    }


def redis_now(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return float(seconds) + micros / 1e6


def publish(
    client: redis.Redis,
    *,
    node: str,
    pid: int,
    queues: Iterable[str],
    started_at: float,
    settings: Mapping[str, Setting],
    ttl: int = TTL_SECONDS,
) -> None:
    """Write (or refresh) this worker's publication, and drop the index's dead entries."""
    now = redis_now(client)
    report = WorkerReport(node, pid, tuple(sorted(queues)), started_at, now, dict(settings))
    with client.pipeline() as pipe:
        pipe.set(KEY_PREFIX + node, json.dumps(asdict(report)), ex=ttl)
        pipe.zadd(INDEX, {node: now})
        pipe.zremrangebyscore(INDEX, "-inf", now - ttl)
        pipe.execute()


def withdraw(client: redis.Redis, node: str) -> None:
    """A worker that stops says so, rather than lingering until its key expires."""
    with client.pipeline() as pipe:
        pipe.delete(KEY_PREFIX + node)
        pipe.zrem(INDEX, node)
        pipe.execute()


def published(client: redis.Redis) -> tuple[float, list[WorkerReport]]:
    """Redis's time now, and the publications of the workers alive, by node name."""
    now = redis_now(client)
    nodes = sorted(n.decode() for n in cast(list[bytes], client.zrange(INDEX, 0, -1)))
    raw = client.mget([KEY_PREFIX + n for n in nodes]) if nodes else []
    reports = []
    for found in raw:
        if found is None:
            continue  # expired since the index was read, or an entry not yet pruned
        fields = json.loads(found)
        reports.append(WorkerReport(**{**fields, "queues": tuple(fields["queues"])}))
    return now, reports


def disagreements(reports: Sequence[WorkerReport]) -> dict[str, list[dict[str, Any]]]:
    """The settings not all of ``reports`` share: for each, every value with its workers (a
    setting a worker does not publish, an older release's, counts as None)."""
    names = sorted({name for report in reports for name in report.settings})
    found = {}
    for name in names:
        values: dict[str, tuple[Setting, list[str]]] = {}
        for report in reports:
            value = report.settings.get(name)
            values.setdefault(json.dumps(value), (value, []))[1].append(report.node)
        if len(values) > 1:
            found[name] = [{"value": value, "workers": nodes} for value, nodes in values.values()]
    return found


def agreed(reports: Sequence[WorkerReport]) -> dict[str, Setting]:
    """The settings every one of ``reports`` runs with alike, in the order they are published."""
    differing = disagreements(reports)
    first = reports[0].settings if reports else {}
    return {name: value for name, value in first.items() if name not in differing}
