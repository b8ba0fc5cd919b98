"""The dead-lettering consumer does what Celery's handlers do with a message that never reaches a
task (acknowledge or reject it, the same signals and events), but logs none of its content."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from celery import signals
from celery.worker.consumer import Consumer
from kombu.exceptions import ContentDisallowed, DecodeError

from infra import dead_letters
from infra.redaction import RedactingFilter
from workers.consumer import WITHHELD, DeadLetteringConsumer, withhold_argument_reprs

PHONE = "+421986355464"
NAME = "Acme Bulk Sender Ltd"
BODY = json.dumps(
    [[], {"stage": "registration", "accounts": [{"phone": PHONE, "publisher": NAME}]}, {}]
).encode()


class FakeMessage:
    """The parts of a kombu message the handlers use, recording what is done to it."""

    def __init__(self, headers: dict[str, Any] | None) -> None:
        self.headers = headers
        self.body = BODY
        self.content_type = "application/json"
        self.content_encoding = "utf-8"
        self.delivery_info = {"routing_key": "scoring"}
        self.properties = {"correlation_id": "c-1", "reply_to": None}
        self.payload = {"id": "p-1", "task": "scoring.nope"}
        self.done: list[str] = []

    def ack(self) -> None:
        self.done.append("ack")

    def reject(self, requeue: bool = False) -> None:
        self.done.append(f"reject(requeue={requeue})")

    def requeue(self) -> None:
        self.reject(requeue=True)

    def reject_log_error(self, _logger: Any, _errors: Any, requeue: bool = False) -> None:
        self.reject(requeue=requeue)


def _headers(task: str = "scoring.score_accounts") -> dict[str, Any]:
    return {
        "task": task,
        "id": "t-1",
        "root_id": "t-1",
        "argsrepr": "()",
        "kwargsrepr": f"{{'accounts': [{{'phone': '{PHONE}', 'publisher': '{NAME}'}}]}}",
    }


def _bare(cls: type[Consumer]) -> Any:
    """A consumer with only what these handlers touch (Consumer's __init__ starts a worker)."""
    instance: Any = object.__new__(cls)
    instance.app = mock.Mock()
    instance.connection_errors = ()
    instance.event_dispatcher = mock.Mock()
    return instance


CASES = [
    ("on_decode_error", lambda m: (m, DecodeError("Expecting value: line 1 column 2")), _headers()),
    (
        "on_invalid_task",
        lambda m: (None, m, ContentDisallowed("Refusing to deserialize pickle")),
        _headers(),
    ),
    ("on_unknown_task", lambda m: (None, m, KeyError("scoring.nope")), _headers("scoring.nope")),
    ("on_unknown_message", lambda m: ({"phone": PHONE, "publisher": NAME}, m), None),
]


@pytest.fixture
def stored(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str | None, Any]]:
    kept: list[tuple[str, str | None, Any]] = []
    monkeypatch.setattr(
        "workers.consumer.dead_letters.store_standalone",
        lambda name, task_id, rejection: kept.append((name, task_id, rejection)),
    )
    return kept


def _run(
    cls: type[Consumer], handler: str, arguments: Any, headers: dict[str, Any] | None
) -> tuple[FakeMessage, Any, list[tuple[str, dict[str, Any]]]]:
    message = FakeMessage(dict(headers) if headers is not None else None)
    instance = _bare(cls)
    sent: list[tuple[str, dict[str, Any]]] = []

    def receiver(signal: str) -> Any:
        def record(sender: Any = None, **kwargs: Any) -> None:
            kwargs.pop("signal", None)
            sent.append((signal, kwargs))

        return record

    rejected, unknown = receiver("task_rejected"), receiver("task_unknown")
    signals.task_rejected.connect(rejected, weak=False)
    signals.task_unknown.connect(unknown, weak=False)
    try:
        getattr(instance, handler)(*arguments(message))
    finally:
        signals.task_rejected.disconnect(rejected)
        signals.task_unknown.disconnect(unknown)
    return message, instance, sent


@pytest.mark.parametrize(("handler", "arguments", "headers"), CASES, ids=[c[0] for c in CASES])
def test_the_message_is_handled_as_celery_would_handle_it(
    handler: str, arguments: Any, headers: dict[str, Any] | None, stored: list[Any]
) -> None:
    theirs, their_consumer, their_signals = _run(Consumer, handler, arguments, headers)
    ours, our_consumer, our_signals = _run(DeadLetteringConsumer, handler, arguments, headers)
    assert ours.done == theirs.done  # acknowledged or rejected (never requeued), exactly once
    assert [name for name, _ in our_signals] == [name for name, _ in their_signals]
    for (_, mine), (_, celery) in zip(our_signals, their_signals, strict=True):
        assert mine.keys() == celery.keys()
        assert (mine.get("name"), mine.get("id")) == (celery.get("name"), celery.get("id"))
    assert (
        our_consumer.event_dispatcher.send.call_args_list
        == their_consumer.event_dispatcher.send.call_args_list
    )
    assert [c.args[0] for c in our_consumer.app.backend.mark_as_failure.call_args_list] == [
        c.args[0] for c in their_consumer.app.backend.mark_as_failure.call_args_list
    ]
    # ... and it is kept, whole, as a dead letter.
    ((name, task_id, rejection),) = stored
    assert rejection.payload == BODY
    assert name == ((headers or {}).get("task") or "(unknown)")
    assert task_id == (headers or {}).get("id")


