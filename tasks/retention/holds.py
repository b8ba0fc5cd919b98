"""Legal hold: what is kept past its retention period, and why.

Held, whatever its age: an action in force (active, or scheduled to be), a review waiting for a
person, an action with an appeal not yet decided, evidence cited by a legal notice that is open
or was sent (and the ban such evidence is of), and whatever a person put on hold with a reason
(:func:`hold`; an account, an action or a piece of evidence). A hold ends by itself when what
caused it ends (the ban is lifted, the appeal decided, the notice withdrawn), or when a person
releases it (:func:`release`); the next retention run then deletes what has expired.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.orm import Session

from infra.db.models import (
    OPEN_NOTICE_STATUSES,
    Account,
    AppealRequest,
    AuditEvent,
    EnforcementAction,
    Evidence,
    LegalNotice,
    RetentionHold,
)
from infra.users import Actor, authorize

HoldKind = Literal["account", "action", "evidence"]
HOLD_KINDS: tuple[HoldKind, ...] = get_args(HoldKind)
# Statuses of an action that is in force, or about to be.
IN_FORCE = ("active", "scheduled")
# A notice that was sent (and perhaps answered or escalated since) is the company's legal file.
SENT_NOTICE_STATUSES = ("sent", "acknowledged", "escalated")
CITING_NOTICE_STATUSES = OPEN_NOTICE_STATUSES + SENT_NOTICE_STATUSES


class HoldError(ValueError):
    """A hold that cannot be put on or released as asked, with why."""


@dataclass(frozen=True)
class Holds:
    """The holds of one moment that are lists of ids (a person's holds, and the evidence that
    notices cite); the others are conditions on the rows themselves (:func:`action_held`)."""

    accounts: frozenset[str] = frozenset()
    actions: frozenset[int] = frozenset()
    evidence: frozenset[int] = frozenset()
    # Evidence cited by an open or sent notice, a subset of ``evidence``.
    cited: frozenset[int] = frozenset()


def current(session: Session) -> Holds:
    manual: dict[str, set[str]] = {kind: set() for kind in HOLD_KINDS}
    for kind, ref in session.execute(
        select(RetentionHold.kind, RetentionHold.ref).where(RetentionHold.released_at.is_(None))
    ):
        manual[kind].add(ref)
    cited: set[int] = set()
    for ids in session.scalars(
        select(LegalNotice.cited_evidence).where(LegalNotice.status.in_(CITING_NOTICE_STATUSES))
    ):
        cited.update(int(i) for i in ids or ())
    evidence = cited | {int(ref) for ref in manual["evidence"]}
    actions = {int(ref) for ref in manual["action"]}
    if evidence:
        # The ban a held piece of evidence is of: the evidence stands only while the ban does.
        actions.update(
            a
            for a in session.scalars(
                select(Evidence.action_id).where(
                    Evidence.id.in_(evidence), Evidence.action_id.is_not(None)
                )
            )
            if a is not None
        )
    return Holds(
        frozenset(manual["account"]), frozenset(actions), frozenset(evidence), frozenset(cited)
    )


def _in(column: Any, values: frozenset[Any]) -> ColumnElement[bool]:
    return column.in_(sorted(values)) if values else false()


def action_held(
    holds: Holds, action: type[EnforcementAction] | Any = EnforcementAction
) -> ColumnElement[bool]:
    """Whether a row of ``action`` (the table, or an alias of it) is on hold."""
    return or_(
        action.status.in_(IN_FORCE),
        and_(action.action == "review", action.status == "pending"),
        exists().where(AppealRequest.action_id == action.id, AppealRequest.appeal_id.is_(None)),
        _in(action.id, holds.actions),
        _in(action.account_id, holds.accounts),
    )


def evidence_held(holds: Holds, evidence: type[Evidence] | Any = Evidence) -> ColumnElement[bool]:
    return or_(_in(evidence.id, holds.evidence), _in(evidence.account_id, holds.accounts))


def account_held(holds: Holds, column: Any) -> ColumnElement[bool]:
    return _in(column, holds.accounts)


def why_action_held(  # noqa: PLR0911 - one answer per kind of hold, in order
    session: Session, action: EnforcementAction, holds: Holds
) -> str | None:
    """Why ``action`` is on hold, in words for the person who asked, or None."""
    if action.status in IN_FORCE:
        return f"{action.action} {action.status}: an action in force is kept until it ends"
    if action.action == "review" and action.status == "pending":
        return "review pending: a person has yet to decide it"
    if session.scalar(
        select(AppealRequest.id).where(
            AppealRequest.action_id == action.id, AppealRequest.appeal_id.is_(None)
        )
    ):
        return "appeal open: kept until it is decided"
    if action.account_id in holds.accounts:
        return f"account on legal hold: {_reason(session, 'account', action.account_id)}"
    if action.id in holds.actions:
        reason = _reason(session, "action", str(action.id))
        if reason is not None:
            return f"action on legal hold: {reason}"
        return "evidence of it is cited by a legal notice that is open or was sent"
    return None


def why_evidence_held(session: Session, evidence: Evidence, holds: Holds) -> str | None:
    if evidence.id in holds.cited:
        return "cited by a legal notice that is open or was sent"
    if evidence.id in holds.evidence:
        return f"evidence on legal hold: {_reason(session, 'evidence', str(evidence.id))}"
    if evidence.account_id is not None and evidence.account_id in holds.accounts:
        return f"account on legal hold: {_reason(session, 'account', evidence.account_id)}"
    return None


def _reason(session: Session, kind: str, ref: str) -> str | None:
    return session.scalar(
        select(RetentionHold.reason).where(
            RetentionHold.kind == kind,
            RetentionHold.ref == ref,
            RetentionHold.released_at.is_(None),
        )
    )


def hold(
    session: Session, *, kind: str, ref: str, reason: str, actor: Actor, now: dt.datetime
) -> RetentionHold:
    """Put ``ref`` on legal hold, as an admin, with the reason; audited."""
    authorize(session, actor, "admin")
    _check(session, kind, ref, reason)
    if _reason(session, kind, ref) is not None:
        raise HoldError(f"{kind} {ref} is already on hold")
    row = RetentionHold(kind=kind, ref=ref, reason=reason, held_by_id=actor.user_id, held_at=now)
    session.add(row)
    session.flush()
    _audit(session, row, "held", actor=actor, now=now, reason=reason)
    return row


def release(
    session: Session, *, kind: str, ref: str, reason: str, actor: Actor, now: dt.datetime
) -> RetentionHold:
    """End a person's hold on ``ref``, as an admin, with the reason; audited. What it kept is
    deleted by the next retention run if it has expired and nothing else holds it."""
    authorize(session, actor, "admin")
    _check(session, kind, ref, reason, must_exist=False)
    row = session.scalar(
        select(RetentionHold).where(
            RetentionHold.kind == kind,
            RetentionHold.ref == ref,
            RetentionHold.released_at.is_(None),
        )
    )
    if row is None:
        raise HoldError(f"{kind} {ref} is not on hold")
    row.released_at, row.released_by_id, row.release_reason = now, actor.user_id, reason
    session.flush()
    _audit(session, row, "released", actor=actor, now=now, reason=reason)
    return row


def _check(session: Session, kind: str, ref: str, reason: str, *, must_exist: bool = True) -> None:
    if kind not in HOLD_KINDS:
        raise HoldError(f"no hold kind {kind!r}: the kinds are {', '.join(HOLD_KINDS)}")
    if not reason.strip():
        raise HoldError("a hold needs a reason")
    if kind != "account" and not ref.isdigit():
        raise HoldError(f"{kind} ids are numbers; got {ref!r}")
    if not must_exist:
        return
    model: Any = {"account": Account, "action": EnforcementAction, "evidence": Evidence}[kind]
    found = session.get(model, ref if kind == "account" else int(ref))
    if found is None:
        raise HoldError(f"no {kind} {ref}")


def _audit(
    session: Session, row: RetentionHold, event: str, *, actor: Actor, now: dt.datetime, reason: str
) -> None:
    # The hold's row names what it holds; the trail names the hold and its kind only, so that
    # erasing an account later leaves no trace of it here.
    session.add(
        AuditEvent(
            entity="retention_hold",
            entity_id=row.id,
            event=event,
            at=now,
            details={"kind": row.kind, "reason": reason},
            **actor.recorded(),
        )
    )
