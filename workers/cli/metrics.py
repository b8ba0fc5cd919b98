"""``bulkguard metrics``: the system's own metrics for Prometheus."""

from __future__ import annotations

import signal
import sys

import click

from infra.settings import get_settings
from workers.cli.common import console, operator_auth


@click.group()
def metrics() -> None:
    """The system's own metrics for Prometheus."""


@metrics.command("serve")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9808, show_default=True, type=click.IntRange(0, 65535))
def metrics_serve(bind: str, port: int) -> None:
    """Serve /metrics behind basic auth (BULKGUARD_METRICS_USER, BULKGUARD_METRICS_PASSWORD)."""
    from workers.celery_app import app
    from workers.metrics import make_metrics_server

    settings = get_settings()
    auth = operator_auth(settings.metrics_user, settings.metrics_password, "METRICS")
    server = make_metrics_server(app, bind, port, auth)
    console.print(f"metrics on http://{bind}:{server.server_port}/metrics (basic auth)")
    # SIGTERM (`docker compose stop`) is a clean stop, as Ctrl-C is.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
