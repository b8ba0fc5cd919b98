"""``bulkguard appeal``: a person decides an appeal against an enforcement action."""

from __future__ import annotations

from typing import Literal

import click

from infra.users import Actor
from workers.cli.acting import acting
from workers.cli.commit import commit_as_operator


@click.command()
@click.argument("action_id", type=int)
@click.option("--outcome", type=click.Choice(["uphold", "overturn"]), required=True)
@click.option("--reason", required=True, help="Why (recorded).")
@acting("reviewer")
def appeal(
    action_id: int, outcome: Literal["uphold", "overturn"], reason: str, actor: Actor
) -> None:
    """Decide an appeal against an action. An overturn lifts it on the platform, takes a ban
    out of the neighbourhood rates, withdraws it as evidence (legal re-evaluates) and labels
    the account not abusive; an uphold is recorded and labelled."""
    from infra.db.models import utcnow
    from tasks.enforcement.appeals import AppealError, decide_appeal
    from tasks.neighbourhoods.redis_store import workers_store

    summary = commit_as_operator(
        lambda session: decide_appeal(
            session,
            action_id,
            outcome=outcome,
            actor=actor,
            reason=reason,
            neighbours=workers_store(),
            now=utcnow(),
        ),
        recorded_as="cli.appeal",
        refused=(AppealError,),
    ).summary
    again = " (already decided so)" if summary["already_decided"] else ""
    click.echo(
        f"action {summary['action_id']} of {summary['account_id']}: {outcome}{again}; "
        f"account {summary['account_status']}"
    )
    if summary["companies"]:
        click.echo(f"companies {summary['companies']} handed to legal for re-evaluation")
