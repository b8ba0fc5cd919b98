"""``bulkguard api-keys`` on a real database: an admin creates a key (printed once, kept as a
digest), a second for rotation, lists and revokes them; a reviewer may not; each act audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from infra import credentials
from infra.api_keys import KEY_PREFIX, authenticate
from infra.db.models import ApiKey, AuditEvent, utcnow
from infra.db.session import session_scope
from tests.people import cli_env
from tests.stores.test_cli_users import run


def test_an_admin_creates_rotates_lists_and_revokes_keys(env: dict[str, str]) -> None:
    admin = cli_env("root", "admin")["BULKGUARD_TOKEN"]
    reviewer = cli_env("rita", "reviewer")["BULKGUARD_TOKEN"]
    refused = run("api-keys", "create", "crm", "--scope", "scoring", "--as", "rita", token=reviewer)
    assert refused.exit_code == 1
    assert "admin" in refused.output
    created = run(
        "api-keys",
        "create",
        "crm",
        "--scope",
        "scoring",
        "--scope",
        "read",
        "--as",
        "root",
        token=admin,
    )
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith(KEY_PREFIX)
    second = run("api-keys", "create", "crm", "--scope", "scoring", "--as", "root", token=admin)
    assert second.exit_code == 0, second.output
    third = run("api-keys", "create", "crm", "--scope", "scoring", "--as", "root", token=admin)
    assert third.exit_code == 1
    assert "already holds 2 keys" in third.output
    with session_scope() as session:
        digests = set(session.scalars(select(ApiKey.key_sha256)))
        assert credentials.token_digest(key) in digests
        assert key not in digests
        assert authenticate(session, key, now=utcnow()).scopes == {"read", "scoring"}

    listed = [json.loads(line) for line in run("api-keys", "list", "--json").output.splitlines()]
    assert [(row["client"], row["scopes"]) for row in listed] == [
        ("crm", ["read", "scoring"]),
        ("crm", ["scoring"]),
    ]
    revoked = run("api-keys", "revoke", str(listed[0]["id"]), "--as", "root", token=admin)
    assert revoked.exit_code == 0, revoked.output
    assert len(run("api-keys", "list", "--json").output.splitlines()) == 1
    assert len(run("api-keys", "list", "--all").output.splitlines()) == 2
    with session_scope() as session:
        events = session.scalars(
            select(AuditEvent.event).where(AuditEvent.event.like("api_key_%"))
        ).all()
    assert sorted(events) == ["api_key_created", "api_key_created", "api_key_revoked"]
