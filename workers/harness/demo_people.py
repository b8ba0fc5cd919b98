"""The people of the demo: a reviewer, counsel and an admin, each with a one-time password made
for this run, so that a new user can take the decisions the demo leaves waiting.

A one-time password proves who someone is once: it must be replaced with their own before a
token is issued (``bulkguard users password NAME``, then ``bulkguard users token NAME``).
Running the demo again gives each of them a new one-time password; their past decisions stay
theirs. Passwords are printed, never written to the report.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Actor, Role, create_user, find, set_password

DEMO = Actor.system("demo")
PEOPLE: tuple[tuple[str, Role], ...] = (
    ("demo-reviewer", "reviewer"),
    ("demo-counsel", "counsel"),
    ("demo-admin", "admin"),
)


@dataclass(frozen=True)
class Login:
    name: str
    role: Role
    password: str


def demo_logins() -> list[Login]:
    """Make (or refresh) the demo's people; their one-time logins."""
    logins = [Login(name, role, secrets.token_urlsafe(12)) for name, role in PEOPLE]
    with session_scope() as session:
        for login in logins:
            user = find(session, login.name)
            if user is None:
                create_user(
                    session,
                    login.name,
                    roles=[login.role],
                    by=DEMO,
                    now=utcnow(),
                    password=login.password,
                    password_expired=True,
                )
            else:
                set_password(session, user, login.password, by=DEMO, now=utcnow())
    return logins
