"""A solo scoring worker past its hard time limit: Celery enforces no limit in that pool, so
the worker's watchdog keeps the batch and stops the process, and the redelivered message is not
run again (``workers.solo_limits``, ``tasks.pipeline``)."""

from __future__ import annotations

import pytest
import redis
from sqlalchemy import select

from infra.db.models import AccountDecision, DeadLetter
from infra.db.session import session_scope
from tasks.offline.simulate_accounts import simulate
from tests.integration.waiting import count

VISIBILITY_SECONDS = 4


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_solo_worker_past_its_hard_limit_keeps_the_batch_once(
    start, active_model, env: dict[str, str]
) -> None:
    trial = {"BULKGUARD_REDIS_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_SECONDS)}
    first = start({"scoring": 1}, extra_env=trial)
    (worker,) = first.processes
    # Registration records are the slowest to score (each writes neighbourhood counters):
    # 10,000 take about a second in the body, far past a 0.2 s hard limit. The soft limit is
    # set out of reach, as if the task were stuck where no signal gets through.
    big = [r for r in simulate(18000, seed=6, stages="all") if r["stage"] == "registration"]
    big = big[:10000]
    task_id = first.app.send_task(
        "scoring.score_accounts",
        kwargs={"stage": "registration", "accounts": big},
        soft_time_limit=300,
        time_limit=0.2,
    ).id
    first.wait_for(lambda: worker.process.poll() is not None, timeout=90, what="the stop")
    assert worker.process.returncode == 70, first.logs()
    with session_scope() as session:
        (letter,) = session.scalars(select(DeadLetter)).all()
    assert letter.task_id == task_id
    assert letter.reason.startswith("hard time limit exceeded (0.2 s)")
    assert big[0]["account_id"] in letter.payload
    assert count(AccountDecision) == 0

    # The supervisor starts a new worker; the unacknowledged message comes back to it after the
    # visibility timeout and is acknowledged without running.
    second = start({"scoring": 1}, extra_env=trial)
    (restarted,) = second.processes
    second.wait_for(
        lambda: f"{task_id}] succeeded" in restarted.log_path.read_text(errors="replace"),
        timeout=VISIBILITY_SECONDS + 60,
        what="the redelivered message to be acknowledged",
    )
    broker = redis.Redis.from_url(env["BROKER_URL"])
    try:
        assert broker.llen("scoring") == 0
        assert broker.hlen("unacked") == 0
    finally:
        broker.close()
    assert count(DeadLetter) == 1
    assert count(AccountDecision) == 0
    small = [r for r in simulate(60, seed=7) if r["stage"] == "registration"]
    second.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": small}
    )
    second.wait_for(
        lambda: count(AccountDecision) == len(small), what="the next batch to be scored"
    )
    assert second.alive()
