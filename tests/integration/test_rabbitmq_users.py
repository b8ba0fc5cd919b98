"""The broker's users on RabbitMQ (infra/rabbitmq/setup-users.sh), on a real RabbitMQ: a virtual
host and users of their own for each test, made by the script through rabbitmqctl and deleted
after. An upstream producer publishes to the public queues and can do nothing else; workers do
their whole work with their own user; only the operators' user sends remote control."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import amqp
import pytest
from celery import Celery
from kombu import Connection, Exchange, Queue

from infra.db.models import AccountDecision, Delivery
from infra.settings import Settings
from tasks.messages import ScoreAccounts
from tests.integration.waiting import count, wait_for
from tests.records import messaging_accounts
from workers.harness.processes import start_workers, stop_workers, wait_until_ready
from workers.queues import declared_queues

SETUP_SCRIPT = Path(__file__).parents[2] / "infra" / "rabbitmq" / "setup-users.sh"
ROLES = ("worker", "producer", "flower", "control")
PUBLIC_QUEUES = ("scoring", "evidence", "enforcement")
INTERNAL_QUEUES = ("legal", "maintenance")


@dataclass(frozen=True)
class Users:
    """A virtual host with bulkguard's users, as the setup script made them."""

    host: str
    port: int
    vhost: str
    prefix: str

    def password(self, role: str) -> str:
        return f"{role}-test-secret"

    def url(self, role: str) -> str:
        name = f"{self.prefix}{role}"
        vhost = quote(self.vhost, safe="")
        return f"amqp://{name}:{self.password(role)}@{self.host}:{self.port}/{vhost}"

    def connection(self, role: str) -> amqp.Connection:
        """A plain AMQP connection with publisher confirms, so a refused publish raises."""
        connection = amqp.Connection(
            f"{self.host}:{self.port}",
            userid=f"{self.prefix}{role}",
            password=self.password(role),
            virtual_host=self.vhost,
            confirm_publish=True,
        )
        connection.connect()
        return connection


