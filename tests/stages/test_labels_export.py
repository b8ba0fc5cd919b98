"""Labels earned from reviews and appeals, exported as labelled history that training reads, on
a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction
from tasks.enforcement.appeals import decide_appeal
from tasks.offline.labelled import LabelledRecord
from tasks.offline.labels_export import export
from tasks.scoring.model import Scorer
from tasks.scoring.neighbourhoods.memory import MemoryNeighbourStore
from tests.stages.test_reviews_and_expiry import decide, reviews


def test_people_decisions_become_labelled_records_training_reads(
    session: Session, scorer: Scorer
) -> None:
    first, second, third, *_ = reviews(session, scorer)
    decide(session, first.id, "ban")
    decide(session, second.id, "dismiss")
    decide(session, third.id, "restrict")
    # The ban a person decided is overturned on appeal: the later, closer look wins.
    made = session.scalars(
        select(EnforcementAction).where(EnforcementAction.origin_id == first.id)
    ).one()
    decide_appeal(
        session,
        made.id,
        outcome="overturn",
        actor="agent-7",
        reason="a school's parent group",
        neighbours=MemoryNeighbourStore(),
    )
    automatic = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.action == "ban", EnforcementAction.actor == "classifier"
        )
    ).first()
    assert automatic is not None
    decide_appeal(
        session,
        automatic.id,
        outcome="uphold",
        actor="agent-7",
        reason="confirmed",
        neighbours=MemoryNeighbourStore(),
    )

    lines = list(export(session))

    by_account = {line["account_id"]: line for line in lines}
    assert len(lines) == len(by_account) == 4
    expected = {
        first.account_id: (False, "appeal"),
        second.account_id: (False, "review"),
        third.account_id: (True, "review"),
        automatic.account_id: (True, "appeal"),
    }
    assert {a: (x["label"], x["label_source"]) for a, x in by_account.items()} == expected
    for line in lines:
        parsed = LabelledRecord.model_validate(line)  # what `bulkguard train --data` reads
        assert parsed.stage.value == "messaging"
        assert "messaging" in line
