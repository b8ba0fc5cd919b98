"""``bulkguard subject``: a person's requests about their data, taken by an admin."""

from __future__ import annotations

import json
from typing import Any

import click

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Actor, NotAllowedError
from workers.cli.acting import acting


@click.group()
def subject() -> None:
    """Subject access and erasure for one person (docs/retention.md)."""


def _who(options: dict[str, Any]) -> Any:
    from tasks.subject.find import SubjectError
    from tasks.subject.find import subject as find_subject

    def find(session: Any) -> Any:
        try:
            return find_subject(session, account_id=options["account"], phone=options["phone"])
        except SubjectError as exc:
            raise click.ClickException(str(exc)) from None

    return find


def _target(command: Any) -> Any:
    command = click.option("--phone", metavar="E164", help="Every account on this number.")(command)
    return click.option("--account", metavar="ID", help="One account.")(command)


@subject.command("export")
@_target
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the document as JSON (the default prints a summary).",
)
@acting("admin")
def subject_export(account: str | None, phone: str | None, as_json: bool, actor: Actor) -> None:
    """Everything held about one person, as one document."""
    from infra.redis_client import get_counters_redis
    from tasks.subject.export import export

    try:
        with session_scope() as session:
            who = _who({"account": account, "phone": phone})(session)
            document = export(session, who, actor=actor, counters=get_counters_redis())
    except NotAllowedError as exc:
        raise click.ClickException(f"refused: {exc}") from None
    if as_json:
        click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"subject: accounts {', '.join(document['subject']['account_ids']) or 'none'}")
    for key, value in document.items():
        if isinstance(value, list):
            click.echo(f"  {key}: {len(value)}")
    click.echo("  (--json prints the whole document)")


@subject.command("erase")
@_target
@click.option("--reason", required=True, help="Why (recorded, with the subject's data masked).")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased and kept as JSON.")
@acting("admin")
def subject_erase(
    account: str | None, phone: str | None, reason: str, as_json: bool, actor: Actor
) -> None:
    """Erase one person's data from every store; what is on legal hold is kept, and said why."""
    from infra.db.vacuum import reclaim
    from infra.redis_client import get_counters_redis
    from infra.settings import get_settings
    from tasks.subject.erase import erase
    from tasks.subject.find import SubjectError

    outbound = get_settings().platform_sink_path.parent
    try:
        with session_scope() as session:
            who = _who({"account": account, "phone": phone})(session)
            done = erase(
                session,
                who,
                actor=actor,
                reason=reason,
                counters=get_counters_redis(),
                outbound=outbound,
                now=utcnow(),
            )
    except SubjectError as exc:
        raise click.ClickException(str(exc)) from None
    except NotAllowedError as exc:
        raise click.ClickException(f"refused: {exc}") from None
    # Deleted rows linger in free pages until the database reclaims them.
    reclaim()
    if as_json:
        click.echo(json.dumps(done.as_json(), indent=2))
        return
    click.echo(f"erasure {done.reference} (recorded in the audit trail)")
    for store, n in done.erased.items():
        click.echo(f"  erased {store}: {n}")
    for item in done.kept:
        click.echo(f"  kept {item['what']}: {item['why']}")
