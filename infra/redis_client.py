"""One Redis client per process, created on first use (after fork in workers): the broker's
server, for everything but the neighbourhood counters, and the counters' server or cluster."""

from __future__ import annotations

import os

import redis
from redis.cluster import RedisCluster

from infra.settings import get_settings

_client: redis.Redis | None = None
_pid: int | None = None
_counters: tuple[int, redis.Redis | RedisCluster] | None = None


def get_redis() -> redis.Redis:
    global _client, _pid  # noqa: PLW0603 - the per-process singleton
    if _client is None or _pid != os.getpid():
        _client = redis.Redis.from_url(
            get_settings().redis_url, socket_timeout=10, health_check_interval=30
        )
        _pid = os.getpid()
    return _client


def get_counters_redis() -> redis.Redis | RedisCluster:
    """The neighbourhood counters' client: a cluster client when the configured server is a
    node of a Redis Cluster (a plain client there would be answered MOVED for most keys)."""
    global _counters  # noqa: PLW0603 - the per-process singleton
    if _counters is not None and _counters[0] == os.getpid():
        return _counters[1]
    url = get_settings().counters_redis_url
    if not url:
        client: redis.Redis | RedisCluster = get_redis()
    else:
        options = {"socket_timeout": 10, "health_check_interval": 30}
        probe = redis.Redis.from_url(url, **options)
        try:
            clustered = probe.info("cluster").get("cluster_enabled") == 1
        finally:
            probe.close()
        client = (RedisCluster if clustered else redis.Redis).from_url(url, **options)
    _counters = (os.getpid(), client)
    return client


def reset_redis() -> None:
    global _client, _pid, _counters  # noqa: PLW0603 - the per-process singleton
    _client = None
    _pid = None
    _counters = None


def refused_by_broker(exc: BaseException) -> bool:
    """Whether Redis refused ``exc``'s command to this client's user (an ACL, see
    infra/redis/users.acl); kombu wraps the refusal in an error of its own."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, redis.exceptions.NoPermissionError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
