"""Deliveries on SQLite and PostgreSQL: recorded before they leave, confirmed after, and sent
again by the sweep only while pending, always under the same idempotency key; refused or out of
attempts, kept as failed with a dead letter until an operator sends them again."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import redis
from click.testing import CliRunner
from sqlalchemy import select

from infra import deliveries, users
from infra.db.models import AuditEvent, DeadLetter, Delivery, OutboxMessage
from infra.db.session import session_scope
from infra.settings import Settings, get_settings
from infra.sink_contract import DeliveryRefusedError
from infra.sinks import JsonlSink, platform_sink
from infra.users import Actor
from tasks import outbox
from tasks.enforcement.deliver import retry_deliveries
from tasks.messages import RetryDeliveries
from tests.people import cli_env
from workers.celery_app import app
from workers.cli.deliveries import deliveries as deliveries_cli

KIND = "platform_action"
ITEMS = {n: {"idempotency_key": f"action-{n}", "account_id": f"acc-{n}"} for n in (1, 2, 3)}

ONCALL = Actor.system("oncall")


class DownSink:
    """A receiver that refuses every delivery."""

    def __str__(self) -> str:
        return "down"

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        raise ConnectionError(f"receiver unreachable; {len(items)} item(s) not taken")


class BackUpSink(JsonlSink):
    """The receiver that was down, back up: the same name, the items written to a file."""

    def __str__(self) -> str:
        return "down"


class PickySink:
    """A receiver that refuses for good every batch holding one of the ``refused`` keys, and
    takes the others."""

    def __init__(self, *refused: str) -> None:
        self.refused = set(refused)
        self.batches: list[list[str]] = []

    def __str__(self) -> str:
        return "picky"

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        keys = [item["idempotency_key"] for item in items]
        self.batches.append(keys)
        if self.refused & set(keys):
            raise DeliveryRefusedError(f"unknown account for ops@platform.example: {keys}")


def lines(sink: JsonlSink) -> list[str]:
    if not sink.path.exists():
        return []
    return [orjson.loads(line)["idempotency_key"] for line in sink.path.read_bytes().splitlines()]


def rows() -> list[Delivery]:
    with session_scope() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.ref_id)))


def record(sink: Any) -> list[int]:
    with session_scope() as session:
        return deliveries.record(session, sink, KIND, ITEMS)


def sweep(sink: Any, retry_after: dt.timedelta = dt.timedelta(0), max_attempts: int = 8) -> int:
    with session_scope() as session:
        return deliveries.sweep(
            session, sink, [KIND], retry_after=retry_after, max_attempts=max_attempts
        )


def send(sink: Any, ref_ids: Sequence[int] = (1, 2, 3), max_attempts: int = 8) -> int:
    return deliveries.send(sink, KIND, ref_ids, max_attempts=max_attempts)


def test_recorded_items_are_sent_once_and_confirmed(env: dict[str, str], tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "actions.jsonl")
    assert record(sink) == [1, 2, 3]
    assert record(sink) == []  # a redelivered stage records nothing twice
    assert lines(sink) == []  # nothing leaves before the record commits

    assert send(sink) == 3
    assert send(sink) == 0
    assert sweep(sink) == 0
    assert sorted(lines(sink)) == ["action-1", "action-2", "action-3"]
    assert all(r.delivered_at is not None and r.attempts == 1 for r in rows())
    assert {r.status for r in rows()} == {"delivered"}


def test_a_receiver_that_fails_is_tried_again_by_the_sweep(
    env: dict[str, str], tmp_path: Path
) -> None:
    record(DownSink())
    assert send(DownSink()) == 0  # logged, not raised
    assert [(r.attempts, r.delivered_at, r.status) for r in rows()] == [(1, None, "pending")] * 3
    assert {r.last_error for r in rows()} == {
        "ConnectionError: receiver unreachable; 3 item(s) not taken"
    }
    # Not yet due: the second attempt waits twice the retry interval after the first.
    sink = JsonlSink(tmp_path / "actions.jsonl")
    assert sweep(sink, retry_after=dt.timedelta(minutes=1)) == 0
    assert sweep(sink) == 3
    assert sorted(lines(sink)) == ["action-1", "action-2", "action-3"]
    assert [r.attempts for r in rows()] == [2, 2, 2]
    assert sweep(sink) == 0


def test_a_write_never_confirmed_is_sent_again_under_its_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    # The one window left: the process dies after the receiver took the items and before the
    # confirmation committed. The sweep sends them again, with the keys the receiver already has.
    sink = JsonlSink(tmp_path / "actions.jsonl")
    record(sink)
    sink.deliver([ITEMS[1]])  # written, then the process died
    assert sweep(sink) == 3
    assert sorted(lines(sink)) == ["action-1", "action-1", "action-2", "action-3"]
    assert all(r.delivered_at is not None for r in rows())


def dead_letters() -> list[DeadLetter]:
    with session_scope() as session:
        return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))


def test_out_of_attempts_a_delivery_fails_until_an_operator_sends_it_again(
    env: dict[str, str], tmp_path: Path
) -> None:
    record(DownSink())
    assert send(DownSink(), max_attempts=2) == 0
    assert sweep(DownSink(), max_attempts=2) == 0
    assert [(r.status, r.attempts) for r in rows()] == [("failed", 2)] * 3
    letters = dead_letters()
    assert [(d.task_name, d.account_id) for d in letters] == [
        ("delivery.platform_action", f"acc-{n}") for n in (1, 2, 3)
    ]
    assert all("not taken in 2 attempts" in d.reason and "down" in d.reason for d in letters)
    assert all(d.body is None for d in letters)  # sent again by `deliveries retry`, not replay
    assert orjson.loads(letters[0].payload) == ITEMS[1]

    sink = BackUpSink(tmp_path / "actions.jsonl")
    assert sweep(sink) == 0  # failed rows wait for an operator
    with session_scope() as session:
        assert deliveries.counts(session) == {(KIND, "failed"): 3}
        first = rows()[0].id
        assert deliveries.request_retry(session, actor=ONCALL, kinds=["legal_notice"]) == []
        assert deliveries.request_retry(session, actor=ONCALL, ids=[first]) == [first]
    assert sweep(sink) == 0  # asked for: a worker takes it, not the sweep
    with session_scope() as session:
        taken = deliveries.take_retries(session, [first], sink, actor=ONCALL)
    assert taken == deliveries.Taken([first], refused=0)
    assert deliveries.resend(sink, taken.ids, max_attempts=2) == 1
    assert lines(sink) == ["action-1"]
    with session_scope() as session:
        assert deliveries.counts(session) == {(KIND, "delivered"): 1, (KIND, "failed"): 2}
    assert [(r.status, r.attempts) for r in rows()] == [
        ("delivered", 1),
        ("failed", 2),
        ("failed", 2),
    ]


def test_a_refused_item_fails_alone_and_the_rest_of_its_batch_is_taken(
    env: dict[str, str],
) -> None:
    sink = PickySink("action-2")
    record(sink)
    assert send(sink) == 2
    assert sink.batches[0] == ["action-1", "action-2", "action-3"]
    assert [(r.ref_id, r.status, r.attempts) for r in rows()] == [
        (1, "delivered", 1),
        (2, "failed", 1),
        (3, "delivered", 1),
    ]
    (letter,) = dead_letters()
    assert letter.account_id == "acc-2"
    assert letter.reason.startswith("refused: unknown account")
    assert sweep(sink) == 0


def test_the_sweep_sends_each_kind_and_stops_at_a_receiver_that_fails(
    env: dict[str, str], tmp_path: Path
) -> None:
    with session_scope() as session:
        deliveries.record(session, DownSink(), "platform_lift", {9: {"idempotency_key": "lift-9"}})
    record(DownSink())
    # The first batch is not taken: the other kind is not tried in the same sweep.
    assert sweep(DownSink()) == 0
    assert sorted((r.kind, r.attempts) for r in rows()) == [
        ("platform_action", 1),
        ("platform_action", 1),
        ("platform_action", 1),
        ("platform_lift", 0),
    ]
    sink = JsonlSink(tmp_path / "actions.jsonl")
    with session_scope() as session:
        sent = deliveries.sweep(
            session,
            sink,
            ["platform_action", "platform_lift"],
            retry_after=dt.timedelta(0),
            max_attempts=8,
        )
    assert sent == 4
    assert sorted(lines(sink)) == ["action-1", "action-2", "action-3", "lift-9"]


def queued(env: dict[str, str]) -> list[tuple[RetryDeliveries, str]]:
    """The retries on the enforcement queue, oldest first, taken off it as a worker takes them:
    each message with the outbox row it completes."""
    broker = redis.Redis.from_url(env["REDIS_URL"])
    taken = []
    for raw in reversed(broker.lrange("enforcement", 0, -1)):
        envelope = json.loads(raw)
        assert envelope["headers"]["task"] == RetryDeliveries.TASK
        kwargs = json.loads(envelope["body"])[1]
        taken.append((RetryDeliveries.model_validate(kwargs), envelope["headers"][outbox.HEADER]))
    broker.delete("enforcement")
    return taken


def work(message: RetryDeliveries, completes: str, sink: Any) -> dict[str, Any]:
    """An enforcement worker configured with ``sink`` runs the retry, as its task shell does."""
    committed = outbox.commit(
        app,
        lambda session: retry_deliveries(session, message, sink=lambda: sink, max_attempts=8),
        task_name=RetryDeliveries.TASK,
        task_id=None,
        completes=completes,
    )
    return committed.outcome.summary


def audited() -> list[tuple[int, str, str]]:
    with session_scope() as session:
        return [
            (e.entity_id, e.event, e.actor)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.entity == "delivery").order_by(AuditEvent.id)
            )
        ]


def test_the_cli_lists_failures_masked_and_has_the_workers_retry_them(
    env: dict[str, str], tmp_path: Path
) -> None:
    record(DownSink())
    send(PickySink("action-1", "action-2", "action-3"))
    listed = CliRunner().invoke(deliveries_cli, ["list"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0] == f"{KIND}\tfailed\t3"
    assert "ops@platform.example" not in listed.stdout
    assert listed.stdout.count("refused: unknown account for ") == 3
    first = rows()[0].id

    # The operator's shell has a sink of its own (the default JSONL file): it plays no part.
    as_oncall = cli_env("oncall", "admin")
    retried = CliRunner().invoke(
        deliveries_cli, ["retry", "--id", str(first), "--as", "oncall"], env=as_oncall
    )
    assert retried.exit_code == 0, retried.output
    assert f"retry of 1 deliveries ({first}) requested by oncall" in retried.stderr
    assert not get_settings().platform_sink_path.exists()
    assert [(r.status, r.sink, r.attempts) for r in rows()] == [
        ("retry_requested", "picky", 0),
        ("failed", "picky", 1),
        ("failed", "picky", 1),
    ]
    assert audited() == [(first, "retry_requested", "oncall")]
    ((message, completes),) = queued(env)
    with session_scope() as session:
        oncall = users.get(session, "oncall").id
    assert message == RetryDeliveries(
        delivery_ids=[first], requested_by="oncall", requested_by_id=oncall
    )

    # A worker whose sink is another receiver does not send it there: the row fails again,
    # saying why, and keeps the sink it failed on.
    elsewhere = JsonlSink(tmp_path / "elsewhere.jsonl")
    assert work(message, completes, elsewhere) == {"taken": 0, "refused": 1}
    assert lines(elsewhere) == []
    refused = rows()[0]
    assert (refused.status, refused.sink) == ("failed", "picky")
    assert refused.last_error == (
        f"retry refused: this worker sends to {elsewhere}, not to picky, where the delivery "
        "failed; it is sent again only there, so retry it once the enforcement workers send "
        "to picky"
    )
    assert dead_letters()[-1].reason.startswith(refused.last_error)
    assert audited()[-1] == (first, "retry_refused", "oncall")
    with session_scope() as session:
        outbox_row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == completes)
        ).one()
        assert outbox_row.completed_at is not None  # the refusal is the message's effect

    # Asked again, the workers of the receiver it failed on send all three, under their keys.
    retried = CliRunner().invoke(
        deliveries_cli, ["retry", "--kind", KIND, "--as", "oncall"], env=as_oncall
    )
    assert retried.exit_code == 0, retried.output
    assert "retry of 3 deliveries" in retried.stderr
    ((message, completes),) = queued(env)
    platform = PickySink()
    assert work(message, completes, platform) == {"taken": 3, "refused": 0}
    assert platform.batches == [["action-1", "action-2", "action-3"]]
    assert [(r.status, r.sink, r.attempts) for r in rows()] == [("delivered", "picky", 1)] * 3
    assert [e for _, e, _ in audited()][-3:] == ["retry_taken"] * 3
    # The same message again (a redelivery) sends nothing twice.
    assert work(message, completes, platform) == {"taken": 0, "refused": 0}
    assert len(platform.batches) == 1
    assert not get_settings().platform_sink_path.exists()


def test_a_retry_is_an_admins_and_of_a_platform_kind(env: dict[str, str]) -> None:
    record(DownSink())
    send(PickySink("action-1"))
    unnamed = CliRunner().invoke(deliveries_cli, ["retry", "--id", str(rows()[0].id)])
    assert unnamed.exit_code == 2
    assert "--as" in unnamed.output
    reviewer = CliRunner().invoke(
        deliveries_cli, ["retry", "--as", "agent-7"], env=cli_env("agent-7", "reviewer")
    )
    assert reviewer.exit_code == 1
    assert "does not hold the admin role" in reviewer.output
    as_oncall = cli_env("oncall", "admin")
    other = CliRunner().invoke(
        deliveries_cli, ["retry", "--kind", "legal_notice", "--as", "oncall"], env=as_oncall
    )
    assert other.exit_code == 1
    assert "only platform_action and platform_lift deliveries are sent again" in other.output
    assert rows()[0].status == "failed"  # refused: nothing changed, nothing queued
    assert audited() == []
    assert queued(env) == []
    nothing = CliRunner().invoke(
        deliveries_cli, ["retry", "--id", "999", "--as", "oncall"], env=as_oncall
    )
    assert nothing.exit_code == 0, nothing.output
    assert "nothing to retry" in nothing.stderr


def test_a_worker_without_a_usable_sink_refuses_the_retry_saying_why(
    env: dict[str, str], tmp_path: Path
) -> None:
    record(DownSink())
    send(PickySink("action-1"))
    with session_scope() as session:
        (first,) = deliveries.request_retry(session, actor=ONCALL, kinds=[KIND])
    unsigned = Settings(data_dir=tmp_path, platform_sink="https://platform.example/bulkguard")
    with session_scope() as session:
        outcome = retry_deliveries(
            session,
            RetryDeliveries(delivery_ids=[first], requested_by="oncall"),
            sink=lambda: platform_sink(unsigned),
            max_attempts=8,
        )
    assert outcome.summary == {"taken": 0, "refused": 1}
    assert outcome.after_commit == []
    row = rows()[0]
    assert (row.status, row.sink) == ("failed", "picky")
    assert (row.last_error or "").startswith(
        "retry refused: this worker has no usable sink (BULKGUARD_PLATFORM_SINK is a webhook URL, "
        "but BULKGUARD_PLATFORM_WEBHOOK_SECRET is not set"
    )
    assert (row.last_error or "").endswith("once the enforcement workers send to picky")
