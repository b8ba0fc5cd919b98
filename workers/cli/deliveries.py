"""``bulkguard deliveries``: what reached the platform, what failed and why, and asking the
workers to send the failed ones again once the cause is fixed."""

from __future__ import annotations

import click
from sqlalchemy import select

from infra import deliveries as store
from infra.db.models import Delivery, utcnow
from infra.db.session import session_scope
from infra.redaction import redact
from infra.users import Actor
from workers.cli.acting import acting
from workers.cli.commit import commit_as_operator

# Delivery ids named in the answer to a retry; more are counted.
SHOWN = 20


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
@acting("admin")
def retry(kinds: tuple[str, ...], ids: tuple[int, ...], actor: Actor) -> None:
    """Ask the enforcement workers to send failed deliveries again, each through the sink it
    failed on (this shell's own sink plays no part); one that failed on another sink than the
    workers' is refused with the reason. ``list`` shows what became of them."""
    from tasks.enforcement.deliver import RetryError, request_retries

    requested: list[int] = commit_as_operator(
        lambda session: request_retries(
            session, actor=actor, kinds=kinds or None, ids=ids or None, now=utcnow()
        ),
        recorded_as="cli.deliveries.retry",
        follow_ups="the retry",
        refused=(RetryError,),
    ).summary["requested"]
    if not requested:
        click.echo("no failed delivery matches: nothing to retry", err=True)
        return
    shown = ", ".join(map(str, requested[:SHOWN])) + (", ..." if len(requested) > SHOWN else "")
    click.echo(
        f"retry of {len(requested)} deliveries ({shown}) requested by {actor.name}: the "
        "enforcement workers send each through the sink it failed on",
        err=True,
    )
