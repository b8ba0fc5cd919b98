"""``bulkguard retention`` and ``bulkguard subject`` on a real database: a dry run counts, a run
deletes and reports per class, holds are an admin's with a reason, and subject requests are
refused with a readable reason when they name no one."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result
from sqlalchemy import select

from infra.db.models import AuditEvent, EnforcementAction, RetentionHold
from infra.db.session import session_scope
from tests.people import cli_env
from tests.retention_seed import person
from workers.cli.main import main

ADMIN = "keeper@example.org"


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or {})


def test_a_dry_run_then_a_run_by_hand(env: dict[str, str]) -> None:
    with session_scope() as session:
        person(session, "old-1", "+421905222111", allowed_neighbour="old-2")
    dry = run("retention", "run", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    counted = json.loads(dry.stdout)
    assert counted["dry_run"]
    assert counted["deleted"]["actions"] == 1
    assert counted["outside"] == {"log_references": "the log store"}
    done = run("retention", "run")
    assert done.exit_code == 0, done.output
    assert "actions: deleted 1" in done.stdout
    assert "log_references: outside the database, deleted by the log store" in done.stdout
    with session_scope() as session:
        assert session.scalar(select(EnforcementAction.id)) is None


def test_holds_are_an_admins_with_a_reason(env: dict[str, str]) -> None:
    with session_scope() as session:
        person(session, "kept-1", "+421905222112")
    as_admin = ["--as", ADMIN]
    held = run(
        "retention",
        "hold",
        "account",
        "kept-1",
        "--reason",
        "litigation",
        *as_admin,
        env=cli_env(ADMIN, "admin"),
    )
    assert held.exit_code == 0, held.output
    twice = run(
        "retention",
        "hold",
        "account",
        "kept-1",
        "--reason",
        "again",
        *as_admin,
        env=cli_env(ADMIN, "admin"),
    )
    assert twice.exit_code == 1
    assert "already on hold" in twice.output
    refused = run(
        "retention",
        "hold",
        "action",
        "1",
        "--reason",
        "x",
        "--as",
        "nosy",
        env=cli_env("nosy", "reviewer"),
    )
    assert refused.exit_code == 1
    assert "admin" in refused.output
    assert run("retention", "run").exit_code == 0
    released = run(
        "retention",
        "release",
        "account",
        "kept-1",
        "--reason",
        "settled",
        *as_admin,
        env=cli_env(ADMIN, "admin"),
    )
    assert released.exit_code == 0, released.output
    with session_scope() as session:
        # Kept while held; the trail names the hold, not the account.
        assert session.scalar(select(EnforcementAction.account_id)) == "kept-1"
        hold = session.scalars(select(RetentionHold)).one()
        assert hold.released_at is not None
        trail = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "retention_hold")
        ).all()
        assert [e.event for e in trail] == ["held", "released"]
        assert all("kept-1" not in json.dumps(e.details) for e in trail)


def test_subject_requests_say_what_is_wrong(env: dict[str, str]) -> None:
    as_admin = ["--as", ADMIN]
    nobody = run("subject", "export", "--account", "nobody", *as_admin, env=cli_env(ADMIN, "admin"))
    assert nobody.exit_code == 1
    assert "no account 'nobody' is held" in nobody.output
    both = run(
        "subject",
        "erase",
        "--account",
        "a",
        "--phone",
        "+421905222113",
        "--reason",
        "r",
        *as_admin,
        env=cli_env(ADMIN, "admin"),
    )
    assert both.exit_code == 1
    assert "exactly one of --account ID or --phone E164" in both.output
    with session_scope() as session:
        person(session, "asked-1", "+421905222114")
    summary = run(
        "subject", "export", "--phone", "+421905222114", *as_admin, env=cli_env(ADMIN, "admin")
    )
    assert summary.exit_code == 0, summary.output
    assert "accounts asked-1" in summary.stdout
    assert "actions: 1" in summary.stdout
