"""Commands that take a decision act as a user: ``--as NAME`` with that user's personal token
(``BULKGUARD_TOKEN``, or a prompt on a terminal), holding the role the decision needs.

The user is proven and their role checked before the command reads or writes anything else;
the decision's body checks the role again where it makes the effect (``infra.users.authorize``),
so a token that worked a second ago for a user disabled since does not carry the decision.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from infra.users import Actor, Role

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_VARIABLE = "BULKGUARD_TOKEN"  # noqa: S105 - the variable's name


def acting(*roles: Role) -> Callable[[F], F]:
    """Give the command ``--as NAME`` and call it with ``actor``: the authenticated user, who
    holds one of ``roles``."""
    wanted = " or ".join(roles)

    def decorate(command: F) -> F:
        @click.option(
            "--as",
            "as_user",
            required=True,
            metavar="NAME",
            help=f"The user deciding (a {wanted}); their token from {TOKEN_VARIABLE} or a prompt.",
        )
        @functools.wraps(command)
        def run(*args: Any, as_user: str, **kwargs: Any) -> Any:
            return command(*args, actor=authenticated(as_user, roles), **kwargs)

        return run  # type: ignore[return-value]  # same call signature, less --as

    return decorate


def authenticated(name: str, roles: tuple[Role, ...]) -> Actor:
    """The user ``name`` proven by their token and holding one of ``roles``, or the command
    stops with why."""
    from infra.db.models import utcnow
    from infra.db.session import session_scope
    from infra.users import NotAllowedError, authenticate_token, authorize

    token = _token()
    try:
        with session_scope() as session:
            actor = authenticate_token(session, name, token, channel="cli", now=utcnow())
            authorize(session, actor, *roles)
    except NotAllowedError as exc:
        raise click.ClickException(f"refused: {exc}") from None
    return actor


def _token() -> str:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if token:
        return token
    if sys.stdin.isatty():
        prompted: str = click.prompt("token", hide_input=True)
        return prompted.strip()
    raise click.ClickException(
        f"set {TOKEN_VARIABLE} to your personal token (`bulkguard users token NAME` issues one): "
        "a decision is taken by a proven user"
    )
