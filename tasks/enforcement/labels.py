"""Labels earned from people's decisions: what a reviewer or an appeal found an account to be,
kept against the score that was decided, for training on the platform's own outcomes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from infra.db.inserts import insert_ignore
from infra.db.models import EnforcementAction, Label


def keep(
    session: Session, action: EnforcementAction, *, abusive: bool, source: str, decided_by: str
) -> None:
    """One label per score and source: a decision sent twice labels once."""
    session.execute(
        insert_ignore(session, Label),
        [
            {
                "account_id": action.account_id,
                "score_id": action.score_id,
                "abusive": abusive,
                "source": source,
                "action_id": action.id,
                "decided_by": decided_by,
            }
        ],
    )
