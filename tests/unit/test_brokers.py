"""Each broker's configuration: Redis with a visibility timeout sized to the longest task,
RabbitMQ with quorum queues, publisher confirms and native delayed delivery."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery

from infra.settings import Settings
from tasks.pipeline import BACKOFF_CAP_SECONDS
from workers.celery_app import BulkguardCelery, app
from workers.config import (
    LONGEST_HARD_LIMIT_SECONDS,
    RESTORE_SWEEP_SECONDS,
    VISIBILITY_TIMEOUT_SECONDS,
    celery_config,
    is_rabbitmq,
)
from workers.queues import QUEUES

REDIS = "redis://127.0.0.1:6379/0"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"
REDIS_ONLY_OPTIONS = {"visibility_timeout", "body_encoding", "queue_order_strategy"}


def settings(**values: Any) -> Settings:
    return Settings(**{"REDIS_URL": REDIS, **values})


def test_the_visibility_timeout_outlasts_every_task_and_its_retry_countdown() -> None:
    # A retried message waits unacknowledged for its countdown, then for a busy pool process to
    # finish (a hard limit), then runs (a hard limit); Redis must not hand it out meanwhile.
    limits = {
        name: task.time_limit or 0
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }
    assert limits
    assert all(limits.values())
    assert max(limits.values()) <= LONGEST_HARD_LIMIT_SECONDS, limits
    assert BACKOFF_CAP_SECONDS + 2 * LONGEST_HARD_LIMIT_SECONDS < VISIBILITY_TIMEOUT_SECONDS
    # ...and it is minutes, not an hour: a killed worker's message is invisible this long.
    assert VISIBILITY_TIMEOUT_SECONDS <= 600


def test_redis_is_the_default_broker_with_the_derived_visibility_timeout() -> None:
    conf = celery_config(settings())
    assert conf["broker_url"] == REDIS
    options = conf["broker_transport_options"]
    assert options["visibility_timeout"] == VISIBILITY_TIMEOUT_SECONDS
    assert set(options) >= REDIS_ONLY_OPTIONS
    # Expired messages are looked for every sweep, not every tenth (kombu's default).
    assert options["unacked_restore_interval"] == RESTORE_SWEEP_SECONDS
    assert options["unacked_restore_throttle"] == 1
    assert all(q.exchange.type == "direct" and not q.queue_arguments for q in conf["task_queues"])
    assert app.conf.broker_transport_options["visibility_timeout"] == VISIBILITY_TIMEOUT_SECONDS


def test_a_trial_visibility_timeout_sweeps_faster() -> None:
    conf = celery_config(settings(redis_visibility_timeout_seconds=4))
    options = conf["broker_transport_options"]
    assert options["visibility_timeout"] == 4
    assert options["unacked_restore_interval"] == 1


def test_broker_url_chooses_rabbitmq_with_quorum_queues_and_confirms() -> None:
    conf = celery_config(settings(BROKER_URL=RABBITMQ))
    assert conf["broker_url"] == RABBITMQ
    options = conf["broker_transport_options"]
    assert options == {"confirm_publish": True}
    assert not REDIS_ONLY_OPTIONS & set(options)
    queues = conf["task_queues"]
    assert {q.name for q in queues} == set(QUEUES)
    for queue in queues:
        assert queue.queue_arguments == {"x-queue-type": "quorum"}
        assert queue.durable
        assert not queue.auto_delete
        assert not queue.exclusive
        # Native delayed delivery (retry countdowns) binds through a topic exchange only.
        assert queue.exchange.type == "topic"
        assert queue.routing_key == queue.name
    assert conf["task_default_delivery_mode"] == "persistent"
    assert conf["worker_detect_quorum_queues"] is True
    assert conf["task_acks_late"] is True


@pytest.mark.parametrize("url", ["pyamqp://guest@localhost//", "amqps://h:5671//"])
def test_every_amqp_scheme_is_rabbitmq(url: str) -> None:
    assert is_rabbitmq(url)


def test_an_empty_broker_url_means_redis_and_other_brokers_are_refused() -> None:
    assert settings(BROKER_URL="").resolved_broker_url == REDIS
    assert not is_rabbitmq("rediss://:secret@redis:6380/0")
    with pytest.raises(ValueError, match="unsupported broker"):
        is_rabbitmq("sqs://")


def test_countdowns_are_whole_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Celery refuses a countdown under a second on quorum queues (it truncates it to 0).
    sent: list[dict[str, Any]] = []

    def capture(self: Celery, name: str, *args: Any, **options: Any) -> None:
        sent.append(options)

    monkeypatch.setattr(Celery, "send_task", capture)
    made = BulkguardCelery("t", set_as_current=False)
    made.send_task("maintenance.sweep_outbox", countdown=0.4)
    made.send_task("maintenance.sweep_outbox", countdown=2.0)
    made.send_task("maintenance.sweep_outbox")
    assert [options.get("countdown") for options in sent] == [1, 2, None]
