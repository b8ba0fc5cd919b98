"""``enforcement.deliver``'s body: the platform is told of each action in force, and of each
one that ended (a restriction's term ran out, an appeal overturned it), once each.

Every item carries its idempotency key, the moment it was issued and the account's standing
once the event is applied (``account_status``: banned, restricted or active, as bulkguard holds
it then). A receiver sets the account to the standing of the newest item it has seen for it, so a
late retry of a ban never overrides the lift that followed, and lifting a restriction under a ban
leaves the account banned (docs/platform-delivery.md).

A delivery that failed is sent again when an operator asks (``bulkguard deliveries retry``): the
operator's command only records the request, audited, with a follow-up to this stage's workers
(:func:`request_retries`); a worker sends each through the sink it failed on, or refuses to
(:func:`retry_deliveries`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from pydantic import ValidationError
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, aliased

from infra import deliveries
from infra.db.models import Account, Delivery, EnforcementAction
from infra.sink_contract import Sink
from infra.users import Actor, NotAllowedError, authorize
from tasks.messages import DeliverActions, FollowUp, RetryDeliveries
from tasks.outcome import Outcome
from tasks.payload import describe_validation_error

PLATFORM_ACTION = "platform_action"
PLATFORM_LIFT = "platform_lift"
PLATFORM_KINDS = (PLATFORM_ACTION, PLATFORM_LIFT)
ENDED = ("expired", "reversed")


def deliver_actions(
    session: Session,
    request: DeliverActions,
    *,
    sink: Sink,
    max_attempts: int,
    now: dt.datetime,
) -> Outcome:
    """Record the items that tell the platform of ``request``'s actions (issued at ``now``) and
    send them once that commits."""
    # Locked, so an appeal or expiry that ends one of them waits for this record (PostgreSQL),
    # and its own delivery then finds the action told and owes the lift; where that cannot be
    # enforced (SQLite reads without a lock) the sweep records lifts still owed (owed_lifts).
    actions = session.scalars(
        select(EnforcementAction)
        .where(EnforcementAction.id.in_(request.action_ids))
        .order_by(EnforcementAction.id)
        .with_for_update()
    ).all()
    standing: dict[str, str] = {
        row.account_id: row.status
        for row in session.execute(
            select(Account.account_id, Account.status).where(
                Account.account_id.in_({a.account_id for a in actions})
            )
        )
    }
    in_force = {
        a.id: _item(a, a.action, standing[a.account_id], now)
        for a in actions
        if a.status == "active"
    }
    ended = [a for a in actions if a.status in ENDED]
    # A lift is owed only for what the platform was told of (or may have been: an attempt in
    # flight); an action that ended before it was ever recorded for delivery was never made.
    told = set(
        session.scalars(
            select(Delivery.ref_id).where(
                Delivery.kind == PLATFORM_ACTION, Delivery.ref_id.in_([a.id for a in ended])
            )
        )
    )
    lifts = {a.id: _item(a, "lift", standing[a.account_id], now) for a in ended if a.id in told}
    # An action not yet taken by the receiver need not be: the lift follows it either way.
    if lifts:
        session.execute(
            update(Delivery)
            .where(
                Delivery.kind == PLATFORM_ACTION,
                Delivery.ref_id.in_(list(lifts)),
                # Failed, or failed and waiting for a retry an operator asked for.
                Delivery.status.in_((deliveries.FAILED, deliveries.RETRY_REQUESTED)),
            )
            .values(status="cancelled")
        )
    recorded = [
        (kind, ids)
        for kind, ids in (
            (PLATFORM_ACTION, deliveries.record(session, sink, PLATFORM_ACTION, in_force)),
            (PLATFORM_LIFT, deliveries.record(session, sink, PLATFORM_LIFT, lifts)),
        )
        if ids
    ]
    # Sent once the record has committed: an outage before then sends nothing.
    return Outcome(
        {"recorded": sum(len(ids) for _, ids in recorded)},
        after_commit=[_sender(sink, kind, ids, max_attempts) for kind, ids in recorded],
    )


def owed_lifts(session: Session, limit: int = 1000) -> Outcome:
    """Follow-ups for the lifts owed but never recorded: an action the platform was told of
    that has since ended (a delivery and an appeal crossed)."""
    told = aliased(Delivery)
    lifted = aliased(Delivery)
    owed = list(
        session.scalars(
            select(told.ref_id)
            .join(EnforcementAction, EnforcementAction.id == told.ref_id)
            .where(
                told.kind == PLATFORM_ACTION,
                EnforcementAction.status.in_(ENDED),
                ~exists().where(lifted.kind == PLATFORM_LIFT, lifted.ref_id == told.ref_id),
            )
            .order_by(told.ref_id)
            .limit(limit)
        )
    )
    if not owed:
        return Outcome({"lifts_owed": 0})
    return Outcome(
        {"lifts_owed": len(owed)},
        follow_ups=[
            FollowUp(
                DeliverActions(action_ids=owed),
                dedupe_key=f"enforcement.deliver:owed:{owed[0]}:{owed[-1]}:{len(owed)}",
            )
        ],
    )


class RetryError(ValueError):
    """A retry that cannot be asked for: the reason says why."""


def request_retries(
    session: Session,
    *,
    actor: Actor,
    kinds: Collection[str] | None,
    ids: Collection[int] | None,
    now: dt.datetime,
) -> Outcome:
    """An operator's request, at ``now``, to send the failed platform deliveries (of ``kinds``,
    among ``ids``: all when not given) again: each marked and audited as asked by ``actor``,
    and handed to the enforcement workers, which send it through the sink it failed on.
    ``actor`` must hold ``admin``."""
    try:
        authorize(session, actor, "admin")
    except NotAllowedError as exc:
        raise RetryError(f"{exc}: retrying deliveries is an admin's") from exc
    if kinds is not None and (other := sorted(set(kinds) - set(PLATFORM_KINDS))):
        raise RetryError(
            f"only {' and '.join(PLATFORM_KINDS)} deliveries are sent again, not {', '.join(other)}"
        )
    requested = deliveries.request_retry(
        session, actor=actor, kinds=kinds or PLATFORM_KINDS, ids=ids
    )
    chunks = [
        requested[start : start + deliveries.BATCH]
        for start in range(0, len(requested), deliveries.BATCH)
    ]
    try:
        follow_ups = [
            FollowUp(
                RetryDeliveries(
                    delivery_ids=chunk, requested_by=actor.name, requested_by_id=actor.user_id
                ),
                # Unique per request: a delivery retried, failed again and retried is sent again.
                dedupe_key=f"{RetryDeliveries.TASK}:{chunk[0]}:{len(chunk)}:{now:%Y%m%dT%H%M%S.%f}",
            )
            for chunk in chunks
        ]
    except ValidationError as exc:  # the actor: rolled back with the rest
        raise RetryError(describe_validation_error(exc)) from None
    return Outcome({"requested": requested}, follow_ups=follow_ups)


def retry_deliveries(
    session: Session,
    request: RetryDeliveries,
    *,
    sink: Callable[[], Sink],
    max_attempts: int,
) -> Outcome:
    """Send the deliveries of ``request`` through this worker's ``sink`` (built on demand) once
    they are taken, each only if it failed on that sink; the others fail again, with the reason,
    rather than reach a receiver they were not meant for."""
    try:
        target: Sink | None = sink()
        no_sink = ""
    except ValueError as exc:  # misconfigured: nothing can be sent, and the rows say why
        target, no_sink = None, f"this worker has no usable sink ({exc})"
    taken = deliveries.take_retries(
        session,
        request.delivery_ids,
        target,
        actor=Actor(request.requested_by, request.requested_by_id, "worker"),
        no_sink=no_sink,
    )
    # Rows neither taken nor refused were no longer waiting: taken before (the message came
    # again) or cancelled by a lift since.
    summary = {"taken": len(taken.ids), "refused": taken.refused}
    if target is None or not taken.ids:
        return Outcome(summary)
    return Outcome(summary, after_commit=[_resender(target, taken.ids, max_attempts)])


def _item(
    action: EnforcementAction, event: str, account_status: str, now: dt.datetime
) -> dict[str, Any]:
    lifted = event == "lift"
    return {
        "idempotency_key": f"{'lift' if lifted else 'action'}-{action.id}",
        "event": event,
        "action_id": action.id,
        "account_id": action.account_id,
        "account_status": account_status,
        "action": action.action,
        "expires_at": None
        if lifted or action.expires_at is None
        else action.expires_at.isoformat(),
        "reason": action.status if lifted else action.rule,
        "policy_version": action.policy_version,
        "model_version": action.model_version,
        # What the account holder is shown: the statement of reasons, for an action, and for the
        # lift of one overturned on appeal, the statement noted so (``lift_on_appeal``); a lift
        # by expiry needs none (its ``reason`` says how the action ended).
        "statement_of_reasons": (
            action.statement
            if not lifted or (action.statement or {}).get("lifted_at") is not None
            else None
        ),
        "issued_at": now.isoformat(),
    }


def _sender(sink: Sink, kind: str, ids: list[int], max_attempts: int) -> Callable[[], None]:
    def send() -> None:
        deliveries.send(sink, kind, ids, max_attempts=max_attempts)

    return send


def _resender(sink: Sink, ids: list[int], max_attempts: int) -> Callable[[], None]:
    def send() -> None:
        deliveries.resend(sink, ids, max_attempts=max_attempts)

    return send
