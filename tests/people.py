"""The people and services of the tests: real users in the test database, made through the
same functions as ``bulkguard users``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from infra import credentials
from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Actor, Channel, Role, create_user, find, issue_service_key, issue_token

PASSWORD = "correct horse battery staple"
# Whoever adds the tests' users: the first admin of every test database.
ADMIN = "root-admin"


def person(session: Session, name: str, *roles: Role, channel: Channel = "cli") -> Actor:
    """The user ``name`` holding ``roles`` (made on first use), acting from ``channel``."""
    user = find(session, name)
    if user is None:
        user = create_user(session, name, roles=roles, by=None, now=utcnow(), password=PASSWORD)
        session.flush()
    return Actor(name=user.name, user_id=user.id, channel=channel)


def token_for(name: str, *roles: Role) -> str:
    """A personal token for ``name`` (made with ``roles`` if new), committed: for the CLI's
    ``BULKGUARD_TOKEN``."""
    with session_scope() as session:
        person(session, name, *roles)
        user = find(session, name)
        assert user is not None
        return issue_token(session, user, by=None, now=utcnow())


def cli_env(name: str, *roles: Role) -> dict[str, str]:
    """The environment a CLI command run as ``name`` needs besides ``--as name``."""
    return {"BULKGUARD_TOKEN": token_for(name, *roles)}


def service(name: str, *roles: Role) -> str:
    """A service user holding ``roles``, committed; its private signing key."""
    with session_scope() as session:
        admin = person(session, ADMIN, "admin")
        user = find(session, name) or create_user(
            session, name, roles=roles, by=admin, now=utcnow(), kind="service"
        )
        session.flush()
        return issue_service_key(session, user, by=admin, now=utcnow())


def signed(key: str, task_name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with the service's signature, as an upstream service sends them."""
    return {**kwargs, "signature": credentials.sign(key, task_name, kwargs)}
