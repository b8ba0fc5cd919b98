"""Bad input is refused with a readable reason, kept as a dead letter, and stops nothing."""

from __future__ import annotations

import random
from typing import Any

import pytest
import redis
from kombu import Connection
from sqlalchemy import select

from infra import dead_letters
from infra.db.models import AccountDecision, DeadLetter
from infra.db.session import session_scope
from tasks.offline.simulate_accounts import simulate
from tests.integration.waiting import count
from workers.harness.chaos import poison
from workers.harness.chaos.plain_client import publish_raw, task_headers
from workers.harness.chaos.poison import POISON, fuzz_messages, raw_messages
from workers.harness.processes import stop_workers


def _dead_letters() -> list[DeadLetter]:
    with session_scope() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def test_pickle_is_refused_and_kept(start, active_model):
    workers = start({"scoring": 1})
    records = [r for r in simulate(40, seed=2) if r["stage"] == "registration"]
    workers.app.send_task(
        "scoring.score_accounts",
        kwargs={"stage": "registration", "accounts": records},
        serializer="pickle",
    )
    workers.wait_for(lambda: count(DeadLetter) == 1, what="the pickle message to be dead-lettered")
    (letter,) = _dead_letters()
    assert letter.task_name == "scoring.score_accounts"
    assert "pickle" in letter.reason
    assert "refused" in letter.reason
    assert count(AccountDecision) == 0  # its content was never deserialized, let alone scored
    # The same records sent as JSON are scored by the same, still running, worker.
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": records}
    )
    workers.wait_for(
        lambda: count(AccountDecision) == len(records), what="the JSON batch to be scored"
    )
    assert workers.alive()


def test_malformed_messages_are_dead_lettered_and_the_rest_is_scored(start, active_model):
    workers = start({"scoring": 1})
    app = workers.app
    good = [r for r in simulate(60, seed=4) if r["stage"] == "registration"][:10]
    bad_records = [
        {
            **good[0],
            "account_id": "bad-nan",
            "registration": {**good[0]["registration"], "ip_country": "sk"},
        },
        {**good[1], "account_id": "bad-type", "phone": 421900000000},
        {"account_id": "bad-missing"},
    ]
    # 1. not JSON at all, 2. JSON without Celery headers, 3. an unknown task name,
    # 4. the wrong schema (unknown stage), 5. positional arguments, 6. a batch where three
    # records are bad and the others good.
    publish_raw(app, b"{this is not json", task_headers("scoring.score_accounts"))
    publish_raw(app, b'{"hello": "world"}', None)
    app.send_task("scoring.no_such_task", kwargs={}, queue="scoring")
    app.send_task("scoring.score_accounts", kwargs={"stage": "signup", "accounts": good})
    app.send_task("scoring.score_accounts", args=["registration", good])
    app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": good + bad_records}
    )

    workers.wait_for(
        lambda: count(AccountDecision) == len(good), what="the good records to be scored"
    )
    workers.wait_for(lambda: count(DeadLetter) == 8, what="eight dead letters")
    reasons = [d.reason for d in _dead_letters()]
    joined = "\n".join(reasons)
    assert "undecodable" in joined
    assert "not a task message" in joined
    assert "unknown task name 'scoring.no_such_task'" in joined
    assert "stage: Input should be 'registration', 'messaging' or 'feedback'" in joined
    assert "keyword arguments only" in joined
    by_account = {d.account_id: d for d in _dead_letters() if d.account_id}
    assert "registration.ip_country" in by_account["bad-nan"].reason
    assert "phone" in by_account["bad-type"].reason
    # The first missing field is named ("phone: Field required"; registration is missing too).
    assert by_account["bad-missing"].reason == "phone: Field required"
    assert by_account["bad-missing"].record_index == len(good) + 2
    assert workers.alive()


def _interrupt(workers: Any, stage: str, accounts: list[Any], soft_limit: float) -> None:
    """Send ``accounts`` as one batch under ``soft_limit`` and check it is kept whole: one dead
    letter naming the limit and holding the batch, no score, the worker alive."""
    workers.app.send_task(
        "scoring.score_accounts",
        kwargs={"stage": stage, "accounts": accounts},
        soft_time_limit=soft_limit,
        time_limit=30,
    )
    workers.wait_for(lambda: count(DeadLetter) == 1, what="the interrupted batch's dead letter")
    (letter,) = _dead_letters()
    assert letter.task_name == "scoring.score_accounts"
    assert "SoftTimeLimitExceeded" in letter.reason
    assert accounts[0]["account_id"] in letter.payload
    assert count(AccountDecision) == 0  # its transaction was rolled back whole
    assert workers.alive()


