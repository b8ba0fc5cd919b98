"""``bulkguard api-keys``: the keys upstream services call the HTTP api with. Creating and
revoking one is an admin's act; a key is printed once, on stdout, and only its hash is kept.

Rotation: ``create`` a second key for the same client (two may be in force at once), move its
callers to it, then ``revoke`` the first."""

from __future__ import annotations

import json
from typing import Any

import click
from sqlalchemy import select

from infra.api_keys import SCOPES, Scope
from infra.db.models import ApiKey, User, utcnow
from infra.users import Actor
from workers.cli.acting import acting
from workers.cli.common import console
from workers.cli.users import changing


@click.group("api-keys")
def api_keys() -> None:
    """Keys of the HTTP api's clients, and what each may do."""


@api_keys.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="What the key may do; repeat for more than one.",
)
@acting("admin")
def create(name: str, scopes: tuple[Scope, ...], actor: Actor) -> None:
    """A new key for the client NAME (a service user, added if there is none), printed once.
    Deciding appeals also takes the reviewer role: `bulkguard users roles NAME --add reviewer`."""
    from infra.api_keys import create_key
    from infra.users import authorize

    with changing() as session:
        authorize(session, actor, "admin")
        row, key = create_key(session, name, scopes, by=actor, now=utcnow())
        key_id = row.id
    console.print(f"api key {key_id} for {name} ({', '.join(sorted(scopes))}), shown once:")
    click.echo(key)


@api_keys.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--all", "everything", is_flag=True, help="Revoked keys too.")
def list_keys(as_json: bool, everything: bool) -> None:
    """Every key in force (or every key): its id, client, scopes, creation and last use."""
    from infra.db.session import session_scope

    query = select(ApiKey, User.name).join(User, User.id == ApiKey.user_id).order_by(ApiKey.id)
    if not everything:
        query = query.where(ApiKey.revoked_at.is_(None))
    with session_scope() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": key.id,
                "client": name,
                "scopes": list(key.scopes),
                "created_at": key.created_at.isoformat(),
                "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
                "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
            }
            for key, name in session.execute(query)
        ]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
            continue
        revoked = f"\trevoked {row['revoked_at']}" if row["revoked_at"] else ""
        click.echo(
            f"{row['id']}\t{row['client']}\t{','.join(row['scopes'])}\t"
            f"created {row['created_at']}\tlast used {row['last_used_at'] or 'never'}{revoked}"
        )


@api_keys.command("revoke")
@click.argument("key_id", type=int)
@acting("admin")
def revoke(key_id: int, actor: Actor) -> None:
    """Revoke a key by its id (`api-keys list`): it stops working at once."""
    from infra.api_keys import revoke_key
    from infra.users import authorize

    with changing() as session:
        authorize(session, actor, "admin")
        revoke_key(session, key_id, by=actor, now=utcnow())
    console.print(f"api key {key_id} revoked")
