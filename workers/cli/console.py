"""``bulkguard console serve``: the people's web console (``workers.console``) under uvicorn."""

from __future__ import annotations

import socket
from typing import Any

import click

from infra.settings import Settings, get_settings


@click.group()
def console() -> None:
    """The web console for reviewers, counsel and admins."""


@console.command("serve")
@click.option("--host", default=None, help="Address to listen on [BULKGUARD_CONSOLE_ADDRESS].")
@click.option(
    "--port", default=None, type=click.IntRange(0, 65535), help="[BULKGUARD_CONSOLE_PORT]"
)
def serve(host: str | None, port: int | None) -> None:
    """Serve the console (loopback by default). Sessions are signed with
    BULKGUARD_CONSOLE_SECRET, or a secret made and kept under the data directory."""
    import signal

    import uvicorn

    from infra.db.migrate import upgrade
    from workers.console.app import build

    settings = get_settings()
    upgrade()
    host = host or settings.console_address
    listener = bind(host, settings.console_port if port is None else port)
    bound = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            build(settings),
            log_level="warning",
            server_header=False,
            access_log=False,
            **proxy_options(settings),
        )
    )
    # Printed on stdout, flushed: the demo and the tests read the port from this line.
    print(f"console on http://{host}:{bound}/", flush=True)
    # uvicorn stops gracefully on SIGTERM, then raises the signal again to end "as it would
    # have": status 143, which Compose and the demo read as a crash. The stop was asked for and
    # done, so the re-raised signal is ignored and the process ends with status 0.
    signal.signal(signal.SIGTERM, lambda *_: None)
    server.run(sockets=[listener])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that port 0 picks a free one the caller can name. The
    protocol is named: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    without it every response after a connection's first waited ~40 ms on the client's delayed
    ACK."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    return listener


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy options: the forwarded headers read from ``trusted_proxies`` alone (its
    middleware matches addresses and networks), and not at all when none is named. uvicorn's
    own default would trust 127.0.0.1, so a process beside the server could name any client."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}
