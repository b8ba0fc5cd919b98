"""A person's decision taken from the console: the same body the CLI and the tasks call, in the
same unit of work (``tasks.outbox.commit``), so it is recorded, audited and followed up exactly
as theirs are. A refusal commits nothing and comes back as the reason, for the page to show."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from infra.users import NotAllowedError
from tasks import outbox
from tasks.outcome import Outcome
from workers.console.state import ConsoleState


class RefusedError(Exception):
    """A decision the body would not take: the message says why, for the person."""


def decide(
    state: ConsoleState,
    work: Callable[[Session], Outcome],
    *,
    recorded_as: str,
    refused: tuple[type[Exception], ...] = (),
) -> Outcome:
    """Run ``work`` in one transaction, commit, then publish its follow-ups. A broker that is
    down does not undo the decision: the outbox sweep publishes what it could not."""
    try:
        committed = outbox.commit(state.publisher, work, task_name=recorded_as, task_id=None)
    except (NotAllowedError, *refused) as exc:  # type: ignore[misc]  # a tuple of classes
        raise RefusedError(str(exc)) from exc
    return committed.outcome
