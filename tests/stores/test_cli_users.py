"""``bulkguard users`` on a real database: the first admin, people with one-time passwords who
choose their own and get a token, roles granted and revoked, disabled users, services with
signing keys, and every change audited."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import select

from infra import credentials
from infra.db.models import AuditEvent, ConsoleSession, User, UserToken, utcnow
from infra.db.session import session_scope
from tests.people import PASSWORD
from workers.cli.main import main
from workers.console import sessions

NEW_PASSWORD = "a much longer passphrase of mine"


def run(*args: str, token: str = "", stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, env={"BULKGUARD_TOKEN": token})


def listed() -> dict[str, Any]:
    result = run("users", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in map(json.loads, result.output.splitlines())}


def admin_token() -> str:
    assert run("users", "add", "root", "--role", "admin", stdin=PASSWORD + "\n").exit_code == 0
    issued = run("users", "token", "root", stdin=PASSWORD + "\n")
    assert issued.exit_code == 0, issued.output
    return issued.stdout.strip().splitlines()[-1]


def test_the_first_admin_then_people_added_by_an_admin(env: dict[str, str]) -> None:
    # No admin yet: the first user must be one, and needs nobody's --as.
    refused = run("users", "add", "alice", "--role", "reviewer", stdin=PASSWORD + "\n")
    assert refused.exit_code == 1
    assert "the first user added must be a person with --role admin" in refused.output
    token = admin_token()
    assert token.startswith(credentials.TOKEN_PREFIX)
    # From now on adding takes an admin, proven by their token.
    assert run("users", "add", "bob", "--role", "reviewer", stdin=PASSWORD + "\n").exit_code == 1
    added = run(
        "users", "add", "alice", "--role", "reviewer", "--role", "counsel",
        "--email", "alice@example.org", "--as", "root", token=token, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert PASSWORD not in added.output
    alice = listed()["alice"]
    assert (alice["roles"], alice["password_expired"], alice["disabled"]) == (
        ["counsel", "reviewer"],
        True,
        False,
    )
    with session_scope() as session:
        stored = session.scalars(select(User.password_hash).where(User.name == "alice")).one()
        assert stored is not None
        assert stored.startswith("$argon2id$")
        assert PASSWORD not in stored
        created = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "user", AuditEvent.event == "created")
        ).all()
        assert [(e.actor, e.channel) for e in created] == [("bootstrap", "cli"), ("root", "cli")]


def test_a_one_time_password_is_replaced_before_a_token_is_issued(env: dict[str, str]) -> None:
    token = admin_token()
    run("users", "add", "alice", "--role", "reviewer", "--as", "root", token=token,
        stdin=PASSWORD + "\n")  # fmt: skip
    early = run("users", "token", "alice", stdin=PASSWORD + "\n")
    assert early.exit_code == 1
    assert "choose your own first" in early.output
    wrong = run("users", "password", "alice", stdin=f"not it at all\n{NEW_PASSWORD}\n")
    assert wrong.exit_code == 1
    assert "unknown user, disabled user, or wrong password" in wrong.output
    short = run("users", "password", "alice", stdin=f"{PASSWORD}\nshort\n")
    assert short.exit_code == 1
    assert "at least 12 characters" in short.output
    changed = run("users", "password", "alice", stdin=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    assert changed.exit_code == 0, changed.output
    assert listed()["alice"]["password_expired"] is False
    first = run("users", "token", "alice", stdin=NEW_PASSWORD + "\n").stdout.strip()
    second = run("users", "token", "alice", stdin=NEW_PASSWORD + "\n").stdout.strip()
    assert first != second
    with session_scope() as session:
        tokens = session.scalars(select(UserToken).order_by(UserToken.id)).all()
        # Only digests are kept, and issuing a token revokes the one before.
        assert {t.token_sha256 for t in tokens} >= {
            credentials.token_digest(first),
            credentials.token_digest(second),
        }
        assert [t.revoked_at is None for t in tokens[-2:]] == [False, True]


def test_roles_and_disabling_take_effect_at_once(env: dict[str, str]) -> None:
    token = admin_token()
    run("users", "add", "alice", "--role", "reviewer", "--as", "root", token=token,
        stdin=PASSWORD + "\n")  # fmt: skip
    roles = run("users", "roles", "alice", "--add", "counsel", "--remove", "reviewer",
                "--as", "root", token=token)  # fmt: skip
    assert roles.exit_code == 0, roles.output
    assert roles.output.strip() == "alice\tcounsel"
    last_admin = run("users", "roles", "root", "--remove", "admin", "--as", "root", token=token)
    assert last_admin.exit_code == 1
    assert "that would leave no admin" in last_admin.output
    assert listed()["root"]["roles"] == ["admin"]
    # Issued by an admin, alice's token works until she is disabled.
    alice = run("users", "token", "alice", "--as", "root", token=token).stdout.strip()
    not_admin = run("users", "disable", "root", "--as", "alice", token=alice)
    assert not_admin.exit_code == 1
    assert "does not hold the admin role" in not_admin.output
    assert run("users", "disable", "alice", "--as", "root", token=token).exit_code == 0
    after = run("users", "roles", "alice", "--add", "reviewer", "--as", "alice", token=alice)
    assert after.exit_code == 1
    assert "unknown user, disabled user, or wrong token" in after.output
    assert listed()["alice"]["disabled"] is True


def test_a_service_gets_a_signing_key_and_no_password(env: dict[str, str]) -> None:
    token = admin_token()
    added = run("users", "add", "appeal-service", "--role", "reviewer", "--service",
                "--as", "root", token=token)  # fmt: skip
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    kwargs = {"action_id": 1, "outcome": "uphold", "decided_by": "appeal-service", "reason": "ok"}
    signature = credentials.sign(key, "enforcement.appeal", kwargs)
    with session_scope() as session:
        public = session.scalars(select(User.public_key).where(User.name == "appeal-service")).one()
    assert public is not None
    assert key not in public
    assert credentials.signature_valid(public, "enforcement.appeal", kwargs, signature)
    # A new key replaces the old one: what the old one signs no longer verifies.
    rotated = run("users", "token", "appeal-service", "--as", "root", token=token)
    assert rotated.exit_code == 0, rotated.output
    with session_scope() as session:
        public = session.scalars(select(User.public_key).where(User.name == "appeal-service")).one()
    assert public is not None
    assert not credentials.signature_valid(public, "enforcement.appeal", kwargs, signature)
    assert listed()["appeal-service"]["kind"] == "service"


def test_a_password_changed_on_the_command_line_ends_the_console_sessions(
    env: dict[str, str],
) -> None:
    token = admin_token()
    run("users", "add", "alice", "--role", "reviewer", "--as", "root", token=token,
        stdin=PASSWORD + "\n")  # fmt: skip
    with session_scope() as session:
        alice = session.scalars(select(User).where(User.name == "alice")).one()
        sessions.start(session, alice, address="127.0.0.1", now=utcnow())
    changed = run("users", "password", "alice", stdin=f"{PASSWORD}\n{NEW_PASSWORD}\n")
    assert changed.exit_code == 0, changed.output
    with session_scope() as session:
        (ended,) = session.scalars(select(ConsoleSession.ended_why)).all()
    assert ended == "password_changed"
