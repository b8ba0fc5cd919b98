"""A worker's main process killed while it holds a message, on each broker.

RabbitMQ gives an unacknowledged message back the moment its consumer's connection closes. Redis
cannot know that a consumer died: the message stays in kombu's table of unacknowledged messages
until it is older than the visibility timeout, and a live worker's sweep puts it back. These
tests shorten that timeout (production derives it from the longest task, workers/config.py) so
that they stay fast; the time each message took to come back is printed (``pytest -s``) and
recorded in docs/reliability.md, "Brokers".
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
import redis

from infra.db.models import AccountDecision
from tasks.offline.simulate_accounts import simulate
from tests.integration.waiting import count
from workers.harness.processes import WorkerProcess

BROKERS = pytest.mark.parametrize(
    ("broker_url", "database_url"), [("redis", "sqlite"), ("rabbitmq", "sqlite")], indirect=True
)
# Redis only: the trial's visibility timeout, in seconds (the sweep then runs every second). To
# measure production's window: BULKGUARD_TRIAL_VISIBILITY_SECONDS=480 (workers/config.py's
# VISIBILITY_TIMEOUT_SECONDS) with pytest's --timeout 900.
TRIAL_VISIBILITY_TIMEOUT = int(os.environ.get("BULKGUARD_TRIAL_VISIBILITY_SECONDS", "4"))


def _received(worker: WorkerProcess, task_id: str) -> bool:
    return f"[{task_id}] received" in worker.log_path.read_text(errors="replace")


def _kill_main_process(worker: WorkerProcess) -> float:
    """SIGKILL the main process, then its pool (orphaned children would finish the batch and
    hide whether the broker gave the message back). Returns the moment of the kill."""
    os.kill(worker.process.pid, signal.SIGKILL)
    killed = time.monotonic()
    os.killpg(worker.process.pid, signal.SIGKILL)
    worker.process.wait()
    return killed


def _ready_in_queue(app: Any, queue: str) -> int:
    with app.connection_for_read() as conn:
        channel = conn.channel()
        try:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        finally:
            channel.close()


@BROKERS
def test_a_killed_main_process_gives_its_message_back(
    start, active_model, env: dict[str, str]
) -> None:
    rabbitmq = env["BROKER_URL"].startswith("amqp")
    trial = {"BULKGUARD_REDIS_VISIBILITY_TIMEOUT_SECONDS": str(TRIAL_VISIBILITY_TIMEOUT)}
    first = start({"scoring": 1}, extra_env=trial)
    (worker,) = first.processes
    # Big enough that the batch is still being scored when the kill comes.
    records = [r for r in simulate(3000, seed=41) if r["stage"] == "messaging"]
    task_id = first.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "messaging", "accounts": records}
    ).id
    deadline = time.monotonic() + 30
    while not _received(worker, task_id):
        assert time.monotonic() < deadline, first.logs()
        time.sleep(0.02)
    killed = _kill_main_process(worker)

    if rabbitmq:
        # Back in the queue at once, before any worker is running again.
        while _ready_in_queue(first.app, "scoring") == 0:
            assert time.monotonic() - killed < 5, "RabbitMQ kept the dead consumer's message"
            time.sleep(0.02)
        returned = time.monotonic() - killed
        print(f"\nrabbitmq: the message was back in its queue {returned:.2f}s after the kill")
        assert returned < 2
    else:
        # Invisible: neither queued nor handed out, only in the unacknowledged table.
        broker = redis.Redis.from_url(env["BROKER_URL"])
        assert broker.llen("scoring") == 0
        assert broker.hlen("unacked") == 1
        broker.close()

    second = start({"scoring": 1}, extra_env=trial)
    (restarted,) = second.processes
    second.wait_for(
        lambda: _received(restarted, task_id),
        timeout=TRIAL_VISIBILITY_TIMEOUT + 60,
        what="the redelivery",
    )
    redelivered = time.monotonic() - killed
    print(f"\n{'rabbitmq' if rabbitmq else 'redis'}: redelivered {redelivered:.2f}s after the kill")
    if not rabbitmq:
        # Not before the visibility timeout, and within a sweep of it (or of a worker's start).
        assert TRIAL_VISIBILITY_TIMEOUT <= redelivered < TRIAL_VISIBILITY_TIMEOUT + 30
    second.wait_for(
        lambda: count(AccountDecision) == len(records), timeout=90, what="every account scored"
    )
    assert count(AccountDecision) == len(records)
    assert second.alive()
