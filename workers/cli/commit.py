"""Committing as an operator: a person's decision goes through the unit of work the task shells
use (``tasks.outbox.commit``), so it is recorded, audited and followed up exactly as the workers'
own decisions are."""

from __future__ import annotations

from collections.abc import Callable

import click
from sqlalchemy.orm import Session

from infra.redaction import redact
from tasks.messages import Publisher
from tasks.outcome import Outcome


def commit_as_operator(
    work: Callable[[Session], Outcome],
    *,
    recorded_as: str,
    follow_ups: str = "the follow-ups",
    refused: tuple[type[Exception], ...] = (),
    publisher: Publisher | None = None,
) -> Outcome:
    """Run ``work`` in one transaction with its dead letters and follow-ups (recorded under the
    name ``recorded_as``), commit, then run its side effects and publish its follow-ups with
    ``publisher`` (the workers' Celery app unless given).

    An error of a ``refused`` kind (the decision is not allowed) commits nothing and stops the
    command with its message. A broker that cannot be reached does not undo what was committed:
    the command says so on stderr, naming ``follow_ups``, which the outbox sweep publishes."""
    from tasks import outbox

    if publisher is None:
        from workers.celery_app import app

        publisher = app

    try:
        committed = outbox.commit(publisher, work, task_name=recorded_as, task_id=None)
    except refused as exc:
        raise click.ClickException(str(exc)) from exc
    if committed.publish_error is not None:
        error = redact(f"{type(committed.publish_error).__name__}: {committed.publish_error}")
        click.echo(
            f"committed; the broker is unreachable ({error}), so the outbox sweep (run by beat) "
            f"will publish {follow_ups} once the broker answers",
            err=True,
        )
    return committed.outcome
