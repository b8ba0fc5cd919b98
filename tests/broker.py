"""A broker for tests of publication: it takes what is published, as a Celery app's
``send_task`` would, or refuses it as an unreachable one does."""

from __future__ import annotations

from typing import Any


class Broker:
    """Takes what is published, as a Celery app's ``send_task`` would, or refuses it."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.sent: list[tuple[str, Any]] = []
        self.headers: list[dict[str, Any]] = []

    def send_task(self, name: str, args: Any = None, kwargs: Any = None, **options: Any) -> None:
        if self.down:
            raise ConnectionError("broker unreachable")
        assert args is None, "bulkguard publishes keyword arguments only"
        self.sent.append((name, kwargs))
        self.headers.append(options.get("headers") or {})

    def forget(self) -> None:
        """What a Redis restarted without persistence does: everything accepted is gone."""
        self.sent.clear()
        self.headers.clear()
