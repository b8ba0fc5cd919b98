"""The people and services behind every human decision, their roles, and the checks that stand
between a name and an effect.

A decision is taken by an :class:`Actor`: who (a user's id and name), and from where (the
channel). The command line, the console and the workers authenticate the actor first
(:func:`authenticate_token`, :func:`authenticate_password`, :func:`authenticate_service`), and
the body that makes the effect checks the role again in its own transaction
(:func:`authorize`): a user disabled or stripped of a role a moment ago is refused there, whatever
the caller checked before. Roles are kept as spans of time, so a later check can ask what a user
held when they decided (:func:`held_at`).

Roles: ``reviewer`` decides review cases and appeals; ``counsel`` decides legal notices and
corrects the company graph they are addressed by; ``admin`` manages users and the machinery
(breaker, dead letters, deliveries, models). SECURITY.md lists every decision with its role.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from infra import credentials
from infra.db.models import AuditEvent, ConsoleSession, User, UserRole, UserToken

Role = Literal["reviewer", "counsel", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
# Where a decision came from: a person on the command line, the console or the HTTP API; a
# service by task name; the workers themselves.
Channel = Literal["cli", "console", "api", "task", "worker"]
# What a user name may be: it is shown in logs, audit trails and letters' histories.
NAME_PATTERN = r"^[a-z0-9][a-z0-9._@-]{1,63}$"


@dataclass(frozen=True)
class Actor:
    """Who takes a decision, and from where. ``user_id`` is None only for the system itself."""

    name: str
    user_id: int | None
    channel: Channel

    @classmethod
    def system(cls, name: str) -> Actor:
        """The workers deciding on their own (a policy rule, the clock, the breaker)."""
        return cls(name=name, user_id=None, channel="worker")

    @property
    def is_person(self) -> bool:
        return self.user_id is not None

    def recorded(self) -> dict[str, Any]:
        """The audit trail's columns for this actor."""
        return {"actor": self.name, "user_id": self.user_id, "channel": self.channel}


class NotAllowedError(PermissionError):
    """A decision its maker may not take, or a credential that does not prove who they are.
    The message says which without revealing anything secret."""


class UserError(ValueError):
    """A change to the users that cannot be made as asked (a taken name, an unknown role)."""


# Same words whether the user is unknown, disabled or the secret is wrong: an answer must not
# tell a guesser which names exist.
_NOT_PROVEN = "unknown user, disabled user, or wrong {what}"


def find(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def get(session: Session, name: str) -> User:
    user = find(session, name)
    if user is None:
        raise UserError(f"no user {name!r}")
    return user


def create_user(
    session: Session,
    name: str,
    *,
    roles: Iterable[Role],
    by: Actor | None,
    now: dt.datetime,
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    password_expired: bool = False,
    kind: Literal["person", "service"] = "person",
) -> User:
    """Add a user holding ``roles``; ``by`` None only for the first admin (:func:`bootstrap`)."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise UserError(
            f"{name!r} is not a user name: 2-64 lower-case letters, digits, '.', '_', '@' or '-'"
        )
    if find(session, name) is not None:
        raise UserError(f"user {name!r} exists")
    if kind == "service" and password is not None:
        raise UserError("a service never logs in: it has a signing key, not a password")
    user = User(
        name=name,
        display_name=display_name or name,
        email=email,
        kind=kind,
        password_hash=credentials.hash_password(password) if password is not None else None,
        password_expired=password_expired,
        created_at=now,
        created_by_id=by.user_id if by else None,
        changed_at=now,
        changed_by_id=by.user_id if by else None,
    )
    session.add(user)
    session.flush()
    for role in dict.fromkeys(roles):
        _grant(session, user, role, by=by, now=now)
    _audit(
        session,
        user,
        "created",
        by=by,
        now=now,
        details={"roles": sorted(set(roles)), "kind": kind},
    )
    return user


def has_admin(session: Session) -> bool:
    """Whether an enabled user holds ``admin`` (none: the first one may be added unasked)."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(UserRole)
            .join(User, User.id == UserRole.user_id)
            .where(UserRole.role == "admin", UserRole.revoked_at.is_(None), ~User.disabled)
        )
    )


