"""``bulkguard status`` and ``log-ref``: the running system at a glance, and the name an
account goes by in the JSON logs."""

from __future__ import annotations

import json

import click
from rich.console import Console

from infra.db.session import session_scope
from infra.settings import get_settings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Queue depths, workers online per queue, model versions, breaker, dead letters, outbox,
    review backlog, deliveries and notices awaiting approval."""
    from rich.table import Table

    from workers.celery_app import app
    from workers.status import collect

    with session_scope() as session:
        found = collect(app, session)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    out = Console()
    table = Table(title=f"bulkguard at {found['at']}")
    for column in ("queue", "waiting", "oldest (s)", "workers"):
        table.add_column(column, justify="left" if column in ("queue", "workers") else "right")
    for queue, waiting in found["queues"].items():
        oldest = found["oldest_message_seconds"].get(queue)
        table.add_row(
            queue,
            str(waiting),
            "?" if oldest is None else f"{oldest:g}",
            ", ".join(found["workers"].get(queue, [])) or "NONE",
        )
    out.print(table)
    models = ", ".join(f"{role} {v}" for role, v in found["models"].items()) or "NONE ACTIVE"
    breaker = "OPEN: " + found["breaker"]["reason"] if found["breaker"]["open"] else "closed"
    reviews, outbox = found["reviews"], found["outbox"]
    out.print(f"models: {models}")
    out.print(f"breaker: {breaker}")
    out.print(
        f"reviews pending: {reviews['pending']} (oldest {reviews['oldest_seconds']} s); "
        f"notices awaiting approval: {found['notices_awaiting_approval']}"
    )
    out.print(
        f"outbox: {outbox['unpublished']} unpublished, {outbox['unfinished']} unfinished "
        f"(oldest {outbox['oldest_unfinished_seconds']} s); dead letters: "
        f"{found['dead_letters']['total']} ({found['dead_letters']['last_24h']} in 24 h); "
        f"deliveries: {found['deliveries']}"
    )


@click.command("log-ref")
@click.argument("account_id")
def log_ref(account_id: str) -> None:
    """The hash JSON logs show for ACCOUNT_ID (under BULKGUARD_LOG_HASH_KEY)."""
    from infra.json_logs import account_ref

    click.echo(account_ref(account_id, get_settings().log_hash_key.get_secret_value()))
