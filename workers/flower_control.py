"""Flower's remote control, where the broker refuses it.

Flower asks the workers over Celery's remote control: to inspect them (pools, queues), to turn
their events on, and to wake them before it listens to their events. A Redis broker set up with
infra/redis/users.acl gives Flower a user that may not send remote control (only the operators'
may), so each of those is refused; the event listener would give up on the refusal and try again
forever, leaving Flower blind. Here a refused broadcast is an answer nobody gave: Flower shows the
workers from their own events (heartbeats and task events), which they send unasked
(``worker_send_task_events``). Where the broker allows it, nothing changes.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.app.control import Control
from kombu.exceptions import OperationalError
from redis.exceptions import NoPermissionError

from infra.redis_client import refused_by_broker

log = logging.getLogger(__name__)


class WatchingControl(Control):
    refused = False  # said once, not at every page Flower serves

    def broadcast(self, command: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().broadcast(command, *args, **kwargs)
        except (NoPermissionError, OperationalError) as exc:
            if not refused_by_broker(exc):
                raise
            if not self.refused:
                log.info(
                    "the broker refuses remote control to Flower's user (%s): workers are "
                    "shown from their events",
                    command,
                )
                WatchingControl.refused = True
            return []
