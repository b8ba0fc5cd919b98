"""``bulkguard retention``: the retention policy applied by hand, and legal holds."""

from __future__ import annotations

import json

import click

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Actor, NotAllowedError
from workers.cli.acting import acting


@click.group()
def retention() -> None:
    """Retention by data class (docs/retention.md): run it, and put items on legal hold."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted, and what is held.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def retention_run(dry_run: bool, as_json: bool) -> None:
    """Delete what has outlived its period and is not on hold (as beat's maintenance.retention
    does daily), in chunks; resumes a run that was stopped."""
    from tasks.retention.policy import RetentionPolicyError, load
    from tasks.retention.run import run

    try:
        policy = load()
    except RetentionPolicyError as exc:
        raise click.ClickException(str(exc)) from None
    with session_scope() as session:
        report = run(session, policy, now=utcnow(), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    verb = "would delete" if dry_run else "deleted"
    state = "" if report.finished else " (stopped: the next run resumes it)"
    click.echo(
        f"retention policy {report.policy_version}, cut-off from {report.now.isoformat()}"
        f"{' (resumed run)' if report.resumed else ''}{state}"
    )
    for name, n in report.deleted.items():
        held = f", {report.held[name]} kept on hold" if name in report.held else ""
        click.echo(f"  {name}: {verb} {n}{held}")
    for name, who in report.outside.items():
        click.echo(f"  {name}: outside the database, deleted by {who}")


def _hold_command(release: bool) -> click.Command:
    @click.argument("kind", type=click.Choice(["account", "action", "evidence"]))
    @click.argument("ref")
    @click.option("--reason", required=True, help="Why (recorded in the audit trail).")
    @acting("admin")
    def command(kind: str, ref: str, reason: str, actor: Actor) -> None:
        from tasks.retention import holds

        change = holds.release if release else holds.hold
        try:
            with session_scope() as session:
                row = change(session, kind=kind, ref=ref, reason=reason, actor=actor, now=utcnow())
                hold_id = row.id
        except (NotAllowedError, holds.HoldError) as exc:
            raise click.ClickException(f"refused: {exc}") from None
        click.echo(f"{kind} {ref} {'released from' if release else 'put on'} hold {hold_id}")

    command.__doc__ = (
        "End a person's legal hold on an item: it is deleted once expired and nothing else "
        "holds it."
        if release
        else "Put an account, an action or a piece of evidence on legal hold: kept past its period "
        "until released."
    )
    return click.command("release" if release else "hold")(command)


retention.add_command(_hold_command(release=False))
retention.add_command(_hold_command(release=True))
