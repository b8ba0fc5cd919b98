"""The application ``bulkguard api serve`` runs, made in each server process (after fork): the
workers' Celery app publishes, and the scoring queue's backlog is read through it."""

from __future__ import annotations

from fastapi import FastAPI

from infra.settings import get_settings
from workers.api.app import build
from workers.api.limits import Backlog


def application() -> FastAPI:
    from workers.celery_app import app as celery_app  # noqa: PLC0415 - loaded when serving
    from workers.queue_age import QueueAges  # noqa: PLC0415
    from workers.status import queue_depths  # noqa: PLC0415

    ages = QueueAges()

    def backlog() -> Backlog:
        return Backlog(queue_depths(celery_app)["scoring"], ages.read(celery_app)["scoring"])

    def broker_ready() -> bool:
        try:
            with celery_app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception:  # any failure to connect is "not ready"
            return False
        return True

    return build(get_settings(), publisher=celery_app, backlog=backlog, broker_ready=broker_ready)
