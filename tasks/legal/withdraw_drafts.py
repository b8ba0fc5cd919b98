"""``legal.withdraw_drafts``'s body: notices to a company that changed shape are withdrawn, and the
company it is now is evaluated afresh.

The evidence stage merges and splits companies (``tasks.evidence.company_graph``) and names the
notices that were open to the company then; nobody should sign a letter to half a company. Only
those notices are withdrawn, and only while they are still open, so a redelivered message
withdraws nothing a later evaluation drafted. The evaluation follows in the same transaction: an
evaluation before the withdrawal would revise a notice about to be withdrawn.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import Company, LegalNotice
from infra.users import Actor
from tasks.evidence.company_graph import live_company
from tasks.legal import notice_status
from tasks.legal.evaluate import evaluate_company
from tasks.legal.policy import Policy
from tasks.messages import EvaluateCompany, WithdrawDrafts
from tasks.outcome import Outcome


def withdraw_drafts(
    session: Session, request: WithdrawDrafts, *, policy: Policy, now: dt.datetime
) -> Outcome:
    """Withdraw ``request``'s notices still open, then evaluate the company at ``now``."""
    why = (
        f"company merged into {request.other_id}"
        if request.change == "merged"
        else f"keys split off to company {request.other_id}"
    )
    # The company's row first, as an evaluation locks it: two transactions never wait on each
    # other's locks the other way round.
    live = live_company(session, request.company_id)
    session.get(Company, live.id, with_for_update=True)
    notices = session.scalars(
        select(LegalNotice)
        .where(
            LegalNotice.id.in_(request.notice_ids),
            LegalNotice.company_id == request.company_id,
            LegalNotice.status.in_(notice_status.OPEN),
        )
        .order_by(LegalNotice.id)
        .with_for_update()
    ).all()
    for notice in notices:
        notice_status.move(
            session,
            notice,
            "withdrawn",
            why,
            actor=Actor(name=request.actor, user_id=request.actor_id, channel="worker"),
        )
    evaluated = evaluate_company(
        session, EvaluateCompany(company_id=request.company_id), policy=policy, now=now
    )
    return Outcome(
        {
            "company_id": request.company_id,
            "withdrawn": [n.reference for n in notices],
            "evaluated": evaluated.summary,
        },
        follow_ups=evaluated.follow_ups,
    )
