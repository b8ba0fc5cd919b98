"""A subject's erasure through the real system: a small pipeline on real workers, one account
banned and its appeal overturned, exported and erased on the command line; then every store the
system writes (every table's rows, the database file, every Redis key and value, every file
under the data directory, the worker logs) is searched for its number and id. Only the audit
record of the request (which names neither) and what is on hold (each with its reason) remain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis
from click.testing import CliRunner
from sqlalchemy import select

from infra.db.models import (
    AuditEvent,
    EnforcementAction,
    Evidence,
    OutboxMessage,
    RetentionRun,
)
from infra.db.session import session_scope
from infra.number_hash import number_keys
from infra.settings import get_settings
from tasks.offline.simulate_accounts import simulate
from tasks.subject.find import subject
from tests.integration.waiting import count
from tests.mentions import rows_mentioning
from tests.people import cli_env
from workers.cli.main import main

ADMIN = "dpo@example.org"
# Where a ban in force, kept through its account's erasure, is still named: its account, the
# action and its audit trail, its score and the record behind it, its delivery to the platform.
HELD_TABLES = {
    "accounts",
    "enforcement_actions",
    "audit_events",
    "scores",
    "signal_snapshots",
    "deliveries",
}
REVIEWER = "reviewer@example.org"


def _cli(*args: str, who: str, role: Any) -> str:
    result = CliRunner().invoke(main, [*args, "--as", who], env=cli_env(who, role))
    assert result.exit_code == 0, result.output
    return result.stdout


def _text(value: Any) -> str:
    """A Redis reply as text, nested replies included, bytes decoded leniently."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return " ".join(_text(k) + "=" + _text(v) for k, v in value.items())
    if isinstance(value, list | tuple | set):
        return " ".join(_text(v) for v in value)
    return str(value)


def _redis_mentions(url: str, needles: list[str]) -> list[str]:
    """Every key of the test database, name and value, as text."""
    client = redis.Redis.from_url(url)
    read: dict[str, Any] = {
        "string": client.get,
        "set": client.smembers,
        "hash": client.hgetall,
        "list": lambda key: client.lrange(key, 0, -1),
        "zset": lambda key: client.zrange(key, 0, -1),
        "stream": client.xrange,
    }
    found: list[str] = []
    for key in client.scan_iter(count=1000):
        name, value = _text(key), _text(read[_text(client.type(key))](key))
        found.extend(f"{name}: {n}" for n in needles if n in name or n in value)
    return found


def _file_mentions(folder: Path, needles: list[str]) -> list[str]:
    return [
        f"{path}: {needle}"
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
        for needle in needles
        if needle.encode() in path.read_bytes()
    ]


def _ban_without_evidence() -> EnforcementAction:
    """A ban in force that no evidence is of (so no notice cites it)."""
    with session_scope() as session:
        return session.scalars(
            select(EnforcementAction)
            .where(
                EnforcementAction.action == "ban",
                EnforcementAction.status == "active",
                ~select(Evidence.id).where(Evidence.action_id == EnforcementAction.id).exists(),
            )
            .order_by(EnforcementAction.id)
            .limit(1)
        ).one()


def _phone(account_id: str) -> str:
    """The account's number, as its records give it: the account row keeps only its hash."""
    with session_scope() as session:
        (number,) = subject(session, account_id=account_id).phones
        return number


def _overturned_ban(workers: Any) -> tuple[str, str, int]:
    """An account banned with no evidence of it, its ban overturned on appeal."""
    ban = _ban_without_evidence()
    account_id, action_id = ban.account_id, ban.id
    phone = _phone(account_id)
    _cli(
        "appeal",
        str(action_id),
        "--outcome",
        "overturn",
        "--reason",
        "their own shop",
        who=REVIEWER,
        role="reviewer",
    )
    # The lift reaches the platform and every follow-up commits before the erasure.
    workers.wait_for(
        lambda: count(OutboxMessage, OutboxMessage.completed_at.is_(None)) == 0,
        timeout=90,
        what="follow-ups done",
    )
    return account_id, phone, action_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_erased_subject_leaves_no_trace(start, active_model, env, redis_url, tmp_path):
    workers = start()
    records = list(simulate(600, seed=11))
    by_stage: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_stage.setdefault(record["stage"], []).append(record)
    for stage, batch in by_stage.items():
        workers.app.send_task("scoring.score_accounts", kwargs={"stage": stage, "accounts": batch})
    workers.drain([r["account_id"] for r in records], active_model)
    account_id, phone, action_id = _overturned_ban(workers)
    needles = [account_id, phone]
    assert rows_mentioning_now(needles), "the account was not stored"

    exported = json.loads(
        _cli("subject", "export", "--account", account_id, "--json", who=ADMIN, role="admin")
    )
    assert exported["subject"]["phones"] == [phone]
    assert exported["accounts"][0]["phone_hash"] == number_keys().hash(phone)
    # Found by number too, through the hash.
    by_number = json.loads(
        _cli("subject", "export", "--phone", phone, "--json", who=ADMIN, role="admin")
    )
    assert by_number["subject"]["account_ids"] == [account_id]
    assert action_id in [a["id"] for a in exported["actions"]]
    assert exported["appeals"][0]["outcome"] == "overturn"
    assert exported["records_as_received"][0]["record"]["phone"] == phone

    erased = json.loads(
        _cli(
            "subject",
            "erase",
            "--account",
            account_id,
            "--reason",
            "erasure request 2026-41",
            "--json",
            who=ADMIN,
            role="admin",
        )
    )
    assert erased["kept"] == []
    assert erased["erased"]["accounts"] == 1

    assert rows_mentioning_now(needles) == {}
    database = Path(env["DATABASE_URL"].removeprefix("sqlite:///"))
    data_dir = get_settings().data_dir
    assert _file_mentions(database.parent, needles) == []
    assert _file_mentions(data_dir, needles) == []
    assert _redis_mentions(redis_url, needles) == []
    assert [needle for needle in needles if needle in workers.logs_whole()] == []
    with session_scope() as session:
        (request,) = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "subject_request")
        )
        assert request.details["reference"] == erased["reference"]
        assert request.actor == ADMIN

    # A ban in force is on hold: erasing its account keeps the ban, what explains it and what
    # delivered it, each said why, and nothing else.
    held = _ban_without_evidence()
    needles = [held.account_id, _phone(held.account_id)]
    kept = json.loads(
        _cli(
            "subject",
            "erase",
            "--account",
            held.account_id,
            "--reason",
            "request 2026-42",
            "--json",
            who=ADMIN,
            role="admin",
        )
    )
    whys = {item["what"]: item["why"] for item in kept["kept"]}
    assert whys[f"enforcement action {held.id}"].startswith("ban active")
    assert whys[f"account {held.account_id}"] == "the kept items above refer to it"
    assert "scoring record(s)" in " ".join(whys)
    where = {name.split(".")[0] for name in rows_mentioning_now(needles)}
    assert where <= HELD_TABLES, where
    assert _redis_mentions(redis_url, needles) == []
    outbound = get_settings().platform_sink_path
    assert [line for line in outbound.read_text().splitlines() if held.account_id in line]

    # Beat's retention task runs on a real maintenance worker (nothing here has expired).
    workers.app.send_task("maintenance.retention")
    workers.wait_for(
        lambda: count(RetentionRun, RetentionRun.finished_at.is_not(None)) == 1,
        what="a retention run",
    )


def rows_mentioning_now(needles: list[str]) -> dict[str, list[str]]:
    with session_scope() as session:
        return rows_mentioning(session, needles)
