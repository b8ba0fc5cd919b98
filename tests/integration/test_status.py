"""``bulkguard status`` during a real run: its numbers against Redis and the database, and the
settings the workers run with rather than the command's own (``breaker status`` too)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from click.testing import CliRunner

from infra.db.models import AccountDecision, DeadLetter, EnforcementAction, OutboxMessage
from infra.redis_client import get_redis
from infra.settings import get_settings
from tests.integration.waiting import count
from tests.records import messaging_accounts
from workers.cli.main import main
from workers.harness.processes import stop_workers
from workers.published_settings import published


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
    assert status["models_by_stage"] == {"scoring": {"active": active_model}, "evidence": {}}
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


def _json(*argv: str) -> Any:
    result = CliRunner().invoke(main, [*argv, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _published_nodes() -> set[str]:
    return {report.node.split("@")[0] for report in published(get_redis())[1]}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_status_shows_the_settings_the_workers_run_with_not_its_own(start, start_beat):
    # This process (the command line) runs with the demo's settings: enforce, a million bans.
    assert (get_settings().enforcement_mode, get_settings().breaker_min_bans) == (
        "enforce",
        1_000_000,
    )
    shadow = {"BULKGUARD_ENFORCEMENT_MODE": "shadow"}
    first = start({"enforcement": 1}, extra_env={**shadow, "BULKGUARD_BREAKER_MIN_BANS": "52"})
    (first_name,) = [w.name for w in first.processes]
    first.wait_for(lambda: first_name in _published_nodes(), what="settings published")

    breaker = _json("breaker", "status")
    assert (breaker["limits_from"], breaker["note"], breaker["disagreement"]) == (
        "workers",
        None,
        False,
    )
    (limits,) = breaker["limits"]
    assert [node.split("@")[0] for node in limits["workers"]] == [first_name]
    assert (limits["min_bans"], limits["limit"], limits["window_bans"]) == (52, 52, 0)

    status = _json("status")
    enforcement = status["worker_settings"]["enforcement"]
    assert enforcement["settings"]["enforcement_mode"] == "shadow"
    assert enforcement["settings"]["breaker_min_bans"] == 52
    assert enforcement["settings"]["release_delay_max_seconds"] == 0
    assert enforcement["settings"]["enforcement_policy_version"]
    assert len(enforcement["settings"]["enforcement_policy_sha256"]) == 64
    assert enforcement["disagreements"] == {}
    assert enforcement["not_reported"] == []
    assert status["worker_settings"]["scoring"]["workers"] == []
    assert status["beat"] == {
        "alive": False,
        "last_tick": None,
        "seconds_ago": None,
        "host": None,
        "pid": None,
    }

    # A second enforcement worker, started with other limits: the two disagree.
    second = start({"enforcement": 1}, extra_env={**shadow, "BULKGUARD_BREAKER_MIN_BANS": "77"})
    (second_name,) = [w.name for w in second.processes]
    second.wait_for(lambda: second_name in _published_nodes(), what="settings published")
    breaker = _json("breaker", "status")
    assert breaker["disagreement"] is True
    assert sorted(limits["limit"] for limits in breaker["limits"]) == [52, 77]
    enforcement = _json("status")["worker_settings"]["enforcement"]
    assert enforcement["settings"]["enforcement_mode"] == "shadow"
    by_value = {
        v["value"]: [n.split("@")[0] for n in v["workers"]]
        for v in enforcement["disagreements"]["breaker_min_bans"]
    }
    assert by_value == {52: [first_name], 77: [second_name]}

    start_beat()
    first.wait_for(lambda: _json("status")["beat"]["alive"], timeout=60, what="beat alive")
    table = CliRunner().invoke(main, ["status"])
    assert table.exit_code == 0, table.output
    shown = " ".join(table.output.split())  # as wrapped to the terminal's width
    assert "beat: alive, last tick" in shown
    assert "enforcement: DISAGREEMENT: breaker_min_bans" in shown, table.output
    assert f"52 on {first_name}" in shown
    assert f"77 on {second_name}" in shown

    # Stopped, the workers withdraw what they published: breaker status says so and labels
    # the limits it shows as its own instead of passing them off as the workers'.
    stop_workers([*first.processes, *second.processes], timeout=30)
    breaker = _json("breaker", "status")
    assert breaker["limits_from"] == "cli"
    assert "no enforcement worker has published" in breaker["note"]
    (limits,) = breaker["limits"]
    assert (limits["workers"], limits["min_bans"]) == ([], 1_000_000)
    plain = CliRunner().invoke(main, ["breaker", "status"])
    assert "this command's own settings" in plain.output
