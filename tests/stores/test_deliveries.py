"""Deliveries on SQLite and PostgreSQL: recorded before they leave, confirmed after, and sent
again by the sweep only while pending, always under the same idempotency key; refused or out of
attempts, kept as failed with a dead letter until an operator sends them again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner
from sqlalchemy import select

from infra import deliveries
from infra.db.models import DeadLetter, Delivery
from infra.db.session import session_scope
from infra.settings import get_settings
from infra.sink_contract import DeliveryRefusedError
from infra.sinks import JsonlSink
from workers.cli.deliveries import deliveries as deliveries_cli

KIND = "platform_action"
ITEMS = {n: {"idempotency_key": f"action-{n}", "account_id": f"acc-{n}"} for n in (1, 2, 3)}


class DownSink:
    """A receiver that refuses every delivery."""

    def __str__(self) -> str:
        return "down"

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        raise ConnectionError(f"receiver unreachable; {len(items)} item(s) not taken")


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

    sink = JsonlSink(tmp_path / "actions.jsonl")
    assert sweep(sink) == 0  # failed rows wait for an operator
    with session_scope() as session:
        assert deliveries.counts(session) == {(KIND, "failed"): 3}
        first = rows()[0].id
        assert deliveries.retry_failed(session, kinds=["legal_notice"]) == []
        assert deliveries.retry_failed(session, ids=[first]) == [first]
    assert deliveries.resend(sink, [first], max_attempts=2) == 1
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


def test_the_cli_lists_failures_masked_and_retries_them(env: dict[str, str]) -> None:
    record(DownSink())
    send(PickySink("action-1", "action-2", "action-3"))
    listed = CliRunner().invoke(deliveries_cli, ["list"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0] == f"{KIND}\tfailed\t3"
    assert "ops@platform.example" not in listed.stdout
    assert listed.stdout.count("refused: unknown account for ") == 3

    retried = CliRunner().invoke(deliveries_cli, ["retry", "--id", str(rows()[0].id)])
    assert retried.exit_code == 0, retried.output
    assert "retried 1; sent 1" in retried.stderr
    retried = CliRunner().invoke(deliveries_cli, ["retry", "--kind", KIND])
    assert "retried 2; sent 2" in retried.stderr
    assert sorted(lines(JsonlSink(get_settings().platform_sink_path))) == [
        "action-1",
        "action-2",
        "action-3",
    ]
    assert {r.status for r in rows()} == {"delivered"}
