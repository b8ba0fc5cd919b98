"""The HTTP api in the test process (the same application ``bulkguard api serve`` runs), and
its clients' keys made as ``bulkguard api-keys create`` makes them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from infra import api_keys
from infra.api_keys import Scope
from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.settings import Settings, get_settings
from infra.users import Role, change_roles, find
from tests.broker import Broker
from tests.people import ADMIN, person
from workers.api.app import build
from workers.api.limits import Backlog


def api(
    broker: Broker | None = None,
    *,
    backlog: Callable[[], Backlog] = lambda: Backlog(0, 0.0),
    settings: Settings | None = None,
) -> TestClient:
    return TestClient(
        build(
            settings or get_settings(),
            publisher=broker or Broker(),
            backlog=backlog,
            broker_ready=lambda: broker is None or not broker.down,
        )
    )


def api_key(name: str, *scopes: Scope, roles: tuple[Role, ...] = ()) -> str:
    """A new key of the client ``name`` (with ``roles`` granted), committed."""
    with session_scope() as session:
        admin = person(session, ADMIN, "admin")
        _, key = api_keys.create_key(session, name, scopes, by=admin, now=utcnow())
        if roles:
            client = find(session, name)
            assert client is not None
            change_roles(session, client, add=roles, by=admin, now=utcnow())
        return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
