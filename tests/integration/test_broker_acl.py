"""The broker's users (infra/redis/users.acl) on a real redis-server started as compose starts it
(infra/redis/start-redis.sh): an upstream producer may append to a public queue and do nothing
else; workers, beat and Flower do their whole work with their own users; only the operators' user
sends remote control."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from redis.backoff import NoBackoff
from redis.retry import Retry

from infra.basic_auth import BasicAuth
from infra.db.models import AccountDecision, Delivery
from infra.local_redis import server_binary
from infra.settings import Settings
from tasks.messages import ScoreAccounts
from tests.integration.conftest import ALL_QUEUES
from tests.integration.test_flower import api
from tests.integration.waiting import count, wait_for
from tests.records import messaging_accounts
from workers.harness.processes import (
    start_flower,
    start_workers,
    stop_flower,
    stop_workers,
    wait_until_ready,
)
from workers.launcher import LAUNCHER_ENV

START_SCRIPT = Path(__file__).parents[2] / "infra" / "redis" / "start-redis.sh"
PASSWORDS = {
    "worker": "worker-test-secret",
    "producer": "producer-test-secret",
    "flower": "flower-test-secret",
    "control": "control-test-secret",
    "platform": "platform-test-secret",
}
PUBLIC_QUEUES = ("scoring", "evidence", "enforcement")
INTERNAL_QUEUES = ("legal", "maintenance")
# No retries: a refusal is the answer, not a transient error.
NO_RETRY = Retry(NoBackoff(), retries=0)


@dataclass(frozen=True)
class AclBroker:
    port: int
    db: int = 0

    def url(self, user: str) -> str:
        return f"redis://{user}:{PASSWORDS[user]}@127.0.0.1:{self.port}/{self.db}"

    def client(self, user: str) -> redis.Redis:
        return redis.Redis(
            port=self.port, db=self.db, username=user, password=PASSWORDS[user], retry=NO_RETRY
        )

    def refused(self, user: str) -> list[dict[str, Any]]:
        """What the ACL log holds of ``user``'s refused commands (the operators may read it)."""
        with self.client("control") as control:
            entries: list[dict[str, Any]] = control.acl_log(count=1000)
        return [e for e in entries if e["username"] == user]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def acl_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AclBroker]:
    """The server, its users on database 0, or on the number the test gives (indirect)."""
    port = _free_port()
    db: int = getattr(request, "param", 0)
    env = {
        **os.environ,
        "REDIS_BROKER_DB": str(db),
        # The script runs redis-server from PATH, as in the image.
        "PATH": f"{Path(server_binary()).parent}{os.pathsep}{os.environ['PATH']}",
        "REDIS_PASSWORD": PASSWORDS["worker"],
        **{f"REDIS_{user.upper()}_PASSWORD": pw for user, pw in PASSWORDS.items()},
    }
    argv = ["sh", str(START_SCRIPT), "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    argv += ["--acllog-max-len", "1000"]  # room for every refusal a test makes
    log_path = tmp_path / "redis.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    broker = AclBroker(port, db)
    try:
        wait_for(lambda: _answers(broker), 15, "redis-server with the broker's users")
        yield broker
    finally:
        process.terminate()
        process.wait(timeout=10)


def _answers(broker: AclBroker) -> bool:
    try:
        with broker.client("worker") as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


def _celery(broker: AclBroker, user: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``celery -A workers ...`` as an operator would run it, with ``user``'s credentials."""
    url = broker.url(user)
    return subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers", *argv],
        env={**os.environ, "REDIS_URL": url, "BROKER_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def upstream(broker: AclBroker) -> Celery:
    """An upstream service's Celery client, as docs/operating.md sets it up: it publishes by
    task name, to the task's queue, without declaring it (nor sending task-sent events, which
    Celery does not by default)."""
    return Celery("upstream", broker=broker.url("producer"), set_as_current=False)


def test_a_producer_may_only_append_to_the_public_queues(acl_broker: AclBroker) -> None:
    # Remote control: the command line and the publish beneath it are both refused.
    shutdown = _celery(acl_broker, "producer", "control", "shutdown")
    assert shutdown.returncode != 0
    assert "no permissions" in shutdown.stdout + shutdown.stderr
    with acl_broker.client("producer") as producer:
        with pytest.raises(redis.exceptions.NoPermissionError):
            producer.publish("/0.celery.pidbox", b"{}")
        for queue in PUBLIC_QUEUES:
            assert producer.lpush(queue, b"{}") >= 1
        for queue in INTERNAL_QUEUES:
            with pytest.raises(redis.exceptions.NoPermissionError):
                producer.lpush(queue, b"{}")
        refused_reads = [
            lambda: producer.lrange("scoring", 0, -1),
            lambda: producer.rpop("scoring"),
            lambda: producer.brpop(["scoring"], timeout=1),
            lambda: producer.lindex("scoring", 0),
            lambda: producer.llen("scoring"),
            lambda: producer.hgetall("unacked"),
            lambda: producer.zrange("unacked_index", 0, -1),
            lambda: producer.smembers("_kombu.binding.bulkguard"),
            lambda: producer.get("bulkguard:beat"),
        ]
        refused_writes = [
            lambda: producer.delete("scoring"),
            lambda: producer.ltrim("scoring", 1, 0),
            lambda: producer.rename("scoring", "mine"),
            lambda: producer.sadd("_kombu.binding.bulkguard", "x"),
            lambda: producer.hset("unacked", "t", "x"),
            producer.flushdb,
            producer.flushall,
            lambda: producer.keys("*"),
            lambda: producer.config_get("*"),
        ]
        for attempt in [*refused_reads, *refused_writes]:
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()
        with pytest.raises(redis.exceptions.NoPermissionError):
            producer.execute_command("PSUBSCRIBE", "/0.celeryev/*")  # events name the tasks
    with acl_broker.client("worker") as worker:
        assert [worker.llen(q) for q in PUBLIC_QUEUES] == [1, 1, 1]
        assert [worker.llen(q) for q in INTERNAL_QUEUES] == [0, 0]
    # What was refused is there for the operators to read.
    refused = {(e["reason"], e["object"]) for e in acl_broker.refused("producer")}
    assert ("command", "publish") in refused
    assert ("command", "lrange") in refused
    assert ("command", "flushall") in refused


@pytest.mark.parametrize("acl_broker", [3], indirect=True)
def test_the_users_work_on_another_database(acl_broker: AclBroker) -> None:
    # kombu names its broadcast channels after the database ("/3.celery.pidbox"), and a client
    # on a database other than 0 selects it when it connects.
    broker = acl_broker
    with broker.client("producer") as producer:
        assert producer.lpush("scoring", b"{}") == 1
        with pytest.raises(redis.exceptions.NoPermissionError):
            producer.lrange("scoring", 0, -1)
        with pytest.raises(redis.exceptions.NoPermissionError):
            producer.publish("/3.celery.pidbox", b"{}")
    with broker.client("worker") as worker:
        assert worker.llen("scoring") == 1
        assert worker.publish("/3.celeryev/task.received", b"{}") == 0
        with pytest.raises(redis.exceptions.NoPermissionError):
            worker.publish("/3.celery.pidbox", b"{}")
    with broker.client("flower") as flower:
        assert flower.llen("scoring") == 1
        listening = flower.pubsub()
        listening.psubscribe("/3.celeryev/*")
        assert listening.get_message(timeout=2) is not None  # the subscription's confirmation
        listening.close()
    with broker.client("platform") as platform:
        assert platform.xlen("bulkguard:platform-actions") == 0
    shutdown = _celery(broker, "producer", "control", "shutdown")
    assert "no permissions" in shutdown.stdout + shutdown.stderr
    sent = _celery(broker, "control", "inspect", "ping", "--timeout", "1")
    assert "No nodes replied" in sent.stdout + sent.stderr, sent.stdout + sent.stderr


def test_the_platform_reads_its_stream_and_nothing_else(acl_broker: AclBroker) -> None:
    stream = "bulkguard:platform-actions"  # the sink's default (docs/platform-delivery.md)
    with acl_broker.client("worker") as worker:
        worker.xadd(stream, {"key": "action-1", "item": "{}"})
    with acl_broker.client("platform") as platform:
        platform.xgroup_create(stream, "platform", id="0")
        ((_, entries),) = platform.xreadgroup("platform", "consumer-1", {stream: ">"}, count=10)
        assert [fields[b"key"] for _, fields in entries] == [b"action-1"]
        assert platform.xack(stream, "platform", entries[0][0]) == 1
        refused: list[Callable[[], object]] = [
            lambda: platform.xadd(stream, {"key": "forged"}),
            lambda: platform.delete(stream),
            lambda: platform.lrange("scoring", 0, -1),
            lambda: platform.lpush("enforcement", b"{}"),
            lambda: platform.get("bulkguard:beat"),
        ]
        for attempt in refused:
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()


def test_only_the_operators_send_remote_control(acl_broker: AclBroker) -> None:
    for user in ("worker", "flower", "platform"):
        refused = _celery(acl_broker, user, "control", "shutdown")
        assert refused.returncode != 0, user
        assert "no permissions" in refused.stdout + refused.stderr, user
    # No worker runs: the operators' broadcast goes out, and nobody answers.
    sent = _celery(acl_broker, "control", "inspect", "ping", "--timeout", "1")
    assert "no permissions" not in sent.stdout + sent.stderr
    assert "No nodes replied" in sent.stdout + sent.stderr
    # The operators read what bulkguard status reads, and change nothing.
    with acl_broker.client("control") as control:
        assert control.llen("scoring") == 0
        assert control.lindex("scoring", -1) is None
        changes: list[Callable[[], object]] = [
            lambda: control.brpop(["scoring"], timeout=1),
            lambda: control.lpush("scoring", b"{}"),
            lambda: control.delete("scoring"),
            lambda: control.set("bulkguard:beat", "{}"),
            lambda: control.hgetall("unacked"),
            control.flushdb,
        ]
        for attempt in changes:
            with pytest.raises(redis.exceptions.NoPermissionError):
                attempt()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_each_role_does_its_work_with_its_own_user(
    acl_broker: AclBroker, env: dict[str, str], active_model: str, tmp_path: Path
) -> None:
    worker_env = {**env, "REDIS_URL": acl_broker.url("worker"), "BROKER_URL": ""}
    control = _control_app(acl_broker)
    flower = start_flower(
        {**env, "REDIS_URL": acl_broker.url("flower"), "BROKER_URL": ""},
        BasicAuth("operator", "flower-test-secret"),
        tmp_path / "flower.log",
    )
    workers = start_workers(ALL_QUEUES, worker_env, tmp_path / "logs", "acl")
    beat = _start_beat(worker_env, tmp_path)
    try:
        wait_until_ready(control, workers)
        records = messaging_accounts(60)
        upstream(acl_broker).send_task(
            ScoreAccounts.TASK,
            kwargs={"stage": "messaging", "accounts": records},
            queue=ScoreAccounts.QUEUE,
            declare=[],
        )
        wait_for(lambda: count(AccountDecision) == len(records), 90, "the batch scored")
        # Its follow-ups went through enforcement to the platform: workers publish to every
        # queue, take from it, acknowledge, and record their effects.
        wait_for(lambda: count(Delivery) > 0, 90, "actions delivered to the platform")

        # Flower saw the tasks through events, and reads the queues' lengths.
        def names() -> set[str]:
            return {t["name"] for t in api(flower, "/api/tasks").values()}

        wait_for(lambda: ScoreAccounts.TASK in names(), 30, "the scoring task in Flower")
        lengths = {
            q["name"]: q["messages"] for q in api(flower, "/api/queues/length")["active_queues"]
        }
        assert set(lengths) >= set(ALL_QUEUES)
        # The operators' inspection reaches every worker.
        answered = control.control.inspect(timeout=2).active_queues() or {}
        assert {q["name"] for queues in answered.values() for q in queues} == set(ALL_QUEUES)
        # bulkguard status finds every queue's workers: asked by remote control as the
        # operators, from their published settings as anyone else.
        for user, found_by in (("control", "remote control"), ("worker", "published settings")):
            shown = _status(acl_broker, user, env)
            assert shown["workers_from"] == found_by
            assert all(shown["workers"][queue] for queue in ALL_QUEUES), shown["workers"]
    finally:
        stop_workers(workers, timeout=30)
        _stop(beat)
        stop_flower(flower)
        control.close()
    logs = {w.queue: w.log_path.read_text(errors="replace") for w in workers}
    logs["beat"] = (tmp_path / "beat.log").read_text(errors="replace")
    for name, text in logs.items():
        assert "no permissions" not in text, f"{name}:\n{text[-3000:]}"
    # Nothing bulkguard's own services did was refused but remote control (bulkguard status's,
    # run with their user); Flower was refused remote control alone (its inspection of the
    # workers: the publish, and the queue for the replies).
    worker_refused = {(e["reason"], e["object"]) for e in acl_broker.refused("worker")}
    assert worker_refused == {("channel", "/0.celery.pidbox")}
    flower_refused = acl_broker.refused("flower")
    assert flower_refused
    for entry in flower_refused:
        assert entry["object"] == "publish" or ".reply.celery.pidbox" in entry["object"], entry


def _status(broker: AclBroker, user: str, env: dict[str, str]) -> dict[str, Any]:
    url = broker.url(user)
    shown = subprocess.run(
        [sys.executable, "-m", "workers.cli", "status", "--json"],
        env={**os.environ, **env, "REDIS_URL": url, "BROKER_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    found: dict[str, Any] = json.loads(shown.stdout)
    return found


def _control_app(broker: AclBroker) -> Celery:
    from workers.celery_app import make_app

    url = broker.url("control")
    return make_app(Settings(REDIS_URL=url, BROKER_URL=url), current=False)


def _start_beat(env: dict[str, str], tmp_path: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "celery", "-A", "workers", "beat", "-l", "INFO"]
    with (tmp_path / "beat.log").open("ab") as log:
        return subprocess.Popen(
            [*argv, "--schedule", str(tmp_path / "beat-schedule")],
            env={**os.environ, **env, LAUNCHER_ENV: str(os.getpid())},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
