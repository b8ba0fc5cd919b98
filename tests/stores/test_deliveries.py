"""Deliveries on SQLite and PostgreSQL: recorded before they leave, confirmed after, and sent
again by the sweep only while unconfirmed, always under the same idempotency key."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from infra import deliveries
from infra.db.models import Delivery
from infra.db.session import session_scope
from infra.sinks import JsonlSink

KIND = "platform_action"
ITEMS = {n: {"idempotency_key": f"action-{n}", "account_id": f"acc-{n}"} for n in (1, 2, 3)}


class DownSink:
    """A receiver that refuses every delivery."""

    def __str__(self) -> str:
        return "down"

    def deliver(self, items: Sequence[dict[str, Any]]) -> None:
        raise ConnectionError(f"receiver unreachable; {len(items)} item(s) not taken")


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


def sweep(sink: Any, retry_after: dt.timedelta = dt.timedelta(0)) -> int:
    with session_scope() as session:
        return deliveries.sweep(session, sink, KIND, retry_after=retry_after)


def test_recorded_items_are_sent_once_and_confirmed(env: dict[str, str], tmp_path: Path) -> None:
    sink = JsonlSink(tmp_path / "actions.jsonl")
    assert record(sink) == [1, 2, 3]
    assert record(sink) == []  # a redelivered stage records nothing twice
    assert lines(sink) == []  # nothing leaves before the record commits

    assert deliveries.send(sink, KIND, [1, 2, 3]) == 3
    assert deliveries.send(sink, KIND, [1, 2, 3]) == 0
    assert sweep(sink) == 0
    assert sorted(lines(sink)) == ["action-1", "action-2", "action-3"]
    assert all(r.delivered_at is not None and r.attempts == 1 for r in rows())


def test_a_receiver_that_fails_is_tried_again_by_the_sweep(
    env: dict[str, str], tmp_path: Path
) -> None:
    record(DownSink())
    assert deliveries.send(DownSink(), KIND, [1, 2, 3]) == 0  # logged, not raised
    assert [(r.attempts, r.delivered_at) for r in rows()] == [(1, None)] * 3
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
