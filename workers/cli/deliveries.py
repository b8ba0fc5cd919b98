"""``bulkguard deliveries``: what reached the platform, what failed and why, and sending the failed
ones again once the cause is fixed."""

from __future__ import annotations

import click
from sqlalchemy import select

from infra import deliveries as store
from infra.db.models import Delivery
from infra.db.session import session_scope
from infra.redaction import redact
from infra.settings import get_settings
from infra.sinks import platform_sink


@click.group("deliveries", invoke_without_command=True)
@click.pass_context
def deliveries(ctx: click.Context) -> None:
    """Deliveries to the platform (``list`` is the default; ``retry`` sends failed ones again)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_deliveries)


@deliveries.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1))
def list_deliveries(limit: int) -> None:
    """Count the deliveries by kind and status, and show the latest failed ones with their
    last error."""
    with session_scope() as session:
        for (kind, status), n in store.counts(session).items():
            click.echo(f"{kind}\t{status}\t{n}")
        failed = session.scalars(
            select(Delivery)
            .where(Delivery.status == store.FAILED)
            .order_by(Delivery.id.desc())
            .limit(limit)
        ).all()
        for row in failed:
            tried = f"{row.attempted_at:%Y-%m-%d %H:%M:%S}" if row.attempted_at else "-"
            click.echo(
                f"failed\t{row.id}\t{row.kind}\tref={row.ref_id}\tattempts={row.attempts}\t"
                f"{tried}\t{row.sink}\t{redact(row.last_error or '')}"
            )


@deliveries.command("retry")
@click.option("--kind", "kinds", multiple=True, help="Only the failed deliveries of this kind.")
@click.option(
    "--id", "ids", multiple=True, type=int, help="Only this delivery (as `list` shows its id)."
)
def retry(kinds: tuple[str, ...], ids: tuple[int, ...]) -> None:
    """Put failed deliveries back to pending and send them now through the configured sink;
    those still not taken stay pending for the sweep, or fail again."""
    settings = get_settings()
    try:
        sink = platform_sink(settings)
    except ValueError as exc:  # misconfigured: change nothing
        raise click.ClickException(str(exc)) from exc
    with session_scope() as session:
        reset = store.retry_failed(session, kinds=kinds or None, ids=ids or None)
    sent = store.resend(sink, reset, max_attempts=settings.delivery_max_attempts)
    click.echo(f"retried {len(reset)}; sent {sent} to {sink}", err=True)
