"""The Celery application: ``celery -A workers worker -Q scoring`` finds it here."""

from __future__ import annotations

from celery import Celery

from infra.settings import Settings, get_settings
from workers.config import celery_config
from workers.privacy import ValueFreeAMQP
from workers.queues import TASK_MODULES
from workers.serialization import register_fast_json

register_fast_json()


def make_app(settings: Settings, *, current: bool = True) -> Celery:
    """A Celery app configured from ``settings``. The module's ``app`` is the one the workers
    run; a tool whose broker is not the process's (the bench, in a process that already made
    ``app``) makes its own with ``current=False`` to publish and ping by task name."""
    # Task messages carry value-free argument reprs: see workers.privacy.
    made = Celery("bulkguard", set_as_current=current, amqp=ValueFreeAMQP)
    made.conf.update(celery_config(settings))
    return made


app = make_app(get_settings())
# Import the task modules now so every public task name is registered in every process.
app.loader.import_default_modules()
for module in TASK_MODULES:
    __import__(module)

import workers.lifecycle  # noqa: E402, F401 - connects the per-process signal handlers
