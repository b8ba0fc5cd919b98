"""``bulkguard dead-letters``: what was refused, and sending it again once the cause is fixed."""

from __future__ import annotations

import click
from sqlalchemy import select

from infra.db.models import DeadLetter, utcnow
from infra.db.session import session_scope
from infra.redaction import redact
from infra.users import Actor, NotAllowedError
from workers.cli.acting import acting
from workers.cli.commit import commit_as_operator


@click.group("dead-letters", invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1))
@click.pass_context
def dead_letters(ctx: click.Context, limit: int) -> None:
    """Show the most recent dead letters with their reasons (``replay`` sends them again)."""
    if ctx.invoked_subcommand is not None:
        return
    with session_scope() as session:
        for row in session.scalars(select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)):
            replay = (
                "replayed"
                if row.replayed_at is not None
                else ("replayable" if row.body is not None else "-")
            )
            click.echo(
                f"{row.id}\t{row.created_at:%Y-%m-%d %H:%M:%S}\t{row.task_name}\t"
                f"record={row.record_index}\t{replay}\t{redact(row.reason)}"
            )


@dead_letters.command("replay")
@click.option(
    "--reason",
    required=True,
    help="Replay the dead letters whose reason contains this text (case-insensitive).",
)
@click.option("--task", "task_name", help="Only the dead letters of this task.")
@click.option("--limit", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send nothing.")
@acting("admin")
def replay(reason: str, task_name: str | None, limit: int, dry_run: bool, actor: Actor) -> None:
    """Send dead letters to their tasks again, each once: a message still refused is kept again
    as a new dead letter."""
    # The task modules load only for this command, as in the other command groups.
    from tasks.replay import plan
    from tasks.replay import replay as replay_planned

    if dry_run:
        with session_scope() as session:
            summary = plan(session, reason=reason, task_name=task_name, limit=limit).summary()
    else:
        summary = commit_as_operator(
            lambda session: replay_planned(
                session,
                plan(session, reason=reason, task_name=task_name, limit=limit),
                actor=actor,
                now=utcnow(),
            ),
            recorded_as="cli.dead-letters.replay",
            follow_ups="the replayed messages",
            refused=(NotAllowedError,),
        ).summary
    sent, skipped = summary["sent"], summary["skipped"]
    for letter_id, task in sent:
        click.echo(f"{'would send' if dry_run else 'sent'}\t{letter_id}\t{task}")
    for letter_id, why in skipped:
        click.echo(f"skipped\t{letter_id}\t{redact(why)}")
    verb = "would replay" if dry_run else "replayed"
    click.echo(f"{verb} {len(sent)}; skipped {len(skipped)}", err=True)