# Solo workers (production's scoring) enforce the limit with their own timer
# (workers.solo_limits); prefork workers through Celery's pool.
@pytest.mark.parametrize("pool", ["solo", "prefork"])
def test_a_batch_over_its_time_limit_is_kept_and_the_worker_goes_on(start, active_model, pool):
    workers = start({"scoring": 1}, pools={"scoring": pool})
    # The limit must land inside the task's body, after Celery has handed the batch to it:
    # registration records are the smallest to deliver and the slowest to score (each writes
    # neighbourhood counters), so 10,000 of them take about a second in the body and a tenth of
    # that to arrive, on the reference machine.
    big = [r for r in simulate(20000, seed=6, stages="all") if r["stage"] == "registration"]
    big = big[:10000]
    assert len(big) == 10000
    _interrupt(workers, "registration", big, soft_limit=0.5)
    small = [r for r in simulate(60, seed=7) if r["stage"] == "registration"]
    workers.app.send_task(
        "scoring.score_accounts", kwargs={"stage": "registration", "accounts": small}
    )
    workers.wait_for(
        lambda: count(AccountDecision) == len(small), what="the next batch to be scored"
    )
    assert workers.alive()


def test_a_limit_that_lands_before_the_task_runs_still_keeps_the_batch(start, active_model):
    # A millisecond is over while Celery still hands the 6.7 MB batch to the pool process:
    # the limit fires in Celery's own code, which fails and acknowledges the message without
    # bulkguard's handler; the worker's main process keeps it. (Should the limit land in the
    # body after all, the body keeps it: one dead letter either way.)
    workers = start({"scoring": 1})
    big = [r for r in simulate(30000, seed=6) if r["stage"] == "messaging"][:10000]
    _interrupt(workers, "messaging", big, soft_limit=0.001)


def test_a_hard_time_limit_is_kept_by_the_parent(env):
    # A hard limit kills the child; Celery reports the failure to the task's on_failure in the
    # prefork parent, which keeps the input through the connection-less store.
    from billiard.einfo import ExceptionInfo
    from celery.exceptions import TimeLimitExceeded

    from workers.celery_app import app

    task = app.tasks["scoring.score_accounts"]
    kwargs = {"stage": "messaging", "accounts": [{"account_id": "slow-1"}]}
    try:
        raise TimeLimitExceeded(150)
    except TimeLimitExceeded as exc:
        einfo = ExceptionInfo()
        task.on_failure(exc, "task-123", (), kwargs, einfo)
        task.on_failure(exc, "task-123", (), kwargs, einfo)  # redelivered: stored once
    (letter,) = _dead_letters()
    assert letter.task_id == "task-123"
    assert "hard time limit exceeded" in letter.reason
    assert "slow-1" in letter.payload


def _left_in_queue(broker_url: str, queue: str) -> int:
    """Messages still on ``queue``: waiting, or (Redis) taken and not acknowledged."""
    if broker_url.startswith("redis"):
        client = redis.Redis.from_url(broker_url)
        return int(client.llen(queue)) + int(client.hlen("unacked"))
    with Connection(broker_url) as conn:
        channel: Any = conn.channel()  # kombu's stubs leave AMQP's methods off its type
        try:
            return int(channel.queue_declare(queue=queue, passive=True).message_count)
        finally:
            channel.close()


@pytest.mark.parametrize("broker_url", ["redis", "rabbitmq"], indirect=True)
def test_poison_envelopes_are_kept_and_the_worker_goes_on(start, env):
    """Every crafted item (and, on RabbitMQ, a fuzz of random bytes under random headers) is
    one dead letter naming its queue and what is wrong, acknowledged once; the worker that took
    them, the same process, then runs a real task."""
    broker_url = env["BROKER_URL"]
    workers = start({"legal": 1})
    pids = [w.process.pid for w in workers.processes]
    if broker_url.startswith("redis"):
        client = redis.Redis.from_url(broker_url)
        for raw, _ in POISON:
            client.lpush("legal", raw)
        place = "undeliverable envelope on queue 'legal': "
        whys = [why for _, why in POISON]
    else:
        table = raw_messages()
        fuzz = fuzz_messages(40, random.Random(30))
        poison.publish_raw(broker_url, table + fuzz, "legal")
        place = "on queue 'legal': "
        whys = [m.why for m in table] + [""] * len(fuzz)
    workers.wait_for(
        lambda: count(DeadLetter) >= len(whys), what="one dead letter per item", timeout=90
    )
    for why, letter in zip(whys, _dead_letters(), strict=True):
        assert place in letter.reason, letter.reason
        assert why in letter.reason, (why, letter.reason)
        assert len(letter.payload) <= dead_letters.MAX_PAYLOAD_CHARS + 40
    # The same worker, still running, takes the next real task.
    assert workers.alive()
    assert [w.process.pid for w in workers.processes] == pids
    task_id = workers.app.send_task("legal.escalate", kwargs={}).id
    workers.wait_for(
        lambda: f"[{task_id}] succeeded" in workers.logs(), what="the real task to run"
    )
    assert workers.alive()
    assert [w.process.pid for w in workers.processes] == pids
    # Acknowledged, once: nothing waits or is held, nothing comes back when the worker stops
    # (RabbitMQ would return a message held unacknowledged), and no second acknowledgement
    # cost the worker its channel.
    assert _left_in_queue(broker_url, "legal") == 0
    stop_workers(workers.processes, timeout=30)
    assert _left_in_queue(broker_url, "legal") == 0
    assert count(DeadLetter) == len(whys)
    assert "Connection to broker lost" not in workers.logs()
