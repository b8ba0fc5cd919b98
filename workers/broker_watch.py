"""Beat looks at the broker's memory (``infra.broker_memory``) on every pass of its scheduler.

The outbox sweep sees a broker that lost its memory on its own, but only at its next turn
(``BULKGUARD_OUTBOX_GRACE_SECONDS``, 30 s by default), and only once a maintenance worker takes
it. Beat passes at least every ``TICK_SECONDS``: when it sees a loss it sends the sweep at once.
The sweep republishes and records the present run; beat sends one sweep per run it sees lost, so
a sweep that is slow to run is not joined by one every pass. Should that sweep be lost too, the
scheduled one still sees the loss, since only a sweep that republished records the run.
"""

from __future__ import annotations

import logging

import redis
from celery import Celery
from kombu.exceptions import OperationalError as BrokerError

from infra.broker_memory import BrokerMemory
from tasks.messages import SweepOutbox

log = logging.getLogger(__name__)


class BrokerWatch:
    def __init__(self, app: Celery, broker_url: str) -> None:
        self.app = app
        self.memory = BrokerMemory.of(broker_url)
        self.signalled: str | None = None  # the run a sweep was sent for
        self.failing = False

    def __call__(self) -> None:
        """Look once; never raises: beat must go on sending its schedule whatever Redis does."""
        if self.memory is None:
            return
        try:
            observation = self.memory.observe()
            if observation.loss is None or observation.run_id == self.signalled:
                self.failing = False
                return
            self.app.send_task(SweepOutbox.TASK, kwargs=SweepOutbox().kwargs())
        except (redis.RedisError, OSError, BrokerError):
            if not self.failing:  # once per outage, not every pass
                log.warning("could not look at the broker's memory", exc_info=True)
            self.failing = True
            return
        self.failing = False
        self.signalled = observation.run_id
        log.warning("%s: the outbox sweep is sent now", observation.loss)
