"""``bulkguard appeals list`` on a real database: the appeals waiting, oldest first, masked,
and one decided with ``bulkguard appeal`` no longer waits."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from infra.db.models import utcnow
from infra.db.session import session_scope
from infra.users import Actor, find
from tasks.enforcement.appeal_requests import file_appeal
from tests.people import cli_env, service
from tests.seed import enforced
from workers.cli.main import main


def test_waiting_appeals_are_listed_until_decided(env: dict[str, str]) -> None:
    restrict, ban = enforced("banned", [("restrict", "active"), ("ban", "active")])
    service("appeal-service", "reviewer")
    now = utcnow()
    with session_scope() as session:
        user = find(session, "appeal-service")
        assert user is not None
        by = Actor(name=user.name, user_id=user.id, channel="task")
        file_appeal(session, ban, statement="Call me on +421 905 123 456.", actor=by, now=now)
        earlier = now - dt.timedelta(hours=2)
        file_appeal(session, restrict, statement="Just my shop.", actor=by, now=earlier)

    listed = CliRunner().invoke(main, ["appeals", "list"])
    assert listed.exit_code == 0, listed.output
    first, second = listed.stdout.splitlines()
    assert f"action {restrict} (active restrict)" in first
    assert "acc-1 (banned)" in first
    assert first.endswith("appeal-service\tJust my shop.")
    assert f"action {ban} (active ban)" in second
    assert "905 123" not in second
    assert "+42********56" in second

    as_json = CliRunner().invoke(main, ["appeals", "list", "--json", "--limit", "1"])
    (only,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert (only["action_id"], only["statement"], only["filed_by"]) == (
        restrict,
        "Just my shop.",
        "appeal-service",
    )

    decided = CliRunner().invoke(
        main,
        ["appeal", str(restrict), "--outcome", "uphold", "--reason", "confirmed", "--as", "a-7"],
        env=cli_env("a-7", "reviewer"),
    )
    assert decided.exit_code == 0, decided.output
    (left,) = CliRunner().invoke(main, ["appeals", "list"]).stdout.splitlines()
    assert f"action {ban} " in left

    decided = CliRunner().invoke(
        main,
        ["appeal", str(ban), "--outcome", "overturn", "--reason", "verified", "--as", "a-7"],
        env=cli_env("a-7", "reviewer"),
    )
    assert decided.exit_code == 0, decided.output
    none = CliRunner().invoke(main, ["appeals", "list"])
    assert none.stdout == ""
    assert "no appeals waiting" in none.stderr
