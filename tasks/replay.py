"""Dead letters sent again: ``bulkguard dead-letters replay``.

A dead letter that kept its whole message (``infra.dead_letters``) can be sent to its task again
once the cause is fixed: a record refused by an older decoder, a defect since repaired, a database
that was down for longer than the retry budget. Each is re-sent through the outbox under the key
``replay:<dead letter id>`` and marked replayed in the same transaction, so replaying twice sends
nothing twice. The task validates what it gets as it does any client's input: a message that is
still bad is kept again, as a new dead letter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.models import AuditEvent, DeadLetter
from infra.dead_letters import read_replay
from infra.users import Actor, authorize
from tasks.messages import MESSAGES, FollowUp, Resend
from tasks.outcome import Outcome

_TASKS = frozenset(m.TASK for m in MESSAGES)


@dataclass(frozen=True)
class Skipped:
    dead_letter_id: int
    why: str


@dataclass
class Plan:
    """What a replay sends (dead letter id and message) and what it cannot."""

    send: list[tuple[int, Resend]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> dict[str, list[list[Any]]]:
        """As JSON: ``sent`` (dead letter id, task) and ``skipped`` (dead letter id, why)."""
        return {
            "sent": [[letter_id, message.TASK] for letter_id, message in self.send],
            "skipped": [[s.dead_letter_id, s.why] for s in self.skipped],
        }


def plan(
    session: Session, *, reason: str, task_name: str | None = None, limit: int = 10_000
) -> Plan:
    """The dead letters not yet replayed whose reason contains ``reason`` (case-insensitive),
    of ``task_name`` if given, oldest first, and what each would send."""
    query = (
        select(DeadLetter)
        .where(DeadLetter.replayed_at.is_(None), DeadLetter.reason.icontains(reason))
        .order_by(DeadLetter.id)
        .limit(limit)
    )
    if task_name is not None:
        query = query.where(DeadLetter.task_name == task_name)
    out = Plan()
    for letter in session.scalars(query):
        message = _message(letter)
        if isinstance(message, str):
            out.skipped.append(Skipped(letter.id, message))
        else:
            out.send.append((letter.id, message))
    return out


def replay(session: Session, planned: Plan, *, actor: Actor, now: dt.datetime) -> Outcome:
    """Send ``planned`` through the outbox and mark its dead letters replayed at ``now`` by
    ``actor``, an admin. Replaying gives a message no authority: a decision in it is checked
    again by its task (a service's signature, a person's role) as when it first arrived."""
    authorize(session, actor, "admin")
    ids = [letter_id for letter_id, _ in planned.send]
    if ids:
        session.execute(
            update(DeadLetter)
            .where(DeadLetter.id.in_(ids), DeadLetter.replayed_at.is_(None))
            .values(replayed_at=now, replayed_by_id=actor.user_id)
        )
        session.add_all(
            AuditEvent(
                entity="dead_letter",
                entity_id=letter_id,
                event="replayed",
                at=now,
                details={"task": message.TASK},
                **actor.recorded(),
            )
            for letter_id, message in planned.send
        )
    return Outcome(
        planned.summary(),
        follow_ups=[
            FollowUp(message, dedupe_key=f"replay:{letter_id}")
            for letter_id, message in planned.send
        ],
    )


def _message(letter: DeadLetter) -> Resend | str:
    """The message to send again, or why there is none."""
    if letter.task_name not in _TASKS:
        return f"{letter.task_name!r} is not a task: nothing to send it to"
    if letter.body is None or letter.body_format is None:
        return "the message was not kept whole (not JSON, or too large)"
    try:
        decoded = read_replay(letter.body, letter.body_format)
    except ValueError as exc:
        return f"still cannot be decoded: {exc}"
    kwargs = decoded if letter.body_format == "kwargs" else _celery_kwargs(decoded)
    if not isinstance(kwargs, dict):
        return "the message carries no keyword arguments (positional arguments are refused)"
    try:
        # The outbox keeps the message as JSON: what cannot be encoded cannot be re-sent.
        orjson.dumps(kwargs)
    except orjson.JSONEncodeError as exc:
        return f"cannot be re-sent as JSON: {exc}"
    return Resend(letter.task_name, kwargs)


def _celery_kwargs(body: Any) -> Any:
    """The keyword arguments of a Celery JSON message body: protocol 2 is ``[args, kwargs,
    embed]``, protocol 1 an object with ``args`` and ``kwargs``."""
    if isinstance(body, list) and len(body) == 3 and not body[0]:
        return body[1]
    if isinstance(body, dict) and not body.get("args"):
        return body.get("kwargs")
    return None
