"""The runtime: the Celery app and its configuration, queues and routing, worker lifecycle.

Beside it, each in its own package, the operator CLI (``workers.cli``) and the harness
(``workers.harness``); the runtime imports neither.

``celery -A workers ...`` finds the app as ``workers.app``. It is imported on first access, so
that CLI commands that never talk to the broker (``bulkguard db upgrade``, ``bulkguard schema``)
do not pay for importing every task module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

    app: Celery


def __getattr__(name: str) -> Any:
    if name == "app":
        from workers.celery_app import app  # noqa: PLC0415 - imported on first use, see above

        return app
    raise AttributeError(f"module 'workers' has no attribute {name!r}")