@pytest.mark.parametrize(("handler", "arguments", "headers"), CASES, ids=[c[0] for c in CASES])
def test_no_content_of_the_message_is_logged(
    handler: str,
    arguments: Any,
    headers: dict[str, Any] | None,
    stored: list[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with _without_redaction():
        _run(Consumer, handler, arguments, headers)
    assert PHONE in caplog.text  # Celery's own handler prints the body
    caplog.clear()
    _run(DeadLetteringConsumer, handler, arguments, headers)
    assert PHONE not in caplog.text
    assert NAME not in caplog.text
    (line,) = [r for r in caplog.records if r.name == "workers.consumer"]
    message = line.getMessage()
    assert f"body {len(BODY)} bytes" in message
    assert "application/json" in message
    assert "kept as a dead letter" in message
    if headers is not None:
        assert f"task {headers['task']} [t-1]" in message


@pytest.mark.parametrize(("handler", "arguments", "headers"), CASES, ids=[c[0] for c in CASES])
def test_a_message_whose_dead_letter_cannot_be_stored_is_requeued_not_lost(
    handler: str,
    arguments: Any,
    headers: dict[str, Any] | None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tries: list[str] = []

    def broken(name: str, *_: Any) -> None:
        tries.append(name)
        raise RuntimeError("database is locked")

    monkeypatch.setattr("workers.consumer.dead_letters.store_standalone", broken)
    monkeypatch.setattr("infra.dead_letters.STANDALONE_RETRY_WAITS", (0.0, 0.0))
    message, consumer, sent = _run(DeadLetteringConsumer, handler, arguments, headers)
    assert len(tries) == 3  # the first try and one per wait
    assert message.done == ["reject(requeue=True)"]  # back on its queue, nothing else done
    assert sent == []
    assert not consumer.app.backend.mark_as_failure.called
    assert "requeued, NOT kept" in caplog.text
    assert PHONE not in caplog.text


def test_a_store_that_recovers_within_its_tries_keeps_the_message(
    monkeypatch: pytest.MonkeyPatch, stored: list[Any]
) -> None:
    keep = dead_letters.store_standalone  # the fixture's recorder
    failures = iter([RuntimeError("database is locked")])

    def flaky(*arguments: Any) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        keep(*arguments)

    monkeypatch.setattr("workers.consumer.dead_letters.store_standalone", flaky)
    monkeypatch.setattr("infra.dead_letters.STANDALONE_RETRY_WAITS", (0.0,))
    message, _, _ = _run(DeadLetteringConsumer, "on_invalid_task", CASES[1][1], _headers())
    assert message.done == ["reject(requeue=False)"]
    assert len(stored) == 1


def test_argument_reprs_a_client_sent_are_withheld() -> None:
    headers = _headers()
    withhold_argument_reprs(headers)
    assert headers["argsrepr"] == headers["kwargsrepr"] == WITHHELD
    assert headers["task"] == "scoring.score_accounts"
    no_task: dict[str, Any] = {"argsrepr": "x"}
    withhold_argument_reprs(no_task)  # not a protocol 2 task message: left as it is
    assert no_task == {"argsrepr": "x"}
    withhold_argument_reprs(None)


@contextlib.contextmanager
def _without_redaction() -> Iterator[None]:
    """The root handlers as they are before any redaction: a CLI test earlier in the session may
    have installed the filter on them, and it rewrites records in place for every handler."""
    removed = [
        (handler, f)
        for handler in logging.getLogger().handlers
        for f in list(handler.filters)
        if isinstance(f, RedactingFilter)
    ]
    for handler, f in removed:
        handler.removeFilter(f)
    try:
        yield
    finally:
        for handler, f in removed:
            handler.addFilter(f)


class TakenMessage(FakeMessage):
    """A message that reaches the task handler: it can be decoded and knows if it was settled."""

    @property
    def acknowledged(self) -> bool:
        return bool(self.done)

    def decode(self) -> Any:
        return json.loads(self.body)


def _task_handler(fails_with: BaseException, settled_first: bool = False) -> Any:
    """The consumer's task handler around a Celery handler that raises ``fails_with``."""

    def celery_handler(message: Any) -> None:
        if settled_first:
            message.ack()
        raise fails_with

    consumer = _bare(DeadLetteringConsumer)
    consumer.connection_errors = (ConnectionError,)
    with mock.patch.object(Consumer, "create_task_handler", return_value=celery_handler):
        return consumer.create_task_handler()


def test_what_celery_still_raises_on_is_kept_and_acknowledged_once(
    stored: list[tuple[str, str | None, Any]],
) -> None:
    message = TakenMessage(_headers())
    _task_handler(RuntimeError("a header Celery could not read"))(message)
    assert message.done == ["ack"]
    ((_name, task_id, rejection),) = stored
    assert task_id == "t-1"
    assert "not a message Celery can take (RuntimeError: a header" in rejection.reason
    # A message Celery settled itself is not acknowledged again, nor kept: the error is raised.
    settled = TakenMessage(_headers())
    with pytest.raises(RuntimeError):
        _task_handler(RuntimeError("late"), settled_first=True)(settled)
    assert settled.done == ["ack"]
    # The broker going away is Celery's to handle (it reconnects; the broker redelivers).
    lost = TakenMessage(_headers())
    with pytest.raises(ConnectionError):
        _task_handler(ConnectionError("gone"))(lost)
    assert lost.done == []
    assert len(stored) == 1


def test_a_message_refused_by_the_checks_never_reaches_celery(
    stored: list[tuple[str, str | None, Any]],
) -> None:
    message = TakenMessage(_headers())
    message.body = b"{}"
    _task_handler(AssertionError("Celery's handler was called"))(message)
    assert message.done == ["ack"]
    assert "on queue 'scoring': refused message (application/json): a body that is a dict" in (
        stored[0][2].reason
    )
