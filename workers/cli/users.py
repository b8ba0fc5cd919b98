"""``bulkguard users``: the people and services who take decisions, their roles, passwords,
personal tokens and signing keys.

Passwords are read from standard input when it is not a terminal (one per line) and prompted
for otherwise; they never appear in a command line or a log. A token or key is printed once,
on stdout, and only its hash (a token) or its public half (a key) is kept.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import User, utcnow
from infra.db.session import session_scope
from infra.users import ROLES, Actor, NotAllowedError, Role, UserError
from workers.cli.acting import acting, authenticated
from workers.cli.common import console

_role = click.Choice(ROLES)


@click.group()
def users() -> None:
    """Users, their roles and credentials."""


@users.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, type=_role, required=True)
@click.option("--display-name", default=None)
@click.option("--email", default=None)
@click.option("--service", is_flag=True, help="An upstream service: a signing key, no password.")
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="NAME",
    help="The admin adding the user; not needed for the first admin of a new installation.",
)
def users_add(
    name: str,
    roles: tuple[Role, ...],
    display_name: str | None,
    email: str | None,
    service: bool,
    as_user: str | None,
) -> None:
    """Add a user. A person's password is read from stdin (or prompted for); one set by an
    admin must be changed at first use. A service is given a signing key, printed once."""
    from infra.users import create_user, has_admin, issue_service_key

    with session_scope() as session:
        bootstrap = not has_admin(session)
    if bootstrap and as_user is None:
        if "admin" not in roles or service:
            raise click.ClickException(
                "there is no admin yet: the first user added must be a person with --role admin"
            )
        by: Actor | None = None
    else:
        if as_user is None:
            raise click.ClickException("--as NAME: adding a user takes an admin")
        by = authenticated(as_user, ("admin",))
    password = None if service else _new_password(f"password for {name}")
    try:
        with session_scope() as session:
            user = create_user(
                session,
                name,
                roles=roles,
                by=by,
                now=utcnow(),
                display_name=display_name,
                email=email,
                password=password,
                password_expired=by is not None,
                kind="service" if service else "person",
            )
            key = issue_service_key(session, user, by=by, now=utcnow()) if by and service else None
    except ValueError as exc:  # UserError, CredentialError
        raise click.ClickException(str(exc)) from None
    console.print(f"user {name} added with roles {', '.join(roles)}")
    if key:
        console.print("its signing key (shown once; the service signs what it sends with it):")
        click.echo(key)


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """Every user with their roles; disabled users too."""
    from infra.users import roles_of

    with session_scope() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": u.id,
                "name": u.name,
                "display_name": u.display_name,
                "email": u.email,
                "kind": u.kind,
                "roles": roles_of(session, u.id),
                "disabled": u.disabled,
                "password_expired": u.password_expired,
                "created_at": u.created_at.isoformat(),
            }
            for u in session.scalars(select(User).order_by(User.id))
        ]
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        flags = " DISABLED" if row["disabled"] else ""
        flags += " (must change password)" if row["password_expired"] else ""
        click.echo(
            f"{row['name']}\t{row['kind']}\t{','.join(row['roles']) or '-'}\t"
            f"{row['display_name']}{flags}"
        )


@users.command("disable")
@click.argument("name")
@acting("admin")
def users_disable(name: str, actor: Actor) -> None:
    """Disable a user: their token stops working and nothing they decide is accepted."""
    from infra.users import authorize, disable, get

    with changing() as session:
        authorize(session, actor, "admin")
        disable(session, get(session, name), by=actor, now=utcnow())
    console.print(f"user {name} disabled")


@users.command("roles")
@click.argument("name")
@click.option("--add", "added", multiple=True, type=_role)
@click.option("--remove", "removed", multiple=True, type=_role)
@acting("admin")
def users_roles(
    name: str, added: tuple[Role, ...], removed: tuple[Role, ...], actor: Actor
) -> None:
    """Grant and revoke roles; prints the roles held afterwards."""
    from infra.users import authorize, change_roles, get

    with changing() as session:
        authorize(session, actor, "admin")
        held = change_roles(
            session, get(session, name), add=added, remove=removed, by=actor, now=utcnow()
        )
    click.echo(f"{name}\t{','.join(held) or '-'}")


@users.command("token")
@click.argument("name")
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="NAME",
    help="An admin issuing it; without, NAME's own password (stdin or a prompt) is asked for.",
)
def users_token(name: str, as_user: str | None) -> None:
    """Issue a personal token (a person) or a signing key (a service), printed once; the
    previous one stops working."""
    from infra.users import authenticate_password, get, issue_service_key, issue_token

    if as_user is not None:
        by: Actor | None = authenticated(as_user, ("admin",))
    else:
        by = None
        password = _read_secret(f"{name}'s password")
    with changing() as session:
        user = get(session, name)
        if by is None:
            authenticate_password(session, name, password, channel="cli")
            if user.password_expired:
                raise UserError(
                    f"{name}'s password was set by someone else: choose your own first "
                    f"(`bulkguard users password {name}`)"
                )
        if user.kind == "service":
            if by is None:
                raise UserError("a service's signing key is issued by an admin (--as NAME)")
            secret = issue_service_key(session, user, by=by, now=utcnow())
        else:
            secret = issue_token(session, user, by=by, now=utcnow())
    console.print(f"new {'signing key' if user.kind == 'service' else 'token'} for {name}:")
    click.echo(secret)


@users.command("password")
@click.argument("name")
@click.option(
    "--as",
    "as_user",
    default=None,
    metavar="NAME",
    help="An admin resetting it (it must be changed at next use); without, NAME's own.",
)
def users_password(name: str, as_user: str | None) -> None:
    """Change a password: the current one, then the new one (stdin lines, or prompts)."""
    from infra.users import authenticate_password, end_console_sessions, get, set_password

    by = authenticated(as_user, ("admin",)) if as_user is not None else None
    current = _read_secret(f"{name}'s current password") if by is None else ""
    new = _new_password(f"new password for {name}")
    with changing() as session:
        user = get(session, name)
        if by is None:
            authenticate_password(session, name, current, channel="cli")
        set_password(session, user, new, by=by, now=utcnow())
        if by is None:  # as on the console's password page; an admin's reset ends them all
            end_console_sessions(session, user.id, why="password_changed", now=utcnow())
    console.print(f"password of {name} changed")


@contextmanager
def changing() -> Iterator[Session]:
    """A transaction whose refusals stop the command with their reason, committing nothing."""
    try:
        with session_scope() as session:
            yield session
    except NotAllowedError as exc:
        raise click.ClickException(f"refused: {exc}") from None
    except ValueError as exc:  # UserError, CredentialError
        raise click.ClickException(str(exc)) from None


def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        typed: str = click.prompt(prompt, hide_input=True)
        return typed
    line = sys.stdin.readline()
    if not line:
        raise click.ClickException(f"{prompt}: expected on standard input, one per line")
    return line.rstrip("\r\n")


def _new_password(prompt: str) -> str:
    if sys.stdin.isatty():
        typed: str = click.prompt(prompt, hide_input=True, confirmation_prompt=True)
        return typed
    return _read_secret(prompt)