def roles_of(session: Session, user_id: int) -> list[str]:
    return sorted(
        session.scalars(
            select(UserRole.role).where(UserRole.user_id == user_id, UserRole.revoked_at.is_(None))
        )
    )


def held_at(session: Session, user_id: int, role: str, at: dt.datetime) -> bool:
    """Whether the user held ``role`` at the moment ``at``."""
    return bool(
        session.scalar(
            select(func.count())
            .select_from(UserRole)
            .where(
                UserRole.user_id == user_id,
                UserRole.role == role,
                UserRole.granted_at <= at,
                (UserRole.revoked_at.is_(None)) | (UserRole.revoked_at > at),
            )
        )
    )


def change_roles(
    session: Session,
    user: User,
    *,
    add: Sequence[Role] = (),
    remove: Sequence[Role] = (),
    by: Actor,
    now: dt.datetime,
) -> list[str]:
    """Grant and revoke roles; the roles held afterwards. The last admin cannot be removed."""
    held = set(roles_of(session, user.id))
    for role in add:
        if role not in held:
            _grant(session, user, role, by=by, now=now)
    for role in remove:
        if role in held:
            session.execute(
                update(UserRole)
                .where(
                    UserRole.user_id == user.id,
                    UserRole.role == role,
                    UserRole.revoked_at.is_(None),
                )
                .values(revoked_at=now, revoked_by_id=by.user_id)
            )
    if "admin" in remove and not has_admin(session):
        raise UserError("that would leave no admin: grant admin to someone else first")
    user.changed_at, user.changed_by_id = now, by.user_id
    _audit(
        session,
        user,
        "roles_changed",
        by=by,
        now=now,
        details={"added": list(add), "removed": list(remove)},
    )
    return roles_of(session, user.id)


def disable(session: Session, user: User, *, by: Actor, now: dt.datetime) -> None:
    """Disable a user: their tokens stop working and nothing they decide is accepted again."""
    user.disabled = True
    user.changed_at, user.changed_by_id = now, by.user_id
    _revoke_tokens(session, user, now)
    if not has_admin(session):
        raise UserError("that would leave no admin: grant admin to someone else first")
    _audit(session, user, "disabled", by=by, now=now, details={})


def set_password(
    session: Session, user: User, password: str, *, by: Actor | None, now: dt.datetime
) -> None:
    """Set the user's password; one set by someone else (an admin) must be changed at next use.

    A reset by someone else is what follows a lost or stolen password, so it also ends every
    console session of the user and revokes their personal token: whoever held them must log in
    with the new password (and replace it) before deciding anything again."""
    if user.kind != "person":
        raise UserError(f"{user.name} is a service: it has a signing key, not a password")
    user.password_hash = credentials.hash_password(password)
    user.password_expired = by is not None and by.user_id != user.id
    user.changed_at = now
    user.changed_by_id = by.user_id if by else user.id
    if user.password_expired:
        end_console_sessions(session, user.id, why="password_reset", now=now)
        _revoke_tokens(session, user, now)
    _audit(
        session, user, "password_set", by=by, now=now, details={"expired": user.password_expired}
    )


def end_console_sessions(
    session: Session, user_id: int, *, why: str, now: dt.datetime, keep_id: str = ""
) -> None:
    """End every open console session of a user but the one whose stored id is ``keep_id``."""
    session.execute(
        update(ConsoleSession)
        .where(
            ConsoleSession.user_id == user_id,
            ConsoleSession.ended_at.is_(None),
            ConsoleSession.id != keep_id,
        )
        .values(ended_at=now, ended_why=why)
    )


def issue_token(session: Session, user: User, *, by: Actor | None, now: dt.datetime) -> str:
    """A new personal token for ``user`` (the previous one stops working); shown once."""
    if user.kind != "person" or user.disabled:
        raise UserError(f"{user.name} cannot hold a personal token")
    _revoke_tokens(session, user, now)
    token = credentials.new_token()
    session.add(
        UserToken(
            user_id=user.id,
            token_sha256=credentials.token_digest(token),
            created_at=now,
            created_by_id=by.user_id if by else user.id,
        )
    )
    _audit(session, user, "token_issued", by=by, now=now, details={})
    return token


