"""One Redis client per process, created on first use (after fork in workers)."""

from __future__ import annotations

import os

import redis

from infra.settings import get_settings

_client: redis.Redis | None = None
_pid: int | None = None


def get_redis() -> redis.Redis:
    global _client, _pid  # noqa: PLW0603 - the per-process singleton
    if _client is None or _pid != os.getpid():
        _client = redis.Redis.from_url(
            get_settings().redis_url, socket_timeout=10, health_check_interval=30
        )
        _pid = os.getpid()
    return _client


def reset_redis() -> None:
    global _client, _pid  # noqa: PLW0603 - the per-process singleton
    _client = None
    _pid = None
