"""The Celery application: ``celery -A workers worker -Q scoring`` finds it here."""

from __future__ import annotations

from celery import Celery

from infra.settings import get_settings
from workers.config import celery_config
from workers.queues import TASK_MODULES
from workers.serialization import register_fast_json

register_fast_json()

app = Celery("bulkguard")
app.conf.update(celery_config(get_settings()))
# Import the task modules now so every public task name is registered in every process.
app.loader.import_default_modules()
for module in TASK_MODULES:
    __import__(module)

import workers.lifecycle  # noqa: E402, F401 - connects the per-process signal handlers
