"""The Celery application: ``celery -A workers worker -Q scoring`` finds it here."""

from __future__ import annotations

import math
from typing import Any

from celery import Celery
from celery.app.control import Control

from infra.settings import Settings, get_settings
from workers.config import celery_config
from workers.health import HealthFiles
from workers.privacy import ValueFreeAMQP
from workers.queues import TASK_MODULES
from workers.serialization import register_fast_json
from workers.settings_heartbeat import PublishSettings

register_fast_json()


class BulkguardCelery(Celery):
    def send_task(self, name: str, *args: Any, **options: Any) -> Any:
        # Countdowns in whole seconds, rounded up: RabbitMQ's delayed delivery (quorum queues)
        # counts whole seconds, and Celery refuses a countdown under one second there (it
        # truncates it to 0). Jittered retry backoffs are fractions.
        countdown = options.get("countdown")
        if countdown is not None and countdown > 0:
            options["countdown"] = math.ceil(countdown)
        return super().send_task(name, *args, **options)


def make_app(
    settings: Settings, *, current: bool = True, control: type[Control] | None = None
) -> Celery:
    """A Celery app configured from ``settings``. The module's ``app`` is the one the workers
    run; a tool whose broker is not the process's (the bench, a test on another broker, in a
    process that already made ``app``) makes its own with ``current=False`` to publish and ping
    by task name, and Flower its own with a ``control`` that may be refused
    (``workers.flower_control``)."""
    # Task messages carry value-free argument reprs (workers.privacy); events are masked as the
    # logs are (workers.event_privacy).
    made = BulkguardCelery(
        "bulkguard",
        set_as_current=current,
        amqp=ValueFreeAMQP,
        events="workers.event_privacy:RedactingEvents",
        control=control,
    )
    made.conf.update(celery_config(settings))
    made.steps["consumer"].add(HealthFiles)
    made.steps["consumer"].add(PublishSettings)
    return made


app = make_app(get_settings())
# Import the task modules now so every public task name is registered in every process.
app.loader.import_default_modules()
for module in TASK_MODULES:
    __import__(module)

import workers.lifecycle  # noqa: E402 - connects the per-process signal handlers
import workers.log_format  # noqa: E402 - connects the log format's signal handlers
import workers.queue_age  # noqa: E402 - stamps every published task with its sending time
import workers.solo_limits  # noqa: E402, F401 - enforces time limits in solo workers
from tasks.pipeline import PipelineTask  # noqa: E402

# Every bulkguard task's messages become requests of this class in the worker (read when the
# worker builds its task strategies, after this module is imported).
PipelineTask.Request = "workers.requests:DecodedOnceRequest"
