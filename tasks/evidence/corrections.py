"""An operator's corrections to the company graph, as units of work: the change, its audit
record (``company_graph``) and a fresh legal evaluation of every company it reshaped, after the
withdrawal of the notices to it that were open (``legal.withdraw_drafts``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from infra.users import Actor, NotAllowedError, authorize
from tasks.evidence import company_graph
from tasks.evidence.company_graph import GraphError, Key
from tasks.messages import EvaluateCompany, FollowUp
from tasks.outcome import Outcome


def merge_companies(
    session: Session,
    survivor: int,
    others: Sequence[int],
    *,
    actor: Actor,
    reason: str,
    now: dt.datetime,
) -> Outcome:
    """Fold ``others`` into ``survivor`` (an operator's decision overrides a separation) at
    ``now``."""
    _authorize(session, actor)
    if not reason.strip():
        raise GraphError("a merge needs a reason, for the record")
    kept = company_graph.live_company(session, survivor).id
    withdrawals: list[FollowUp] = []
    for other in others:
        withdrawals += company_graph.merge(session, kept, other, actor=actor, reason=reason)
    return Outcome(
        {"company_id": kept, "merged": list(others)},
        follow_ups=withdrawals + _evaluate([kept], now),
    )


def split_company(
    session: Session,
    company_id: int,
    keys: Sequence[Key],
    *,
    actor: Actor,
    reason: str,
    now: dt.datetime,
    name: str | None = None,
) -> Outcome:
    """Move ``keys`` of ``company_id`` to a new company kept apart from it, at ``now``."""
    _authorize(session, actor)
    if not reason.strip():
        raise GraphError("a split needs a reason, for the record")
    new, withdrawal = company_graph.split(
        session, company_id, keys, actor=actor, reason=reason, name=name
    )
    # Withdrawing the old company's open notices evaluates it afresh, in that order: an
    # evaluation of its own could otherwise revise a notice about to be withdrawn.
    return Outcome(
        {"company_id": company_id, "new_company_id": new.id},
        follow_ups=withdrawal + _evaluate([new.id] if withdrawal else [company_id, new.id], now),
    )


def parse_key(text: str) -> Key:
    """``domain:acme.sk``, ``email:sales@acme.sk`` or ``phone:+421905111222``."""
    kind, _, value = text.partition(":")
    if kind not in company_graph.KEY_KINDS or not value:
        raise GraphError(
            f"{text!r} is not a key: write kind:value, kind one of "
            f"{', '.join(company_graph.KEY_KINDS)}"
        )
    return kind, value.strip().lower() if kind != "phone" else value.strip()


def _evaluate(company_ids: Sequence[int], now: dt.datetime) -> list[FollowUp]:
    # Each correction is its own event: the key carries its time, so a later one is not folded
    # into an earlier evaluation by the outbox's deduplication.
    at = now.isoformat()
    return [
        FollowUp(EvaluateCompany(company_id=c), dedupe_key=f"legal.evaluate:{c}:correction:{at}")
        for c in company_ids
    ]


def _authorize(session: Session, actor: Actor) -> None:
    """Counsel (or an admin) shapes the company graph: it decides whom a legal notice is
    addressed to."""
    try:
        authorize(session, actor, "counsel", "admin")
    except NotAllowedError as exc:
        raise GraphError(f"{exc}: merges and splits are counsel's or an admin's") from exc