def _rabbitmqctl(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *argv], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def users(rabbitmq_url: str) -> Iterator[Users]:
    if shutil.which("rabbitmqctl") is None:
        # A RabbitMQ that answers from elsewhere (a container) is managed there.
        pytest.skip("no rabbitmqctl on this machine to make the users with")
    tag = uuid.uuid4().hex[:8]
    address = urlsplit(rabbitmq_url)
    made = Users(
        address.hostname or "127.0.0.1", address.port or 5672, f"bulkguard-test-{tag}", f"t{tag}-"
    )
    env = {
        **os.environ,
        "RABBITMQ_VHOST": made.vhost,
        "RABBITMQ_USER_PREFIX": made.prefix,
        **{f"RABBITMQ_{role.upper()}_PASSWORD": made.password(role) for role in ROLES},
    }
    try:
        done = subprocess.run(
            ["sh", str(SETUP_SCRIPT)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield made
    finally:
        _rabbitmqctl("delete_vhost", made.vhost)
        for role in ROLES:
            _rabbitmqctl("delete_user", f"{made.prefix}{role}")


def _declare_queues(users: Users) -> None:
    """What a worker declares on start: the task queues, bound to the task exchange."""
    with Connection(users.url("worker")) as conn:
        for queue in declared_queues(rabbitmq=True):
            queue.bind(conn.default_channel).declare()


def _ready(users: Users, queue: str) -> int:
    with users.connection("worker") as connection:
        channel: Any = connection.channel()
        return int(channel.queue_declare(queue, passive=True).message_count)


def _refused(users: Users, role: str, attempt: Callable[[Any], object]) -> str:
    """The broker's refusal of ``attempt`` on a fresh channel of ``role`` (a refusal closes the
    channel it happened on)."""
    with users.connection(role) as connection:
        with pytest.raises(amqp.exceptions.AccessRefused) as refused:
            attempt(connection.channel())
        return str(refused.value)


def _celery(users: Users, role: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``celery -A workers ...`` as an operator would run it, with ``role``'s credentials."""
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers", *argv],
        env={**os.environ, "BROKER_URL": users.url(role)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def upstream(users: Users) -> Celery:
    """An upstream service's Celery client, as docs/operating.md sets it up for RabbitMQ: it
    publishes by task name to the task exchange with the queue's routing key, declaring nothing."""
    return Celery("upstream", broker=users.url("producer"), set_as_current=False)


def _message(text: bytes = b"{}") -> amqp.Message:
    return amqp.Message(text, content_type="application/json")


def test_a_producer_may_only_publish_to_the_public_queues(users: Users) -> None:
    _declare_queues(users)
    with users.connection("producer") as connection:
        channel: Any = connection.channel()
        for queue in PUBLIC_QUEUES:
            channel.basic_publish(_message(), exchange="bulkguard", routing_key=queue)
    assert [_ready(users, q) for q in PUBLIC_QUEUES] == [1, 1, 1]

    # Remote control: the command line, and the publish beneath it, are both refused.
    shutdown = _celery(users, "producer", "control", "shutdown")
    assert shutdown.returncode != 0
    assert "ACCESS_REFUSED" in shutdown.stdout + shutdown.stderr
    pidbox = _refused(
        users, "producer", lambda c: c.basic_publish(_message(), exchange="celery.pidbox")
    )
    assert "celery.pidbox" in pidbox
    refusals: list[Callable[[Any], object]] = [
        # The internal queues, by routing key (topic permissions) and through the default
        # exchange, which would reach any queue by name (a worker's control queue among them).
        lambda c: c.basic_publish(_message(), exchange="bulkguard", routing_key="legal"),
        lambda c: c.basic_publish(_message(), exchange="bulkguard", routing_key="#"),
        lambda c: c.basic_publish(_message(), exchange="", routing_key="scoring"),
        # Reading a queue, emptying it, deleting it or its exchange, declaring anything.
        lambda c: c.basic_get("scoring"),
        lambda c: c.basic_consume("scoring", callback=lambda _m: None),
        lambda c: c.queue_purge("scoring"),
        lambda c: c.queue_delete("scoring"),
        lambda c: c.exchange_delete("bulkguard"),
        lambda c: c.queue_declare("mine", auto_delete=True),
        lambda c: c.queue_bind("scoring", exchange="amq.topic", routing_key="#"),
        # Task events name the tasks: a producer may not listen to them.
        lambda c: c.queue_declare("celeryev.mine", auto_delete=True),
    ]
    for attempt in refusals:
        _refused(users, "producer", attempt)
    # Nothing was taken, emptied or added.
    assert [_ready(users, q) for q in PUBLIC_QUEUES] == [1, 1, 1]
    assert [_ready(users, q) for q in INTERNAL_QUEUES] == [0, 0]


def _control_app(users: Users, redis_url: str) -> Celery:
    from workers.celery_app import make_app

    return make_app(Settings(REDIS_URL=redis_url, BROKER_URL=users.url("control")), current=False)


def _listen_to_events(users: Users) -> Queue:
    """What Flower does with its user: a queue of its own bound to the events exchange."""
    events = Queue(
        f"celeryev.{uuid.uuid4()}",
        Exchange("celeryev", type="topic"),
        routing_key="#",
        auto_delete=True,
        durable=False,
    )
    with Connection(users.url("flower")) as conn:
        events.bind(conn.default_channel).declare()
    return events


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_role_does_its_work_with_its_own_user(
    users: Users, env: dict[str, str], active_model: str, tmp_path: Path
) -> None:
    worker_env = {**env, "BROKER_URL": users.url("worker")}
    control = _control_app(users, env["REDIS_URL"])
    workers = start_workers({"scoring": 1, "enforcement": 1}, worker_env, tmp_path / "logs", "mq")
    try:
        wait_until_ready(control, workers)
        events = _listen_to_events(users)
        # Neither a producer nor a worker nor Flower stops the workers by remote control.
        for role in ("producer", "worker", "flower"):
            shutdown = _celery(users, role, "control", "shutdown")
            assert "ACCESS_REFUSED" in shutdown.stdout + shutdown.stderr, role
        assert all(w.process.poll() is None for w in workers)

        records = messaging_accounts(60)
        upstream(users).send_task(
            ScoreAccounts.TASK,
            kwargs={"stage": "messaging", "accounts": records},
            exchange="bulkguard",
            routing_key=ScoreAccounts.QUEUE,
            declare=[],
        )
        wait_for(lambda: count(AccountDecision) == len(records), 90, "the batch scored")
        # Its follow-ups went through enforcement to the platform: workers publish to the task
        # exchange, take from their queues, acknowledge, and record their effects.
        wait_for(lambda: count(Delivery) > 0, 90, "actions delivered to the platform")
        # Flower's user heard the workers' task events.
        with Connection(users.url("flower")) as conn:
            heard = events.bind(conn.default_channel).get(no_ack=True)
        assert heard is not None
        # The operators' inspection reaches every worker.
        answered = control.control.inspect(timeout=2).active_queues() or {}
        assert {q["name"] for queues in answered.values() for q in queues} == {
            "scoring",
            "enforcement",
        }
        assert all(w.process.poll() is None for w in workers)
    finally:
        stop_workers(workers, timeout=30)
        control.close()
    for w in workers:
        text = w.log_path.read_text(errors="replace")
        assert "ACCESS_REFUSED" not in text, f"{w.queue}:\n{text[-3000:]}"
