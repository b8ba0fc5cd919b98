"""``bulkguard health``: container probes that ask one process, never the whole cluster.

Each exits 0 when healthy and 1 with the reason on stderr otherwise, as Docker and Kubernetes
probes expect.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Callable

import click

from infra.basic_auth import BasicAuth
from infra.settings import get_settings
from workers.health import STALE_SECONDS, check


def _verdict(problem: str | None) -> None:
    if problem is not None:
        click.echo(problem, err=True)
        sys.exit(1)


@click.group()
def health() -> None:
    """Liveness and readiness probes (docs/operating.md)."""


def _worker_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option(
        "--node",
        default=None,
        help="The worker's node name; needed only when several share the health directory.",
    )(command)
    return click.option(
        "--stale-seconds", default=STALE_SECONDS, show_default=True, type=click.FloatRange(1)
    )(command)


@health.command("live")
@_worker_options
def live(node: str | None, stale_seconds: float) -> None:
    """Whether the worker's main loop still beats (restart it when not)."""
    _verdict(_worker(node, ready=False, stale_seconds=stale_seconds))


@health.command("ready")
@_worker_options
def ready(node: str | None, stale_seconds: float) -> None:
    """Whether the worker is alive and consuming from the broker."""
    _verdict(_worker(node, ready=True, stale_seconds=stale_seconds))


def _worker(node: str | None, *, ready: bool, stale_seconds: float) -> str | None:
    root = get_settings().health_dir
    if root is None:
        return "BULKGUARD_HEALTH_DIR is not set: workers keep no health files"
    return check(root, node, ready=ready, stale_seconds=stale_seconds)


@health.command("flower")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Flower's port.")
def flower(port: int | None) -> None:
    """Whether Flower answers, with the operator's credentials, on this host."""
    settings = get_settings()
    password = settings.flower_password.get_secret_value() if settings.flower_password else ""
    url = f"http://127.0.0.1:{port or settings.flower_port}/healthcheck"
    _verdict(_answers(url, settings.flower_user, password))


@health.command("metrics")
@click.option("--port", default=9808, show_default=True, type=click.IntRange(1, 65535))
def metrics(port: int) -> None:
    """Whether the metrics exporter answers, with its credentials, on this host."""
    settings = get_settings()
    password = settings.metrics_password.get_secret_value() if settings.metrics_password else ""
    _verdict(_answers(f"http://127.0.0.1:{port}/metrics", settings.metrics_user, password))


@health.command("console")
@click.option(
    "--port", default=None, type=click.IntRange(1, 65535), help="[BULKGUARD_CONSOLE_PORT]"
)
def console(port: int | None) -> None:
    """Whether the console answers on this host and its database does (its /healthz)."""
    url = f"http://127.0.0.1:{port or get_settings().console_port}/healthz"
    _verdict(_fetch(urllib.request.Request(url)))


@health.command("api")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="[BULKGUARD_API_PORT]")
def api(port: int | None) -> None:
    """Whether the HTTP api answers on this host (its /healthz)."""
    url = f"http://127.0.0.1:{port or get_settings().api_port}/healthz"
    _verdict(_fetch(urllib.request.Request(url)))


def _answers(url: str, user: str | None, password: str) -> str | None:
    if not user or not password:
        return "no credentials in the environment to ask with"
    request = urllib.request.Request(  # noqa: S310 - a fixed http URL on loopback
        url, headers={"Authorization": BasicAuth(user, password).header}
    )
    return _fetch(request)


def _fetch(request: urllib.request.Request) -> str | None:
    url = request.full_url
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return f"{url} answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{url} does not answer: {exc}"
    return None
