"""The runtime: the Celery app and its configuration, queues and routing, worker lifecycle, CLI."""

from workers.celery_app import app

__all__ = ["app"]
