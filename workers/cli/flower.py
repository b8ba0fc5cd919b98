"""``bulkguard flower``: Flower for operators (``workers.flower_service``)."""

from __future__ import annotations

import click

from infra.settings import get_settings
from workers.cli.common import operator_auth


@click.command()
@click.option("--address", default=None, help="Address to listen on [BULKGUARD_FLOWER_ADDRESS].")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="[BULKGUARD_FLOWER_PORT]")
def flower(address: str | None, port: int | None) -> None:
    """Flower, every path behind basic auth (BULKGUARD_FLOWER_USER, BULKGUARD_FLOWER_PASSWORD)."""
    from workers.celery_app import make_app
    from workers.flower_control import WatchingControl
    from workers.flower_service import build, serve

    settings = get_settings()
    app = make_app(settings, current=False, control=WatchingControl)
    auth = operator_auth(settings.flower_user, settings.flower_password, "FLOWER")
    address = address or settings.flower_address
    service = build(
        app,
        auth,
        address=address,
        port=settings.flower_port if port is None else port,
        state_path=settings.flower_state_path,
        max_tasks=settings.flower_max_tasks,
    )
    serve(
        service,
        # Printed on stdout, flushed: the demo and the tests read the port from this line.
        lambda bound: print(f"flower on http://{address}:{bound}/ (basic auth)", flush=True),
    )
