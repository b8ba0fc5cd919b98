"""``bulkguard status`` during a real run: its numbers against Redis and the database."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from infra.db.models import AccountDecision, DeadLetter, EnforcementAction, OutboxMessage
from infra.redis_client import get_redis
from tests.integration.waiting import count
from tests.records import messaging_accounts
from workers.cli.main import main


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_status_reports_what_redis_and_the_database_hold(start, active_model):
    # Scoring and enforcement run; evidence and legal have no worker, so their work waits.
    workers = start({"scoring": 1, "enforcement": 1})
    accounts = messaging_accounts(150)
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": accounts}
    )
    workers.app.send_task("scoring.score_accounts", kwargs={"stage": "nonsense", "accounts": [1]})
    workers.app.send_task("legal.escalate")
    escalation_sent = time.monotonic()
    workers.wait_for(lambda: count(AccountDecision) == len(accounts), what="scored")
    workers.wait_for(lambda: count(DeadLetter) == 1, what="the bad batch kept")
    workers.wait_for(
        lambda: count(EnforcementAction) > 0 and get_redis().llen("evidence") > 0,
        what="enforcement done, evidence waiting",
    )

    result = CliRunner().invoke(main, ["status", "--json"])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)

    redis = get_redis()
    assert status["queues"] == {queue: redis.llen(queue) for queue in status["queues"]}
    assert status["queues"]["legal"] == 1
    assert 0 < status["oldest_message_seconds"]["legal"] <= time.monotonic() - escalation_sent + 1
    assert status["oldest_message_seconds"]["scoring"] == 0
    assert status["queues"]["evidence"] >= 1
    assert len(status["workers"]["scoring"]) == 1
    assert len(status["workers"]["enforcement"]) == 1
    assert status["workers"]["legal"] == []
    assert status["models"] == {"active": active_model}
    assert status["breaker"] == {"open": False, "reason": None}
    assert status["dead_letters"]["total"] == count(DeadLetter) == 1
    assert status["reviews"]["pending"] == count(
        EnforcementAction,
        EnforcementAction.action == "review",
        EnforcementAction.status == "pending",
    )
    assert status["outbox"]["unfinished"] == count(
        OutboxMessage, OutboxMessage.completed_at.is_(None)
    )
    assert status["outbox"]["unfinished"] >= 1  # the evidence follow-up nobody consumed yet

    table = CliRunner().invoke(main, ["status"])
    assert table.exit_code == 0, table.output
    assert "legal" in table.output