def issue_service_key(session: Session, user: User, *, by: Actor, now: dt.datetime) -> str:
    """A new signing key for a service (the previous one stops working): the private half is
    returned, once; only the public half is kept."""
    if user.kind != "service" or user.disabled:
        raise UserError(f"{user.name} is not an enabled service")
    private, public = credentials.new_service_key()
    user.public_key = public
    user.changed_at, user.changed_by_id = now, by.user_id
    _audit(session, user, "key_issued", by=by, now=now, details={})
    return private


def authenticate_token(
    session: Session, name: str, token: str, *, channel: Channel, now: dt.datetime
) -> Actor:
    """The actor ``name`` if ``token`` is their current personal token."""
    user = find(session, name)
    digest = credentials.token_digest(token)
    current = (
        session.scalar(
            select(UserToken).where(UserToken.user_id == user.id, UserToken.revoked_at.is_(None))
        )
        if user is not None
        else None
    )
    if (
        user is None
        or user.disabled
        or current is None
        or not credentials.digests_match(current.token_sha256, digest)
    ):
        raise NotAllowedError(_NOT_PROVEN.format(what="token"))
    current.last_used_at = now
    return Actor(name=user.name, user_id=user.id, channel=channel)


def authenticate_password(session: Session, name: str, password: str, *, channel: Channel) -> Actor:
    """The actor ``name`` if ``password`` is theirs. An expired (one-time) password proves who
    they are but the caller must make them choose another (:attr:`User.password_expired`)."""
    user = find(session, name)
    matches = credentials.password_matches(user.password_hash if user else None, password)
    if user is None or user.disabled or not matches:
        raise NotAllowedError(_NOT_PROVEN.format(what="password"))
    if user.password_hash and credentials.needs_rehash(user.password_hash):
        user.password_hash = credentials.hash_password(password)
    return Actor(name=user.name, user_id=user.id, channel=channel)


def authenticate_service(
    session: Session, name: str, task_name: str, kwargs: dict[str, Any], signature: str
) -> Actor:
    """The service ``name`` if ``signature`` is its signature of this task and arguments."""
    user = find(session, name)
    if (
        user is None
        or user.disabled
        or user.kind != "service"
        or not user.public_key
        or not credentials.signature_valid(user.public_key, task_name, kwargs, signature)
    ):
        raise NotAllowedError(
            f"{task_name} refused: not signed by an enabled service named {name!r} (a person "
            "decides through the CLI or the console; a service signs what it sends)"
        )
    return Actor(name=user.name, user_id=user.id, channel="task")


def authorize(session: Session, actor: Actor, *roles: Role) -> User:
    """The actor's user, if enabled and holding one of ``roles`` now: checked where the effect
    is made, in the transaction that makes it."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or user.disabled:
        raise NotAllowedError(
            f"{actor.name!r} is not an enabled user: this decision needs a person"
        )
    held = set(roles_of(session, user.id))
    if not held.intersection(roles):
        wanted = " or ".join(roles)
        raise NotAllowedError(f"{user.name} does not hold the {wanted} role this decision needs")
    return user


def _grant(session: Session, user: User, role: str, *, by: Actor | None, now: dt.datetime) -> None:
    if role not in ROLES:
        raise UserError(f"no role {role!r}: the roles are {', '.join(ROLES)}")
    session.add(
        UserRole(
            user_id=user.id, role=role, granted_at=now, granted_by_id=by.user_id if by else None
        )
    )
    session.flush()


def _revoke_tokens(session: Session, user: User, now: dt.datetime) -> None:
    session.execute(
        update(UserToken)
        .where(UserToken.user_id == user.id, UserToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _audit(
    session: Session,
    user: User,
    event: str,
    *,
    by: Actor | None,
    now: dt.datetime,
    details: dict[str, Any],
) -> None:
    who = by.recorded() if by else {"actor": "bootstrap", "user_id": None, "channel": "cli"}
    session.add(
        AuditEvent(entity="user", entity_id=user.id, event=event, at=now, details=details, **who)
    )
