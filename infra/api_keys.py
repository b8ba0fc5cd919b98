"""The keys upstream services call the HTTP api with, and the clients that hold them.

A client is a service user of :mod:`infra.users` (``kind="service"``), not a table of its own:
what a client decides through the api (an appeal) is then checked against that user's roles by
the same :func:`infra.users.authorize` every other channel goes through, recorded under its
name in the same audit trail, and disabled the same way. A key is 256 random bits shown once;
only its SHA-256 is kept (:func:`infra.credentials.token_digest`), as for personal tokens.

A client holds at most two keys in force: the one its services use, and the next one while it
rolls out (rotation: create the new key, move every caller to it, revoke the old one).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra import credentials
from infra.db.models import ApiKey, AuditEvent, User
from infra.users import Actor, NotAllowedError, UserError, create_user, find

Scope = Literal["scoring", "evidence", "appeals", "read"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
KEY_PREFIX = "bgk_"
# Two at once: the key in use and its successor while callers move to it.
MAX_KEYS_IN_FORCE = 2
# ``last_used_at`` is written at most this often per key: a write per request would serialise
# every request of a client on one row.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Client:
    """Who a request comes from: the service user, and what its key allows."""

    actor: Actor
    key_id: int
    scopes: frozenset[str]


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_key(
    session: Session, name: str, scopes: tuple[Scope, ...], *, by: Actor, now: dt.datetime
) -> tuple[ApiKey, str]:
    """A new key for the client ``name`` (a service user, added if there is none) with
    ``scopes``; the key is returned once. A person cannot hold an api key."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise UserError(f"scopes are one or more of {', '.join(SCOPES)} (got {unknown or 'none'})")
    user = find(session, name)
    if user is None:
        user = create_user(session, name, roles=(), by=by, now=now, kind="service")
    if user.kind != "service" or user.disabled:
        raise UserError(f"{name} is not an enabled service: api keys belong to services")
    in_force = keys_in_force(session, user.id)
    if len(in_force) >= MAX_KEYS_IN_FORCE:
        ids = ", ".join(str(k.id) for k in in_force)
        raise UserError(
            f"{name} already holds {len(in_force)} keys in force ({ids}): "
            "revoke the one it no longer uses first"
        )
    key = new_key()
    row = ApiKey(
        user_id=user.id,
        key_sha256=credentials.token_digest(key),
        scopes=sorted(set(scopes)),
        created_at=now,
        created_by_id=by.user_id,
    )
    session.add(row)
    session.flush()
    _audit(session, user, "api_key_created", by=by, now=now, key=row)
    return row, key


def keys_in_force(session: Session, user_id: int) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
            .order_by(ApiKey.id)
        )
    )


def revoke_key(session: Session, key_id: int, *, by: Actor, now: dt.datetime) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise UserError(f"no api key {key_id}")
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by_id = now, by.user_id
        user = session.get(User, row.user_id)
        assert user is not None  # a foreign key
        _audit(session, user, "api_key_revoked", by=by, now=now, key=row)
    return row


def authenticate(session: Session, key: str, *, now: dt.datetime) -> Client:
    """The client whose key in force ``key`` is, or :class:`NotAllowedError` (one reason for
    every failure, so a guesser learns nothing)."""
    found = session.execute(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_sha256 == credentials.token_digest(key))
    ).first()
    if found is None:
        raise NotAllowedError("unknown, revoked or malformed api key")
    row, user = found
    if row.revoked_at is not None or user.disabled or user.kind != "service":
        raise NotAllowedError("unknown, revoked or malformed api key")
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Client(
        actor=Actor(name=user.name, user_id=user.id, channel="api"),
        key_id=row.id,
        scopes=frozenset(row.scopes),
    )


def _audit(
    session: Session, user: User, event: str, *, by: Actor, now: dt.datetime, key: ApiKey
) -> None:
    session.add(
        AuditEvent(
            entity="user",
            entity_id=user.id,
            event=event,
            at=now,
            details={"key_id": key.id, "scopes": list(key.scopes)},
            **by.recorded(),
        )
    )
