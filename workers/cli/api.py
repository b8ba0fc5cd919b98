"""``bulkguard api serve``: the HTTP api for upstream services (``workers.api``) under uvicorn."""

from __future__ import annotations

import click

from infra.settings import get_settings


@click.group()
def api() -> None:
    """The HTTP api for upstream services (docs/api.md)."""


@api.command("serve")
@click.option("--host", default=None, help="Address to listen on [BULKGUARD_API_ADDRESS].")
@click.option("--port", default=None, type=click.IntRange(0, 65535), help="[BULKGUARD_API_PORT]")
@click.option(
    "--workers",
    "processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port.",
)
def serve(host: str | None, port: int | None, processes: int) -> None:
    """Serve the api (loopback by default); callers authenticate with keys from
    `bulkguard api-keys create`."""
    import signal

    import uvicorn

    from infra.db.migrate import upgrade
    from workers.api.server import HeaderTimeoutProtocol
    from workers.cli.console import bind, proxy_options

    settings = get_settings()
    upgrade()
    host = host or settings.api_address
    listener = bind(host, settings.api_port if port is None else port)
    HeaderTimeoutProtocol.header_timeout_seconds = settings.api_header_timeout_seconds
    config = uvicorn.Config(
        "workers.api.serving:application",
        factory=True,
        http=HeaderTimeoutProtocol,
        log_level="warning",
        server_header=False,
        access_log=False,
        workers=processes,
        timeout_keep_alive=settings.api_keep_alive_seconds,
        # Connections beyond this are answered 503 at once rather than queued without bound.
        limit_concurrency=1000,
        **proxy_options(settings),
    )
    # Printed on stdout, flushed: the bench and the tests read the port from this line.
    print(f"api on http://{host}:{listener.getsockname()[1]}/", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: None)  # as the console: a stop asked for is no crash
    if processes == 1:
        uvicorn.Server(config).run(sockets=[listener])
    else:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=[listener]).run()
