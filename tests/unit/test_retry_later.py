"""What a task shell raises to run a message again: a retry with backoff, or, when the broker
refuses even the retry, the message put back in its queue, never rejected for good."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from celery.exceptions import Reject, Retry

from tasks import outbox
from tasks.pipeline import run_again


class Task:
    """What ``run_again`` uses of a Celery task: its request and ``retry``."""

    name = "scoring.score_accounts"

    def __init__(self, *, broker_down: bool) -> None:
        self.broker_down = broker_down
        self.request = SimpleNamespace(id="t-1", retries=2)
        self.calls: list[dict[str, Any]] = []

    def retry(self, **options: Any) -> Retry:
        self.calls.append(options)
        if self.broker_down:
            # What Celery does when publishing the retry fails.
            raise Reject(ConnectionError("broker down"), requeue=False)
        return Retry("again", when=options["countdown"])


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr("tasks.pipeline.time.sleep", waits.append)
    return waits


def test_a_retry_waits_and_keeps_the_outbox_key() -> None:
    task = Task(broker_down=False)
    raised = run_again(task, ConnectionError("db"), "legal.evaluate:1:x")  # type: ignore[arg-type]
    assert isinstance(raised, Retry)
    (call,) = task.calls
    assert 0 <= call["countdown"] <= 8  # 2 ** (retries + 1), jittered
    assert call["headers"] == {outbox.HEADER: "legal.evaluate:1:x"}
    assert call["max_retries"] is None  # within the task's own budget


def test_past_the_budget_the_retry_is_allowed_once_more() -> None:
    task = Task(broker_down=False)
    run_again(task, ConnectionError("db"), None, past_budget=True)  # type: ignore[arg-type]
    (call,) = task.calls
    assert call["max_retries"] == 3
    assert "headers" not in call


def test_a_retry_the_broker_refuses_puts_the_message_back(no_waiting: list[float]) -> None:
    task = Task(broker_down=True)
    raised = run_again(task, ConnectionError("db"), "k")  # type: ignore[arg-type]
    assert isinstance(raised, Reject)
    assert raised.requeue is True  # type: ignore[attr-defined]
    assert len(no_waiting) == 1  # after a short wait, not at once
