"""Labels earned from reviews and appeals, exported as labelled history that training reads, on
a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.db.models import EnforcementAction, utcnow
from infra.registry import read_card
from tasks.accounts.signals import parse_record
from tasks.enforcement.appeals import decide_appeal
from tasks.neighbourhoods.memory import MemoryNeighbourStore
from tasks.offline.labelled import LabelledRecord, read_labelled
from tasks.offline.labels_export import export
from tasks.offline.training import TrainingConfig, train_on_file
from tasks.scoring.model import Scorer
from tests.people import person
from tests.records import messaging_accounts
from tests.stages.test_enforcement_body import apply, scored
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
        actor=person(session, "agent-7", "reviewer"),
        reason="a school's parent group",
        neighbours=MemoryNeighbourStore(),
        now=utcnow(),
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
        actor=person(session, "agent-7", "reviewer"),
        reason="confirmed",
        neighbours=MemoryNeighbourStore(),
        now=utcnow(),
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
        parsed = parse_record(
            line, LabelledRecord, now=utcnow()
        )  # what `bulkguard train --data` reads
        assert parsed.stage.value == "messaging"
        assert "messaging" in line


def test_labels_earned_on_a_run_train_a_new_version(
    session: Session, scorer: Scorer, tmp_path: Path
) -> None:
    """A run's people decisions, exported, are enough to train and card a new version: every
    review case decided and every automatic ban appealed, by the accounts' true behaviour."""
    records = messaging_accounts(3000, seed=11)
    truth = {r["account_id"]: bool(r["truth"]["label"]) for r in records}
    batch = scored(session, scorer, records)
    apply(session, scorer, batch.request)
    pending = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.action == "review", EnforcementAction.status == "pending"
        )
    ).all()
    for case in pending:
        decide(session, case.id, "ban" if truth[case.account_id] else "dismiss")
    bans = session.scalars(
        select(EnforcementAction).where(
            EnforcementAction.action == "ban", EnforcementAction.actor == "classifier"
        )
    ).all()
    for ban in bans:
        decide_appeal(
            session,
            ban.id,
            outcome="uphold" if truth[ban.account_id] else "overturn",
            actor=person(session, "agent-7", "reviewer"),
            reason="checked",
            neighbours=MemoryNeighbourStore(),
            now=utcnow(),
        )

    history = tmp_path / "labels.jsonl"
    history.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in export(session)))
    labelled = read_labelled(history)
    assert labelled.errors == []
    model_dir = train_on_file(labelled, TrainingConfig(trees=30, depth=4), tmp_path / "models")

    card = read_card(model_dir)
    assert card["data"]["source"] == "labelled file"
    assert set(card["data"]["label_sources"]) == {"review", "appeal"}
    assert card["data"]["rows"] == len(pending) + len(bans)
    messaging = card["metrics"]["stages"]["messaging"]
    assert "bands" in messaging, messaging  # both kinds of label at the stage: bands were set
    assert (model_dir / "model.ubj").is_file()
