"""``bulkguard keys``: the data key's rotation (SECURITY.md, "Keys")."""

from __future__ import annotations

import json

import click

from infra.users import Actor
from workers.cli.acting import acting


@click.group()
def keys() -> None:
    """Keys of the keyed hashes bulkguard keeps in place of identifiers."""


@keys.command("rotate-data-hash")
@click.option(
    "--chunk", default=1000, show_default=True, type=click.IntRange(1), help="Accounts per commit."
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@acting("admin")
def rotate_data_hash(chunk: int, as_json: bool, actor: Actor) -> None:
    """Re-key the accounts' number hashes from BULKGUARD_DATA_HASH_PREVIOUS_KEY to
    BULKGUARD_DATA_HASH_KEY, in chunks, each committed; run it again to resume one that stopped.
    Accounts whose number no kept record holds any more lose their hash (found by id only)."""
    from infra.db.models import utcnow
    from infra.db.session import session_scope
    from infra.number_hash import number_keys
    from infra.users import NotAllowedError
    from tasks.scoring.rekey import RekeyError, rekey

    try:
        with session_scope() as session:
            done = rekey(session, number_keys(), actor=actor, now=utcnow(), chunk=chunk)
    except (NotAllowedError, RekeyError) as exc:
        raise click.ClickException(f"refused: {exc}") from None
    if as_json:
        click.echo(json.dumps(done.as_json(), indent=2))
        return
    click.echo(
        f"re-keyed {done.rekeyed} account(s); {done.unlinkable} whose number no record holds any "
        f"more lost their hash; {done.remaining} left"
        + ("" if done.finished else " (run it again to resume)")
    )
