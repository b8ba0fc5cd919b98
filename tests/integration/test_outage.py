"""A database outage is waited out with backoff, not stormed: a worker whose database refuses
every connection, past its retry budget, with the dead-letter store down with it, tries a
batch a handful of times (it was requeued at once, thousands of times, before), and the batch is
neither lost nor run twice once the database is back."""

from __future__ import annotations

import time

import pytest

from infra.db.models import AccountDecision, DeadLetter
from tasks.messages import ScoreAccounts
from tasks.offline.simulate_accounts import simulate
from tests.conftest import TEST_POSTGRES_URL
from tests.integration.waiting import count
from workers.harness.chaos.services import refusing_connections

OUTAGE_SECONDS = 20


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_database_outage_is_waited_out_not_stormed(start, active_model, env) -> None:
    # One retry: the budget runs out within the outage, and the dead-letter store is down too.
    workers = start({"scoring": 1}, extra_env={"BULKGUARD_TASK_MAX_RETRIES": "1"})
    records = [r for r in simulate(60, seed=4) if r["stage"] == "registration"]
    log = workers.processes[0].log_path
    before = log.read_text().count("Task scoring.score_accounts[")

    with refusing_connections(TEST_POSTGRES_URL, env["DATABASE_URL"]):
        workers.app.send_task(
            ScoreAccounts.TASK, kwargs={"stage": "registration", "accounts": records}
        )
        time.sleep(OUTAGE_SECONDS)
        attempts = log.read_text().count("Task scoring.score_accounts[") - before

    # Received, retried once, then put back with capped, jittered waits (2, 4, 8, 16 s at
    # most...): a handful of attempts in the outage, where an immediate requeue made thousands.
    assert 2 <= attempts <= 16, workers.logs()
    # The next attempt after the outage runs the body again: scored (or, had it failed, kept).
    workers.wait_for(
        lambda: count(AccountDecision) == len(records) or count(DeadLetter) == 1,
        timeout=90,
        what="the batch scored or kept after the outage",
    )
    assert "could not be dead-lettered" in log.read_text()
    assert workers.alive()
