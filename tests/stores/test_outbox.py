"""The unit of work behind every task shell and the CLI (``tasks.outbox.commit``), on SQLite and
PostgreSQL: rows, dead letters and follow-ups commit together; side effects and publication
come after, and what could not be published waits for the sweep."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Company, DeadLetter, OutboxMessage, utcnow
from infra.db.session import session_scope
from infra.dead_letters import Rejection
from tasks import outbox
from tasks.messages import EvaluateCompany, FollowUp
from tasks.outcome import Outcome
from tests.broker import Broker


def count(model: Any) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def work(effects: list[str], *, fail: bool = False) -> Callable[[Session], Outcome]:
    def run(session: Session) -> Outcome:
        session.add(Company(name="Reach Media", normalized_name="reach media"))
        session.flush()
        if fail:
            raise RuntimeError("the body failed")
        return Outcome(
            {"done": True},
            follow_ups=[FollowUp(EvaluateCompany(company_id=1), dedupe_key="legal.evaluate:1:x")],
            rejected=[Rejection("records[1]: bad", {"a": 1}, 1)],
            after_commit=[lambda: effects.append("counted")],
        )

    return run


def test_rows_dead_letters_and_follow_ups_commit_then_publish(env: dict[str, str]) -> None:
    broker, effects = Broker(), list[str]()
    committed = outbox.commit(broker, work(effects), task_name="test.task", task_id="t-1")

    assert committed.outcome.summary == {"done": True}
    assert committed.publish_error is None
    assert (count(Company), count(DeadLetter), count(OutboxMessage)) == (1, 1, 1)
    assert effects == ["counted"]
    assert broker.sent == [("legal.evaluate", {"company_id": 1})]
    with session_scope() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.published_at is not None
        letter = session.scalars(select(DeadLetter)).one()
        assert (letter.task_name, letter.task_id, letter.record_index) == ("test.task", "t-1", 1)


def test_a_failing_body_leaves_nothing(env: dict[str, str]) -> None:
    broker, effects = Broker(), list[str]()
    with pytest.raises(RuntimeError, match="the body failed"):
        outbox.commit(broker, work(effects, fail=True), task_name="test.task", task_id=None)
    assert (count(Company), count(DeadLetter), count(OutboxMessage)) == (0, 0, 0)
    assert effects == []
    assert broker.sent == []


def test_a_failing_side_effect_does_not_undo_the_work(env: dict[str, str]) -> None:
    def broken(session: Session) -> Outcome:
        outcome = work([])(session)
        outcome.after_commit.insert(0, _counter_down)
        return outcome

    broker = Broker()
    committed = outbox.commit(broker, broken, task_name="test.task", task_id=None)
    assert committed.publish_error is None
    assert count(Company) == 1
    assert len(broker.sent) == 1


def test_what_the_broker_refused_is_published_by_the_sweep(env: dict[str, str]) -> None:
    committed = outbox.commit(Broker(down=True), work([]), task_name="test.task", task_id=None)
    assert isinstance(committed.publish_error, ConnectionError)
    assert count(Company) == 1  # the work stands
    with session_scope() as session:
        assert session.scalars(select(OutboxMessage.published_at)).one() is None

    broker = Broker()
    assert sweep(broker, older_than=dt.timedelta(minutes=1)).published == 0  # too recent
    assert sweep(broker).published == 1
    assert broker.sent == [("legal.evaluate", {"company_id": 1})]
    assert sweep(broker).published == 0


HOUR = outbox.Redelivery(after=dt.timedelta(hours=1), max_publications=3)
NOW = outbox.Redelivery(after=dt.timedelta(0), max_publications=3)


def sweep(
    broker: Broker,
    *,
    older_than: dt.timedelta = dt.timedelta(0),
    redelivery: outbox.Redelivery = HOUR,
) -> outbox.Swept:
    with session_scope() as session:
        return outbox.sweep(
            broker, session, older_than=older_than, redelivery=redelivery, now=utcnow()
        )


def consume(broker: Broker) -> None:
    """A consumer committing its effect for each message it got, as the task shell does."""
    for headers in broker.headers:
        outbox.commit(
            broker,
            lambda _session: Outcome({}),
            task_name="legal.evaluate",
            task_id=None,
            completes=headers[outbox.HEADER],
        )


def test_a_follow_up_is_done_when_its_consumer_commits_not_when_the_broker_takes_it(
    env: dict[str, str],
) -> None:
    broker = Broker()
    outbox.commit(broker, work([]), task_name="test.task", task_id=None)
    assert broker.headers == [{outbox.HEADER: "legal.evaluate:1:x"}]
    with session_scope() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert (row.publications, row.completed_at) == (1, None)
    consume(broker)
    with session_scope() as session:
        assert session.scalars(select(OutboxMessage.completed_at)).one() is not None
    broker.forget()
    assert sweep(broker, redelivery=NOW) == outbox.Swept(0, 0, 0)  # nothing to send again


def test_a_follow_up_the_broker_lost_is_published_again_until_it_is_done(
    env: dict[str, str],
) -> None:
    broker = Broker()
    outbox.commit(broker, work([]), task_name="test.task", task_id=None)
    broker.forget()  # accepted, then lost with the broker's memory

    assert sweep(broker).republished == 0  # not yet due: the consumer may just be busy
    assert sweep(broker, redelivery=NOW).republished == 1
    assert broker.sent == [("legal.evaluate", {"company_id": 1})]
    consume(broker)
    assert sweep(broker, redelivery=NOW).republished == 0
    with session_scope() as session:
        row = session.scalars(select(OutboxMessage)).one()
        assert row.publications == 2
        assert row.completed_at is not None


def test_a_follow_up_never_done_ends_as_a_dead_letter_for_replay(env: dict[str, str]) -> None:
    broker = Broker()
    outbox.commit(broker, lambda _session: _follow_up_only(), task_name="t", task_id=None)
    for _ in range(2):  # publications 2 and 3, each lost
        assert sweep(broker, redelivery=NOW).republished == 1
    assert sweep(broker, redelivery=NOW) == outbox.Swept(0, 0, 1)
    assert len(broker.sent) == 3
    assert sweep(broker, redelivery=NOW) == outbox.Swept(0, 0, 0)
    with session_scope() as session:
        letter = session.scalars(select(DeadLetter)).one()
        assert letter.task_name == "legal.evaluate"
        assert "published 3 times" in letter.reason
        assert letter.body_format == "kwargs"


def test_a_follow_up_queued_twice_is_kept_once(env: dict[str, str]) -> None:
    broker = Broker(down=True)
    for _ in range(2):  # a redelivered stage queues the same follow-up again
        outbox.commit(broker, lambda _session: _follow_up_only(), task_name="t", task_id=None)
    assert count(OutboxMessage) == 1


def _counter_down() -> None:
    raise ConnectionError("the counter's Redis is down")


def _follow_up_only() -> Outcome:
    return Outcome(
        {}, follow_ups=[FollowUp(EvaluateCompany(company_id=1), dedupe_key="legal.evaluate:1:x")]
    )


def _follow_ups(n: int) -> Callable[[Session], Outcome]:
    def run(_session: Session) -> Outcome:
        return Outcome(
            {},
            follow_ups=[
                FollowUp(EvaluateCompany(company_id=i), dedupe_key=f"legal.evaluate:{i}:x")
                for i in range(1, n + 1)
            ],
        )

    return run


def republish(broker: Broker, *, deadline: float, chunk: int) -> tuple[int, bool]:
    with session_scope() as session:
        return outbox.republish_unfinished(
            broker, session, now=utcnow(), deadline=deadline, chunk=chunk
        )


def test_after_a_broker_loss_every_unfinished_follow_up_is_published_again_at_once(
    env: dict[str, str],
) -> None:
    broker = Broker()
    outbox.commit(broker, _follow_ups(7), task_name="t", task_id=None)
    done = broker.headers[:2]
    broker.headers[:] = done
    consume(broker)  # two of them were done before the broker forgot
    broker.forget()
    assert sweep(broker).republished == 0  # an hour's wait: the ordinary sweep waits

    assert republish(broker, deadline=time.monotonic() + 60, chunk=2) == (5, True)
    assert sorted(kwargs["company_id"] for _, kwargs in broker.sent) == [3, 4, 5, 6, 7]
    with session_scope() as session:
        publications = session.scalars(
            select(OutboxMessage.publications).where(OutboxMessage.completed_at.is_(None))
        ).all()
    assert publications == [2] * 5
    # Published now: the ordinary wait starts again from here.
    assert sweep(broker, redelivery=outbox.Redelivery(dt.timedelta(minutes=1), 3)).republished == 0


def test_a_republication_out_of_time_says_so_and_the_next_one_starts_over(
    env: dict[str, str],
) -> None:
    broker = Broker()
    outbox.commit(broker, _follow_ups(5), task_name="t", task_id=None)
    broker.forget()
    assert republish(broker, deadline=time.monotonic() - 1, chunk=2) == (2, False)
    assert republish(broker, deadline=time.monotonic() + 60, chunk=2) == (5, True)
    assert len(broker.sent) == 7  # the first two twice: both rows are still unfinished
