"""Login throttling: after too many failed logins for one user name, or from one address, both
wait a while. Counted in Redis with an expiry, so the count forgets by itself and every console
process shares it."""

from __future__ import annotations

from dataclasses import dataclass

import redis

PREFIX = "bulkguard:console:failed-logins"


@dataclass(frozen=True)
class Throttle:
    client: redis.Redis
    per_user: int
    per_address: int
    window_seconds: int

    def wait_seconds(self, name: str, address: str) -> int:
        """Seconds before another try is heard (0: now)."""
        waits = [
            int(self.client.ttl(key))
            for key, limit in self._keys(name, address)
            if int(self.client.get(key) or 0) >= limit
        ]
        return max([w for w in waits if w > 0], default=0)

    def failed(self, name: str, address: str) -> None:
        with self.client.pipeline() as pipe:
            for key, _ in self._keys(name, address):
                pipe.incr(key)
                pipe.expire(key, self.window_seconds)
            pipe.execute()

    def succeeded(self, name: str) -> None:
        self.client.delete(f"{PREFIX}:user:{name.lower()}")

    def _keys(self, name: str, address: str) -> list[tuple[str, int]]:
        return [
            (f"{PREFIX}:user:{name.lower()[:64]}", self.per_user),
            (f"{PREFIX}:address:{address[:64]}", self.per_address),
        ]
