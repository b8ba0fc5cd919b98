"""Committing as an operator (``workers.cli.commit``), on SQLite and PostgreSQL: a refused
decision commits nothing and stops the command with its reason; a decision the broker could not
be told of stands, and the command says the outbox sweep will publish what follows it."""

from __future__ import annotations

from typing import Any

import click
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.db.models import Company, OutboxMessage
from infra.db.session import session_scope
from tasks.messages import EvaluateCompany, FollowUp
from tasks.outcome import Outcome
from tests.broker import Broker
from workers.cli.commit import commit_as_operator


class NotAllowedError(Exception):
    pass


def merge(session: Session) -> Outcome:
    session.add(Company(name="Reach Media", normalized_name="reach media"))
    session.flush()
    return Outcome(
        {"merged": True},
        follow_ups=[FollowUp(EvaluateCompany(company_id=1), dedupe_key="legal.evaluate:1:op")],
    )


def refuse(session: Session) -> Outcome:
    merge(session)
    raise NotAllowedError("company 7 was merged into 3: correct 3 instead")


def rows(model: Any) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_decision_commits_and_its_follow_ups_are_published(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    broker = Broker()
    outcome = commit_as_operator(merge, recorded_as="cli.test", publisher=broker)
    assert outcome.summary == {"merged": True}
    assert broker.sent == [("legal.evaluate", {"company_id": 1})]
    assert capsys.readouterr().err == ""


def test_a_refused_decision_commits_nothing_and_says_why(env: dict[str, str]) -> None:
    broker = Broker()
    with pytest.raises(click.ClickException, match="correct 3 instead"):
        commit_as_operator(
            refuse, recorded_as="cli.test", refused=(NotAllowedError,), publisher=broker
        )
    assert (rows(Company), rows(OutboxMessage), broker.sent) == (0, 0, [])


def test_an_unreachable_broker_leaves_the_decision_and_says_the_sweep_sends_the_rest(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = commit_as_operator(
        merge,
        recorded_as="cli.test",
        follow_ups="the legal re-evaluation",
        publisher=Broker(down=True),
    )
    assert outcome.summary == {"merged": True}
    assert rows(Company) == 1
    with session_scope() as session:
        assert session.scalars(select(OutboxMessage.published_at)).one() is None
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "committed; the broker is unreachable (ConnectionError: broker unreachable), so the "
        "outbox sweep (run by beat) will publish the legal re-evaluation once the broker answers\n"
    )
